//! The HTTP routes of the API, read once at start from the `google.api.http` annotations in
//! the descriptor set, so the protos are the only place a route is declared.
//!
//! Path templates are limited to what the API uses: literal segments, an optional `:verb`
//! suffix on the last one, and single-segment variables `{field.path}`. Anything else
//! (`{name=a/*}`, `**`, custom methods, additional bindings, `response_body`) is refused at
//! start rather than served half right.

use prost_reflect::{DescriptorPool, ExtensionDescriptor, MethodDescriptor, Value};

/// Where a request's fields come from besides the path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BodyRule {
    /// No body: every field not bound by the path is a query parameter.
    Query,
    /// `body: "*"`: the JSON body is the request message (one per line when the method
    /// streams requests).
    Whole,
}

/// One HTTP binding of an RPC.
#[derive(Debug, Clone)]
pub struct Route {
    pub http_method: http::Method,
    /// The template as declared, e.g. `/v1/certificates/{id}`.
    pub template: String,
    /// The gRPC path the call is sent to, e.g. `/certequiv.v1.CertificateService/GetCertificate`.
    pub grpc_path: String,
    pub method: MethodDescriptor,
    /// Request fields bound by path variables, in template order.
    pub path_fields: Vec<String>,
    pub body: BodyRule,
    /// Requests and answers are newline-delimited JSON, one message per line (a method that
    /// streams both ways, answering each request with one message in order).
    pub streaming: bool,
}

/// The outcome of matching a request line.
#[derive(Debug)]
pub enum Matched<'a> {
    Found(&'a Route, Vec<(String, String)>),
    /// The path exists with other methods.
    MethodNotAllowed(Vec<http::Method>),
    NotFound,
}

/// Every route, matched by path then method.
#[derive(Debug)]
pub struct RouteTable {
    router: matchit::Router<usize>,
    /// For each distinct path template, its routes.
    by_path: Vec<Vec<Route>>,
}

impl RouteTable {
    /// Reads the routes of every service in `pool`. An RPC without an annotation has no route.
    pub fn from_pool(pool: &DescriptorPool) -> Result<RouteTable, String> {
        let extension = http_extension(pool)?;
        let mut table = RouteTable {
            router: matchit::Router::new(),
            by_path: Vec::new(),
        };
        let mut templates: Vec<String> = Vec::new();
        for service in pool.services() {
            for method in service.methods() {
                let Some(route) = route(&extension, &method)? else {
                    continue;
                };
                // matchit uses the same `{name}` syntax for a one-segment variable.
                let key = route.template.clone();
                let index = match templates.iter().position(|t| *t == key) {
                    Some(index) => index,
                    None => {
                        table
                            .router
                            .insert(key.clone(), templates.len())
                            .map_err(|e| format!("route {}: {e}", route.template))?;
                        templates.push(key);
                        table.by_path.push(Vec::new());
                        templates.len() - 1
                    }
                };
                if table.by_path[index]
                    .iter()
                    .any(|r| r.http_method == route.http_method)
                {
                    return Err(format!(
                        "{} {} is bound twice",
                        route.http_method, route.template
                    ));
                }
                table.by_path[index].push(route);
            }
        }
        Ok(table)
    }

    /// Every route, in declaration order.
    pub fn routes(&self) -> impl Iterator<Item = &Route> {
        self.by_path.iter().flatten()
    }

    /// Matches a raw (still percent-encoded) path; variables are returned as matched.
    pub fn lookup(&self, method: &http::Method, path: &str) -> Matched<'_> {
        let Ok(found) = self.router.at(path) else {
            return Matched::NotFound;
        };
        let routes = &self.by_path[*found.value];
        // HEAD is not served: the API has no cacheable documents worth it.
        match routes.iter().find(|r| r.http_method == *method) {
            Some(route) => {
                let params = found
                    .params
                    .iter()
                    .map(|(k, v)| (k.to_owned(), v.to_owned()))
                    .collect();
                Matched::Found(route, params)
            }
            None => {
                Matched::MethodNotAllowed(routes.iter().map(|r| r.http_method.clone()).collect())
            }
        }
    }
}

fn http_extension(pool: &DescriptorPool) -> Result<ExtensionDescriptor, String> {
    pool.get_extension_by_name("google.api.http")
        .ok_or_else(|| "the descriptor set lacks google/api/annotations.proto".to_owned())
}

/// The route of one method, if it is annotated.
fn route(
    extension: &ExtensionDescriptor,
    method: &MethodDescriptor,
) -> Result<Option<Route>, String> {
    let options = method.options();
    if !options.has_extension(extension) {
        return Ok(None);
    }
    let name = method.full_name().to_owned();
    let rule = match &*options.get_extension(extension) {
        Value::Message(rule) => rule.clone(),
        _ => return Err(format!("{name}: google.api.http is not a message")),
    };
    let text = |field: &str| match rule.get_field_by_name(field).as_deref() {
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let mut binding = None;
    for (field, verb) in [
        ("get", http::Method::GET),
        ("put", http::Method::PUT),
        ("post", http::Method::POST),
        ("delete", http::Method::DELETE),
        ("patch", http::Method::PATCH),
    ] {
        let template = text(field);
        if !template.is_empty() {
            binding = Some((verb, template));
        }
    }
    let Some((http_method, template)) = binding else {
        return Err(format!(
            "{name}: only get/put/post/delete/patch bindings are supported"
        ));
    };
    if !text("response_body").is_empty() {
        return Err(format!("{name}: response_body is not supported"));
    }
    if matches!(rule.get_field_by_name("additional_bindings").as_deref(), Some(Value::List(l)) if !l.is_empty())
    {
        return Err(format!("{name}: additional_bindings are not supported"));
    }
    let body = match text("body").as_str() {
        "" => BodyRule::Query,
        "*" => BodyRule::Whole,
        other => {
            return Err(format!(
                "{name}: body {other:?} is not supported, use \"*\""
            ));
        }
    };
    let path_fields = template_variables(&template).map_err(|e| format!("{name}: {e}"))?;
    let input = method.input();
    for field in &path_fields {
        if field.contains('.') || input.get_field_by_name(field).is_none() {
            return Err(format!(
                "{name}: path variable {{{field}}} is not a top-level field of {}",
                input.full_name()
            ));
        }
    }
    let streaming = match (method.is_client_streaming(), method.is_server_streaming()) {
        (false, false) => false,
        (true, true) => true,
        _ => {
            return Err(format!(
                "{name}: only unary and bidirectional streaming methods are supported"
            ));
        }
    };
    if streaming && (body != BodyRule::Whole || !path_fields.is_empty()) {
        return Err(format!(
            "{name}: a streaming method takes body \"*\" and no path variables"
        ));
    }
    if body == BodyRule::Whole && http_method == http::Method::GET {
        return Err(format!("{name}: a GET binding has no body"));
    }
    let service = method.parent_service();
    Ok(Some(Route {
        http_method,
        template,
        grpc_path: format!("/{}/{}", service.full_name(), method.name()),
        method: method.clone(),
        path_fields,
        body,
        streaming,
    }))
}

/// The variables of a template, checking it is of the supported shape.
fn template_variables(template: &str) -> Result<Vec<String>, String> {
    let Some(rest) = template.strip_prefix('/') else {
        return Err(format!("template {template:?} does not start with /"));
    };
    let mut variables = Vec::new();
    let segments: Vec<&str> = rest.split('/').collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        if let Some(inner) = segment.strip_prefix('{') {
            let Some(name) = inner.strip_suffix('}') else {
                return Err(format!(
                    "template {template:?}: a variable must be a whole segment"
                ));
            };
            if name.is_empty()
                || !name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.')
            {
                return Err(format!(
                    "template {template:?}: unsupported variable {{{name}}}"
                ));
            }
            variables.push(name.to_owned());
        } else {
            let (literal, verb) = match segment.split_once(':') {
                Some((literal, verb)) if last => (literal, verb),
                Some(_) => {
                    return Err(format!(
                        "template {template:?}: ':' only before a final verb"
                    ));
                }
                None => (*segment, "x"),
            };
            let ok = |s: &str| {
                !s.is_empty()
                    && s.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            };
            if !ok(literal) || !ok(verb) {
                return Err(format!(
                    "template {template:?}: unsupported segment {segment:?}"
                ));
            }
        }
    }
    Ok(variables)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table() -> RouteTable {
        let pool = DescriptorPool::decode(certequiv_api::FILE_DESCRIPTOR_SET).unwrap();
        RouteTable::from_pool(&pool).unwrap()
    }

    #[test]
    fn every_rpc_of_the_api_has_its_route() {
        let table = table();
        let mut routes: Vec<String> = table
            .routes()
            .map(|r| format!("{} {} -> {}", r.http_method, r.template, r.grpc_path))
            .collect();
        routes.sort();
        assert_eq!(
            routes,
            [
                "GET /v1/catalogs -> /certequiv.v1.CertificateService/ListCatalogs",
                "GET /v1/catalogs/{id} -> /certequiv.v1.CertificateService/GetCatalog",
                "GET /v1/certificates -> /certequiv.v1.CertificateService/ListCertificates",
                "GET /v1/certificates/{id} -> /certequiv.v1.CertificateService/GetCertificate",
                "POST /v1/certificates:search -> /certequiv.v1.CertificateService/SearchCertificates",
                "POST /v1/equivalence:batchEvaluate -> /certequiv.v1.EquivalenceService/BatchEvaluate",
                "POST /v1/equivalence:evaluate -> /certequiv.v1.EquivalenceService/EvaluateEquivalence",
            ]
        );
        let batch = table
            .routes()
            .find(|r| r.template.ends_with("batchEvaluate"))
            .unwrap();
        assert!(batch.streaming && batch.body == BodyRule::Whole);
    }

    #[test]
    fn lookup_tells_a_wrong_method_from_an_unknown_path() {
        let table = table();
        match table.lookup(&http::Method::GET, "/v1/certificates/fcca") {
            Matched::Found(route, params) => {
                assert!(route.grpc_path.ends_with("/GetCertificate"));
                assert_eq!(params, [("id".to_owned(), "fcca".to_owned())]);
            }
            other => panic!("{other:?}"),
        }
        match table.lookup(&http::Method::POST, "/v1/certificates:search") {
            Matched::Found(route, _) => assert!(route.grpc_path.ends_with("/SearchCertificates")),
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            table.lookup(&http::Method::DELETE, "/v1/certificates/fcca"),
            Matched::MethodNotAllowed(m) if m == [http::Method::GET]
        ));
        assert!(matches!(
            table.lookup(&http::Method::GET, "/v2/x"),
            Matched::NotFound
        ));
        assert!(matches!(
            table.lookup(&http::Method::GET, "/v1/certificates/a/b"),
            Matched::NotFound
        ));
    }

    #[test]
    fn unsupported_templates_are_refused() {
        assert_eq!(template_variables("/v1/things/{id}").unwrap(), ["id"]);
        assert_eq!(template_variables("/v1/a:b").unwrap(), Vec::<String>::new());
        for bad in [
            "v1/x",
            "/v1/{name=things/*}",
            "/v1/**",
            "/v1/a:b/c",
            "/v1/x{id}",
            "/v1//x",
            "/v1/{id}:do",
        ] {
            assert!(template_variables(bad).is_err(), "{bad}");
        }
    }
}
