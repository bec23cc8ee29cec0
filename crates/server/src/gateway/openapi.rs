//! The OpenAPI 3.1 document of the HTTP/JSON API, generated from the descriptor set, never
//! written by hand: operations from the `google.api.http` routes, schemas from the messages as
//! canonical ProtoJSON writes them, descriptions from the proto comments. Served at
//! `GET /openapi.json`, committed as `docs/openapi.json` (a test fails when they differ;
//! `certequiv openapi > docs/openapi.json` rewrites it).

use std::collections::{BTreeMap, HashMap};

use prost_reflect::{
    DescriptorPool, EnumDescriptor, FieldDescriptor, FileDescriptor, Kind, MessageDescriptor,
};
use serde_json::{Map, Value, json};

use super::routes::{BodyRule, Route, RouteTable};

const STATUS: &str = "google.rpc.Status";
const ANY: &str = "google.protobuf.Any";

/// The document for `routes`.
pub fn document(pool: &DescriptorPool, routes: &RouteTable) -> Value {
    let comments = Comments::new(pool);
    let mut schemas = Schemas {
        comments: &comments,
        out: BTreeMap::new(),
    };
    let mut paths: BTreeMap<String, Map<String, Value>> = BTreeMap::new();
    let mut tags: BTreeMap<String, String> = BTreeMap::new();
    for route in routes.routes() {
        let service = route.method.parent_service();
        let service_comment = comments.get(&service.parent_file(), service.path());
        tags.insert(service.name().to_owned(), service_comment);
        let operation = operation(route, &comments, &mut schemas);
        paths
            .entry(route.template.clone())
            .or_default()
            .insert(route.http_method.as_str().to_ascii_lowercase(), operation);
    }
    if let Some(status) = pool.get_message_by_name(STATUS) {
        schemas.add_message(&status);
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "certequiv HTTP/JSON API",
            "version": "v1",
            "summary": "International professional certificates as Chinese professional title levels (职称).",
            "description": DESCRIPTION,
            "license": {"name": "Apache-2.0", "identifier": "Apache-2.0"},
        },
        "tags": tags.into_iter().map(|(name, description)| json!({"name": name, "description": description})).collect::<Vec<_>>(),
        "security": [{}, {"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas.out,
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "Required on every route when the server runs with --auth-tokens-file.",
                },
            },
        },
    })
}

const DESCRIPTION: &str = "Generated from proto/ (the google.api.http annotations and the proto \
comments); the same calls as the gRPC API, served by the same process. Bodies are canonical \
ProtoJSON: lowerCamelCase field names, enum values by name, 64-bit integers as strings, and \
fields at their default value (empty string, 0, false, the UNSPECIFIED enum value, empty list) \
omitted. Requests may also use the proto field names, enum numbers, and numbers as strings, as \
ProtoJSON allows; unknown fields are refused. Errors are a google.rpc.Status (code is the gRPC \
code number) with the standard HTTP status. See docs/http.md.";

/// The document as committed and served: pretty-printed, one trailing newline.
pub fn to_pretty_json(document: &Value) -> String {
    let mut text = serde_json::to_string_pretty(document).unwrap_or_default();
    text.push('\n');
    text
}

fn operation(route: &Route, comments: &Comments, schemas: &mut Schemas<'_>) -> Value {
    let method = &route.method;
    let description = comments.get(&method.parent_file(), method.path());
    let input = method.input();
    let output = method.output();
    let mut operation = Map::new();
    operation.insert("operationId".into(), json!(method.name()));
    operation.insert("tags".into(), json!([method.parent_service().name()]));
    operation.insert("summary".into(), json!(first_sentence(&description)));
    operation.insert("description".into(), json!(description));

    let mut parameters = Vec::new();
    for name in &route.path_fields {
        if let Some(field) = input.get_field_by_name(name) {
            parameters.push(json!({
                "name": name,
                "in": "path",
                "required": true,
                "description": schemas.comments.field(&field),
                "schema": schemas.param(&field),
            }));
        }
    }
    if route.body == BodyRule::Query {
        query_parameters(&input, "", &route.path_fields, schemas, &mut parameters, 0);
    }
    if !parameters.is_empty() {
        operation.insert("parameters".into(), Value::Array(parameters));
    }

    let input_ref = schemas.reference(&input);
    let output_ref = schemas.reference(&output);
    if route.body == BodyRule::Whole {
        let content = if route.streaming {
            json!({
                "application/x-ndjson": {"schema": input_ref},
                "application/json": {"schema": input_ref},
            })
        } else {
            json!({"application/json": {"schema": input_ref}})
        };
        let description = if route.streaming {
            "Newline-delimited JSON: one request message per line (a single JSON object is one line)."
        } else {
            "The request message as JSON."
        };
        operation.insert(
            "requestBody".into(),
            json!({"required": false, "description": description, "content": content}),
        );
    }
    let ok = if route.streaming {
        json!({
            "description": "Newline-delimited JSON: one answer per request line, in order. A failure of the whole stream ends it with a line {\"status\": google.rpc.Status}.",
            "content": {"application/x-ndjson": {"schema": output_ref}},
        })
    } else {
        json!({"description": "OK", "content": {"application/json": {"schema": output_ref}}})
    };
    let status_ref = json!({"$ref": format!("#/components/schemas/{STATUS}")});
    operation.insert(
        "responses".into(),
        json!({
            "200": ok,
            "default": {
                "description": "An error: google.rpc.Status with the standard HTTP status (400 INVALID_ARGUMENT or FAILED_PRECONDITION, 401, 403, 404, 408 body not complete in time, 413 body too large, 415, 429 with Retry-After, 500, 503, 504).",
                "content": {"application/json": {"schema": status_ref}},
            },
        }),
    );
    Value::Object(operation)
}

/// The fields of a GET route's request as query parameters, message fields flattened with
/// dots (`filter.field`), by their proto names.
fn query_parameters(
    message: &MessageDescriptor,
    prefix: &str,
    skip: &[String],
    schemas: &mut Schemas<'_>,
    out: &mut Vec<Value>,
    depth: usize,
) {
    for field in message.fields() {
        let name = format!("{prefix}{}", field.name());
        if skip.contains(&name) || field.is_map() {
            continue;
        }
        match field.kind() {
            Kind::Message(inner) if !field.is_list() => {
                if depth < 4 {
                    query_parameters(&inner, &format!("{name}."), skip, schemas, out, depth + 1);
                }
            }
            Kind::Message(_) => {}
            _ => out.push(json!({
                "name": name,
                "in": "query",
                "required": false,
                "description": schemas.comments.field(&field),
                "schema": schemas.param(&field),
            })),
        }
    }
}

/// The component schemas, added as they are referenced.
struct Schemas<'a> {
    comments: &'a Comments,
    out: BTreeMap<String, Value>,
}

impl Schemas<'_> {
    fn reference(&mut self, message: &MessageDescriptor) -> Value {
        self.add_message(message);
        json!({"$ref": format!("#/components/schemas/{}", message.full_name())})
    }

    fn add_message(&mut self, message: &MessageDescriptor) {
        let name = message.full_name().to_owned();
        if self.out.contains_key(&name) {
            return;
        }
        // A placeholder first, so a recursive message refers to itself instead of looping.
        self.out.insert(name.clone(), Value::Null);
        let mut properties = Map::new();
        for field in message.fields() {
            let mut schema = self.field(&field);
            let description = self.comments.field(&field);
            if let (Value::Object(map), false) = (&mut schema, description.is_empty()) {
                map.insert("description".into(), json!(description));
            }
            properties.insert(field.json_name().to_owned(), schema);
        }
        let mut schema = Map::new();
        schema.insert("type".into(), json!("object"));
        let description = self.comments.get(&message.parent_file(), message.path());
        if !description.is_empty() {
            schema.insert("description".into(), json!(description));
        }
        schema.insert("properties".into(), Value::Object(properties));
        schema.insert("additionalProperties".into(), json!(false));
        // At most one member of a oneof: no two of them together.
        let mut pairs = Vec::new();
        for oneof in message.oneofs().filter(|o| !o.is_synthetic()) {
            let members: Vec<String> = oneof.fields().map(|f| f.json_name().to_owned()).collect();
            for (i, a) in members.iter().enumerate() {
                for b in &members[i + 1..] {
                    pairs.push(json!({"required": [a, b]}));
                }
            }
        }
        if !pairs.is_empty() {
            schema.insert("not".into(), json!({"anyOf": pairs}));
        }
        self.out.insert(name, Value::Object(schema));
    }

    fn add_enum(&mut self, e: &EnumDescriptor) {
        let name = e.full_name().to_owned();
        if self.out.contains_key(&name) {
            return;
        }
        let mut description = self.comments.get(&e.parent_file(), e.path());
        let mut values = Vec::new();
        for value in e.values() {
            values.push(json!(value.name()));
            let comment = self.comments.get(&value.parent_file(), value.path());
            if !comment.is_empty() {
                if !description.is_empty() {
                    description.push('\n');
                }
                description.push_str(&format!(
                    "- {}: {}",
                    value.name(),
                    comment.replace('\n', " ")
                ));
            }
        }
        let mut schema = json!({"type": "string", "enum": values});
        if !description.is_empty() {
            schema["description"] = json!(description);
        }
        self.out.insert(name, schema);
    }

    /// A field's schema in a JSON body: what canonical ProtoJSON writes, and everything a
    /// ProtoJSON parser accepts besides (null for "unset", integers as strings, enum numbers),
    /// so the document matches what the server takes.
    fn field(&mut self, field: &FieldDescriptor) -> Value {
        if field.is_map() {
            let value = match field.kind() {
                Kind::Message(entry) => entry.map_entry_value_field().kind(),
                other => other,
            };
            let values = self.kind(&value, Mode::Item);
            return json!({"type": ["object", "null"], "additionalProperties": values});
        }
        if field.is_list() {
            let items = self.kind(&field.kind(), Mode::Item);
            return json!({"type": ["array", "null"], "items": items});
        }
        self.kind(&field.kind(), Mode::Body)
    }

    /// A field's schema as a query parameter (a string on the wire; null does not exist).
    fn param(&mut self, field: &FieldDescriptor) -> Value {
        let schema = self.kind(&field.kind(), Mode::Param);
        if field.is_list() {
            json!({"type": "array", "items": schema})
        } else {
            schema
        }
    }

    fn kind(&mut self, kind: &Kind, mode: Mode) -> Value {
        let nullable = mode == Mode::Body;
        let types = |base: &[&str]| {
            let mut types: Vec<&str> = base.to_vec();
            if mode == Mode::Param {
                types.truncate(1);
            }
            if nullable {
                types.push("null");
            }
            if types.len() == 1 {
                json!(types[0])
            } else {
                json!(types)
            }
        };
        let mut schema = match kind {
            Kind::Double | Kind::Float => json!({
                "type": types(&["number", "string"]),
                "format": if matches!(kind, Kind::Double) { "double" } else { "float" },
                "pattern": "^(-?[0-9]+(\\.[0-9]+)?([eE][-+]?[0-9]+)?|NaN|-?Infinity)$",
            }),
            Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => json!({
                "type": types(&["integer", "string"]), "format": "int32",
                "minimum": i32::MIN, "maximum": i32::MAX, "pattern": "^-?[0-9]+$",
            }),
            Kind::Uint32 | Kind::Fixed32 => json!({
                "type": types(&["integer", "string"]), "format": "int64",
                "minimum": 0, "maximum": u32::MAX, "pattern": "^[0-9]+$",
            }),
            // Written as strings (JSON numbers lose precision past 2^53).
            Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => json!({
                "type": types(&["string", "integer"]), "format": "int64",
                "minimum": i64::MIN, "maximum": i64::MAX, "pattern": "^-?[0-9]+$",
            }),
            Kind::Uint64 | Kind::Fixed64 => json!({
                "type": types(&["string", "integer"]), "format": "uint64",
                "minimum": 0, "maximum": u64::MAX, "pattern": "^[0-9]+$",
            }),
            Kind::Bool => json!({"type": types(&["boolean"])}),
            Kind::String => json!({"type": types(&["string"])}),
            Kind::Bytes => json!({"type": types(&["string"]), "contentEncoding": "base64"}),
            Kind::Enum(e) => {
                self.add_enum(e);
                // Written by name; a number is accepted too.
                let mut any = vec![
                    json!({"$ref": format!("#/components/schemas/{}", e.full_name())}),
                    json!({"type": "integer", "format": "int32", "minimum": i32::MIN, "maximum": i32::MAX}),
                ];
                if nullable {
                    any.push(json!({"type": "null"}));
                }
                json!({"anyOf": any})
            }
            Kind::Message(m) if m.full_name() == ANY => json!({
                "type": "object",
                "description": "A message of the type named by @type, with its fields beside it.",
                "properties": {"@type": {"type": "string"}},
                "required": ["@type"],
                "additionalProperties": true,
            }),
            Kind::Message(m) => {
                let reference = self.reference(m);
                if nullable {
                    json!({"anyOf": [reference, {"type": "null"}]})
                } else {
                    reference
                }
            }
        };
        // A query parameter is text: a pattern would hide the integer type.
        if let (Mode::Param, Value::Object(map)) = (mode, &mut schema)
            && (map.get("type") == Some(&json!("integer"))
                || map.get("type") == Some(&json!("number")))
        {
            map.remove("pattern");
        }
        schema
    }
}

/// Where a schema is used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// A field of a JSON body: nullable.
    Body,
    /// An element of a list or map in a JSON body: not nullable.
    Item,
    /// A path or query parameter: one type, not nullable.
    Param,
}

/// Leading comments of every element, by file and source path.
struct Comments(HashMap<(String, Vec<i32>), String>);

impl Comments {
    fn new(pool: &DescriptorPool) -> Comments {
        let mut map = HashMap::new();
        for file in pool.files() {
            let proto = file.file_descriptor_proto();
            let Some(info) = &proto.source_code_info else {
                continue;
            };
            for location in &info.location {
                if let Some(comment) = &location.leading_comments {
                    let text = clean(comment);
                    if !text.is_empty() {
                        map.insert((file.name().to_owned(), location.path.clone()), text);
                    }
                }
            }
        }
        Comments(map)
    }

    fn get(&self, file: &FileDescriptor, path: &[i32]) -> String {
        self.0
            .get(&(file.name().to_owned(), path.to_vec()))
            .cloned()
            .unwrap_or_default()
    }

    fn field(&self, field: &FieldDescriptor) -> String {
        self.get(&field.parent_file(), field.path())
    }
}

/// A comment without its leading spaces and without lint directives.
fn clean(comment: &str) -> String {
    comment
        .lines()
        .map(|line| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .filter(|line| !line.starts_with("buf:lint:"))
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

fn first_sentence(text: &str) -> String {
    let flat = text.replace('\n', " ");
    match flat.find(". ") {
        Some(end) => flat[..=end].to_owned(),
        None => flat,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gateway::descriptor_pool;

    fn generated() -> Value {
        let pool = descriptor_pool().unwrap();
        let routes = RouteTable::from_pool(&pool).unwrap();
        document(&pool, &routes)
    }

    /// The committed copy is what the code generates: regenerate it with
    /// `cargo run -p certequiv-server -- openapi > docs/openapi.json`.
    #[test]
    fn the_committed_document_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/openapi.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == to_pretty_json(&generated()),
            "docs/openapi.json differs from the document generated from proto/: run \
             `cargo run -p certequiv-server -- openapi > docs/openapi.json` and commit it"
        );
    }

    #[test]
    fn operations_parameters_and_schemas_come_from_the_protos() {
        let doc = generated();
        assert_eq!(doc["openapi"], "3.1.0");
        let get = &doc["paths"]["/v1/certificates/{id}"]["get"];
        assert_eq!(get["operationId"], "GetCertificate");
        assert!(
            get["description"]
                .as_str()
                .unwrap()
                .starts_with("Returns one certificate by its stable id.")
        );
        assert!(!get["description"].as_str().unwrap().contains("buf:lint"));
        let names: Vec<&str> = doc["paths"]["/v1/certificates"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert!(
            names.contains(&"filter.field")
                && names.contains(&"page_token")
                && names.contains(&"as_of"),
            "{names:?}"
        );
        let certificate = &doc["components"]["schemas"]["certequiv.v1.Certificate"];
        assert_eq!(
            certificate["properties"]["titleLevel"]["anyOf"][0]["$ref"],
            "#/components/schemas/certequiv.v1.TitleLevel"
        );
        assert_eq!(certificate["additionalProperties"], false);
        let level = &doc["components"]["schemas"]["certequiv.v1.TitleLevel"];
        assert!(
            level["enum"]
                .as_array()
                .unwrap()
                .contains(&json!("TITLE_LEVEL_ASSOCIATE_SENIOR"))
        );
        let claim = &doc["components"]["schemas"]["certequiv.v1.CertificateClaim"];
        assert_eq!(
            claim["not"]["anyOf"][0]["required"],
            json!(["certificateId", "text"])
        );
        let batch = &doc["paths"]["/v1/equivalence:batchEvaluate"]["post"];
        assert!(batch["requestBody"]["content"]["application/x-ndjson"].is_object());
        // What ProtoJSON writes first, then what it also accepts.
        assert_eq!(
            doc["components"]["schemas"]["google.rpc.Status"]["properties"]["code"]["type"],
            json!(["integer", "string", "null"])
        );
        let reload = &doc["components"]["schemas"]["certequiv.v1.ReloadStatus"];
        assert_eq!(
            reload["properties"]["failuresTotal"]["type"],
            json!(["string", "integer", "null"])
        );
        let page_size = doc["paths"]["/v1/certificates"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "page_size")
            .unwrap();
        assert_eq!(page_size["schema"]["type"], "integer");
    }
}
