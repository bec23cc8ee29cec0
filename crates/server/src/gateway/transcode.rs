//! ProtoJSON to protobuf and back for any message of the descriptor set (prost-reflect does
//! the mapping; nothing here knows a message), request fields from path and query parameters,
//! and the gRPC length-prefixed framing.

use std::collections::HashSet;

use base64::Engine;
use bytes::{Buf, BufMut, Bytes, BytesMut};
use prost_reflect::{
    DeserializeOptions, DynamicMessage, FieldDescriptor, Kind, MessageDescriptor, ReflectMessage,
    SerializeOptions, Value,
};

/// A request message from a JSON body. Empty (or blank) means the empty message; unknown
/// fields are refused, as a typo in a field name would otherwise be silently ignored.
pub fn from_json(desc: &MessageDescriptor, json: &[u8]) -> Result<DynamicMessage, String> {
    if json.iter().all(u8::is_ascii_whitespace) {
        return Ok(DynamicMessage::new(desc.clone()));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(json);
    let options = DeserializeOptions::new().deny_unknown_fields(true);
    let message =
        DynamicMessage::deserialize_with_options(desc.clone(), &mut deserializer, &options)
            .map_err(|e| format!("invalid JSON for {}: {e}", desc.full_name()))?;
    deserializer
        .end()
        .map_err(|e| format!("invalid JSON for {}: {e}", desc.full_name()))?;
    Ok(message)
}

/// Canonical ProtoJSON: lowerCamelCase names, enum names, fields at their default value
/// omitted, 64-bit integers as strings; non-ASCII text as UTF-8, unescaped.
pub fn to_json(message: &DynamicMessage) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(prost::Message::encoded_len(message) * 2);
    let mut serializer = serde_json::Serializer::new(&mut out);
    message
        .serialize_with_options(&mut serializer, &SerializeOptions::new())
        .map_err(|e| {
            format!(
                "cannot write {} as JSON: {e}",
                message.descriptor().full_name()
            )
        })?;
    Ok(out)
}

/// Sets the field at `path` (`page_size`, `filter.field`; proto or JSON names) from the text of
/// a path or query parameter. `seen` holds the paths set so far: a singular field may be given
/// once, a repeated one any number of times.
pub fn set_param(
    message: &mut DynamicMessage,
    path: &str,
    raw: &str,
    seen: &mut HashSet<String>,
) -> Result<(), String> {
    let parts: Vec<&str> = path.split('.').collect();
    let repeated = set_path(message, &parts, raw).map_err(|e| format!("{path}: {e}"))?;
    if !repeated && !seen.insert(path.to_owned()) {
        return Err(format!("{path}: given more than once"));
    }
    Ok(())
}

/// Returns whether the field is repeated.
fn set_path(message: &mut DynamicMessage, parts: &[&str], raw: &str) -> Result<bool, String> {
    let Some((name, rest)) = parts.split_first() else {
        return Err("empty parameter name".into());
    };
    let desc = message.descriptor();
    let field = desc
        .get_field_by_name(name)
        .or_else(|| desc.get_field_by_json_name(name))
        .ok_or_else(|| {
            format!(
                "unknown parameter (no field {name:?} in {})",
                desc.full_name()
            )
        })?;
    if !rest.is_empty() {
        if field.is_list() || field.is_map() || !matches!(field.kind(), Kind::Message(_)) {
            return Err(format!("{name} has no fields to set"));
        }
        return match message.get_field_mut(&field) {
            Value::Message(inner) => set_path(inner, rest, raw),
            _ => Err(format!("{name} has no fields to set")),
        };
    }
    if field.is_map() {
        return Err("a map cannot be a query parameter".into());
    }
    let value = scalar(&field, raw)?;
    if field.is_list() {
        match message.get_field_mut(&field) {
            Value::List(values) => values.push(value),
            _ => return Err("not a list".into()),
        }
        return Ok(true);
    }
    message
        .try_set_field(&field, value)
        .map_err(|e| e.to_string())?;
    Ok(false)
}

/// The value of a scalar field written as text, as ProtoJSON writes it.
fn scalar(field: &FieldDescriptor, raw: &str) -> Result<Value, String> {
    fn parse<T: std::str::FromStr>(raw: &str, what: &str) -> Result<T, String> {
        raw.parse().map_err(|_| format!("{raw:?} is not {what}"))
    }
    Ok(match field.kind() {
        Kind::String => Value::String(raw.to_owned()),
        Kind::Bool => match raw {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => return Err(format!("{raw:?} is not true or false")),
        },
        Kind::Int32 | Kind::Sint32 | Kind::Sfixed32 => Value::I32(parse(raw, "a 32-bit integer")?),
        Kind::Int64 | Kind::Sint64 | Kind::Sfixed64 => Value::I64(parse(raw, "a 64-bit integer")?),
        Kind::Uint32 | Kind::Fixed32 => Value::U32(parse(raw, "an unsigned 32-bit integer")?),
        Kind::Uint64 | Kind::Fixed64 => Value::U64(parse(raw, "an unsigned 64-bit integer")?),
        Kind::Float => Value::F32(parse(raw, "a number")?),
        Kind::Double => Value::F64(parse(raw, "a number")?),
        Kind::Bytes => {
            let engines = [
                base64::engine::general_purpose::STANDARD,
                base64::engine::general_purpose::URL_SAFE,
            ];
            let decoded = engines.iter().find_map(|e| e.decode(raw).ok());
            Value::Bytes(
                decoded
                    .ok_or_else(|| format!("{raw:?} is not base64"))?
                    .into(),
            )
        }
        Kind::Enum(e) => match e.get_value_by_name(raw) {
            Some(value) => Value::EnumNumber(value.number()),
            None => match raw.parse::<i32>() {
                Ok(number) => Value::EnumNumber(number),
                Err(_) => {
                    let names: Vec<String> = e.values().map(|v| v.name().to_owned()).collect();
                    return Err(format!("{raw:?} is not one of {}", names.join(", ")));
                }
            },
        },
        Kind::Message(m) => {
            return Err(format!(
                "{} is a message: set its fields as {}.<field>",
                m.name(),
                field.name()
            ));
        }
    })
}

/// One gRPC message frame: uncompressed flag, big-endian length, the message.
pub fn frame(message: &[u8]) -> Result<Bytes, String> {
    let len = u32::try_from(message.len()).map_err(|_| "message over 4 GiB".to_owned())?;
    let mut out = BytesMut::with_capacity(5 + message.len());
    out.put_u8(0);
    out.put_u32(len);
    out.put_slice(message);
    Ok(out.freeze())
}

/// Splits a gRPC response body into its messages as its chunks arrive.
#[derive(Debug, Default)]
pub struct Deframer {
    buffer: BytesMut,
}

impl Deframer {
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole message, if it has arrived.
    pub fn next_message(&mut self) -> Result<Option<Bytes>, String> {
        if self.buffer.len() < 5 {
            return Ok(None);
        }
        if self.buffer[0] != 0 {
            return Err("compressed gRPC message".into());
        }
        let len = u32::from_be_bytes([
            self.buffer[1],
            self.buffer[2],
            self.buffer[3],
            self.buffer[4],
        ]) as usize;
        if self.buffer.len() < 5 + len {
            return Ok(None);
        }
        self.buffer.advance(5);
        Ok(Some(self.buffer.split_to(len).freeze()))
    }
}

#[cfg(test)]
mod tests {
    use prost::Message;
    use prost_reflect::DescriptorPool;

    use super::*;

    fn pool() -> DescriptorPool {
        DescriptorPool::decode(certequiv_api::FILE_DESCRIPTOR_SET).unwrap()
    }

    fn desc(name: &str) -> MessageDescriptor {
        pool().get_message_by_name(name).unwrap()
    }

    #[test]
    fn json_bodies_become_the_protobuf_the_generated_types_decode() {
        let json = r#"{"correlationId":"c-1","claims":[{"text":"ＣＦＡ"}],
            "applicant":{"target_title_level":"TITLE_LEVEL_SENIOR","domesticQualifications":[1]}}"#;
        let message = from_json(
            &desc("certequiv.v1.EvaluateEquivalenceRequest"),
            json.as_bytes(),
        )
        .unwrap();
        let decoded = certequiv_api::v1::EvaluateEquivalenceRequest::decode(
            message.encode_to_vec().as_slice(),
        )
        .unwrap();
        assert_eq!(decoded.correlation_id, "c-1");
        assert_eq!(decoded.claims.len(), 1);
        let applicant = decoded.applicant.unwrap();
        assert_eq!(
            applicant.target_title_level,
            certequiv_api::v1::TitleLevel::Senior as i32
        );
        assert_eq!(applicant.domestic_qualifications, [1]);
    }

    #[test]
    fn unknown_fields_wrong_types_and_trailing_text_are_refused_with_the_reason() {
        let d = desc("certequiv.v1.SearchCertificatesRequest");
        let cases = [
            (r#"{"qurey":"x"}"#, "unrecognized field name 'qurey'"),
            (r#"{"query":1}"#, "invalid type"),
            (r#"{"pageSize":"many"}"#, ""),
            (r#"{"query":"x"} {}"#, "trailing characters"),
            (r#"{"query":"x""#, "EOF"),
            ("[]", ""),
        ];
        for (json, reason) in cases {
            let error = from_json(&d, json.as_bytes()).unwrap_err();
            assert!(
                error.starts_with("invalid JSON for certequiv.v1.SearchCertificatesRequest"),
                "{error}"
            );
            assert!(error.contains(reason), "{json}: {error}");
        }
        assert_eq!(
            from_json(&d, b"  \n").unwrap().encode_to_vec(),
            Vec::<u8>::new()
        );
    }

    #[test]
    fn answers_are_canonical_proto_json_with_chinese_unescaped() {
        let answer = certequiv_api::v1::ListCertificatesResponse {
            certificates: vec![certequiv_api::v1::Certificate {
                id: "fcca".into(),
                fields: vec!["金融".into()],
                title_level: certequiv_api::v1::TitleLevel::AssociateSenior as i32,
                ..Default::default()
            }],
            catalog_id: "beijing-attachment-5".into(),
            ..Default::default()
        };
        let message = DynamicMessage::decode(
            desc("certequiv.v1.ListCertificatesResponse"),
            answer.encode_to_vec().as_slice(),
        )
        .unwrap();
        let json = String::from_utf8(to_json(&message).unwrap()).unwrap();
        assert_eq!(
            json,
            r#"{"certificates":[{"id":"fcca","fields":["金融"],"titleLevel":"TITLE_LEVEL_ASSOCIATE_SENIOR"}],"catalogId":"beijing-attachment-5"}"#
        );
    }

    #[test]
    fn query_parameters_set_nested_repeated_and_enum_fields() {
        let mut message = DynamicMessage::new(desc("certequiv.v1.ListCertificatesRequest"));
        let mut seen = HashSet::new();
        for (k, v) in [
            ("filter.field", "金融"),
            ("filter.titleLevel", "TITLE_LEVEL_INTERMEDIATE"),
            ("page_size", "2"),
            ("as_of", "2025-01-01"),
        ] {
            set_param(&mut message, k, v, &mut seen).unwrap();
        }
        let decoded =
            certequiv_api::v1::ListCertificatesRequest::decode(message.encode_to_vec().as_slice())
                .unwrap();
        let filter = decoded.filter.unwrap();
        assert_eq!((filter.field.as_str(), filter.title_level), ("金融", 3));
        assert_eq!(
            (decoded.page_size, decoded.as_of.as_str()),
            (2, "2025-01-01")
        );

        let mut evaluate = DynamicMessage::new(desc("certequiv.v1.ApplicantContext"));
        set_param(&mut evaluate, "domestic_qualifications", "1", &mut seen).unwrap();
        set_param(
            &mut evaluate,
            "domestic_qualifications",
            "DOMESTIC_QUALIFICATION_CICPA_EXAM",
            &mut seen,
        )
        .unwrap();
        let decoded =
            certequiv_api::v1::ApplicantContext::decode(evaluate.encode_to_vec().as_slice())
                .unwrap();
        assert_eq!(decoded.domestic_qualifications, [1, 3]);
    }

    #[test]
    fn bad_query_parameters_say_which_and_why() {
        let d = desc("certequiv.v1.ListCertificatesRequest");
        let cases = [
            ("page_size", "x", "page_size: \"x\" is not a 32-bit integer"),
            ("page_size", "99999999999", "is not a 32-bit integer"),
            ("nope", "1", "nope: unknown parameter"),
            ("filter", "1", "set its fields as filter.<field>"),
            (
                "filter.title_level",
                "HIGH",
                "is not one of TITLE_LEVEL_UNSPECIFIED",
            ),
            ("page_size.x", "1", "page_size has no fields"),
            ("filter.nope", "1", "unknown parameter"),
        ];
        for (key, value, reason) in cases {
            let mut message = DynamicMessage::new(d.clone());
            let error = set_param(&mut message, key, value, &mut HashSet::new()).unwrap_err();
            assert!(error.contains(reason), "{key}={value}: {error}");
        }
        let mut message = DynamicMessage::new(d);
        let mut seen = HashSet::new();
        set_param(&mut message, "page_size", "1", &mut seen).unwrap();
        let error = set_param(&mut message, "page_size", "2", &mut seen).unwrap_err();
        assert_eq!(error, "page_size: given more than once");
    }

    #[test]
    fn frames_round_trip_across_chunk_boundaries() {
        let (a, b) = (frame(b"hello").unwrap(), frame(b"").unwrap());
        let wire: Vec<u8> = [a.as_ref(), b.as_ref()].concat();
        let mut deframer = Deframer::default();
        let mut messages = Vec::new();
        for chunk in wire.chunks(3) {
            deframer.push(chunk);
            while let Some(message) = deframer.next_message().unwrap() {
                messages.push(message);
            }
        }
        assert_eq!(messages, [Bytes::from_static(b"hello"), Bytes::new()]);
        assert_eq!(deframer.next_message().unwrap(), None);
        let mut compressed = Deframer::default();
        compressed.push(&[1, 0, 0, 0, 0]);
        assert!(compressed.next_message().is_err());
    }
}
