//! Wire types and service stubs for `certequiv.v1`, generated at build time from `proto/`.
//!
//! Nothing here is hand-written except this module: the server maps these types to the domain
//! in one place (`certequiv-server::convert`), and the e2e tests use the generated clients.
//!
//! [`v1`] is what clients use. [`server::v1`] is the same API for the server, generated with
//! two differences: a `certequiv.v1.Certificate` is an [`EncodedCertificate`], the message's
//! bytes, so the server encodes each catalog entry once instead of on every answer; and a
//! `certequiv.v1.Citation` is an [`EncodedCitation`], which shares those bytes.
#![forbid(unsafe_code)]

use prost::bytes::Bytes;

pub mod codec;

/// `certequiv.v1`: catalog lookup and equivalence evaluation.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("certequiv.v1");
}

/// The server side of the API (services and messages), with certificates and citations
/// pre-encoded.
pub mod server {
    /// `certequiv.v1` as the server sends it.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        // Types that hold no certificate or citation are the client's (names defined below
        // win).
        pub use crate::v1::*;
        include!(concat!(env!("OUT_DIR"), "/server/certequiv.v1.rs"));
    }
}

/// A `certequiv.v1.Certificate` message already encoded (without its tag and length).
///
/// Encoding one copies the bytes; cloning one is a reference count. Decoding works (it goes
/// through [`v1::Certificate`]), but only the server uses this type and it never decodes one.
#[derive(Clone, PartialEq, Default, Debug)]
pub struct EncodedCertificate(pub prost::bytes::Bytes);

impl EncodedCertificate {
    pub fn new(certificate: &v1::Certificate) -> EncodedCertificate {
        EncodedCertificate(prost::Message::encode_to_vec(certificate).into())
    }

    /// The parts of this entry that citations of it share, as slices of these bytes. `None`
    /// when the bytes are not a certificate with a source.
    pub fn cited(&self) -> Option<CitedEntry> {
        let (mut source, mut remark, mut work_scope) = (None, Bytes::new(), Bytes::new());
        let mut rest: &[u8] = &self.0;
        while !rest.is_empty() {
            let (tag, wire_type) = prost::encoding::decode_key(&mut rest).ok()?;
            if wire_type != prost::encoding::WireType::LengthDelimited {
                let context = prost::encoding::DecodeContext::default();
                prost::encoding::skip_field(wire_type, tag, &mut rest, context).ok()?;
                continue;
            }
            let len = usize::try_from(prost::encoding::decode_varint(&mut rest).ok()?).ok()?;
            let start = self.0.len() - rest.len();
            rest = rest.get(len..)?;
            let body = || self.0.slice(start..start + len);
            match tag {
                CERTIFICATE_WORK_SCOPE => work_scope = body(),
                CERTIFICATE_REMARK => remark = body(),
                CERTIFICATE_SOURCE => source = Some(body()),
                _ => {}
            }
        }
        Some(CitedEntry {
            source: source?,
            remark,
            work_scope,
        })
    }
}

/// What every citation of one entry shares: its `SourceRef`, remark and work scope, as slices
/// of its [`EncodedCertificate`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CitedEntry {
    source: Bytes,
    remark: Bytes,
    work_scope: Bytes,
}

impl CitedEntry {
    /// The entry's remark as encoded.
    pub fn remark(&self) -> &[u8] {
        &self.remark
    }

    /// The entry's work scope as encoded.
    pub fn work_scope(&self) -> &[u8] {
        &self.work_scope
    }

    /// A citation of `quoted`: no text is copied unless it is [`Quoted::Text`]. `None` when a
    /// range is not within the remark.
    pub fn citation(&self, quoted: Quoted<'_>) -> Option<EncodedCitation> {
        let quoted = match quoted {
            Quoted::Remark(range) => {
                self.remark.get(range.clone())?;
                self.remark.slice(range)
            }
            Quoted::WorkScope => self.work_scope.clone(),
            Quoted::Text(text) => Bytes::copy_from_slice(text.as_bytes()),
        };
        Some(EncodedCitation {
            source: Some(self.source.clone()),
            remark: self.remark.clone(),
            quoted,
        })
    }
}

/// What a citation quotes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quoted<'a> {
    /// Bytes `start..end` of the certificate's remark. They must fall on UTF-8 boundaries:
    /// only the bounds are checked, so the caller takes them from the same text.
    Remark(std::ops::Range<usize>),
    /// The certificate's whole work scope.
    WorkScope,
    /// Any other text, copied.
    Text(&'a str),
}

/// Field numbers of `certequiv.v1.Certificate` that a citation reuses, and of
/// `certequiv.v1.Citation`, which [`EncodedCitation`] writes by hand. All are length-delimited
/// (a string or a `SourceRef`); a test checks each against the descriptor set built from
/// `proto/`.
const CERTIFICATE_WORK_SCOPE: u32 = 10;
const CERTIFICATE_REMARK: u32 = 12;
const CERTIFICATE_SOURCE: u32 = 13;
const CITATION_SOURCE: u32 = 1;
const CITATION_REMARK: u32 = 2;
const CITATION_QUOTED: u32 = 3;
// prost writes fields in number order, so `EncodedCitation::fields` lists them in that order.
const _: () = assert!(CITATION_SOURCE < CITATION_REMARK && CITATION_REMARK < CITATION_QUOTED);

impl prost::Message for EncodedCertificate {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        buf.put_slice(&self.0);
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        let message: v1::Certificate = merged_plain(&self.0, tag, wire_type, buf, ctx)?;
        *self = EncodedCertificate::new(&message);
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.0.len()
    }

    fn clear(&mut self) {
        self.0 = prost::bytes::Bytes::new();
    }
}

/// A `certequiv.v1.Citation` made of encoded parts: the `SourceRef` message's bytes, the
/// remark and the quoted sentence. Built by [`CitedEntry::citation`], it copies no text: every
/// part is a slice of the certificate's bytes.
#[derive(Clone, PartialEq, Eq, Hash, Default, Debug)]
pub struct EncodedCitation {
    /// `source`: an encoded `certequiv.v1.SourceRef`, without its tag and length.
    pub source: Option<Bytes>,
    /// `remark`, UTF-8.
    pub remark: Bytes,
    /// `quoted`, UTF-8.
    pub quoted: Bytes,
}

impl EncodedCitation {
    pub fn new(citation: &v1::Citation) -> EncodedCitation {
        EncodedCitation {
            source: citation
                .source
                .as_ref()
                .map(|s| prost::Message::encode_to_vec(s).into()),
            remark: Bytes::copy_from_slice(citation.remark.as_bytes()),
            quoted: Bytes::copy_from_slice(citation.quoted.as_bytes()),
        }
    }

    /// The parts as prost writes them: a present message even when empty, strings only when
    /// not empty, in field order.
    fn fields(&self) -> impl Iterator<Item = (u32, &Bytes)> {
        let source = self.source.as_ref().map(|s| (CITATION_SOURCE, s));
        let texts = [
            (CITATION_REMARK, &self.remark),
            (CITATION_QUOTED, &self.quoted),
        ];
        source
            .into_iter()
            .chain(texts.into_iter().filter(|(_, t)| !t.is_empty()))
    }
}

impl prost::Message for EncodedCitation {
    fn encode_raw(&self, buf: &mut impl prost::bytes::BufMut) {
        for (tag, bytes) in self.fields() {
            prost::encoding::bytes::encode(tag, bytes, buf);
        }
    }

    fn merge_field(
        &mut self,
        tag: u32,
        wire_type: prost::encoding::WireType,
        buf: &mut impl prost::bytes::Buf,
        ctx: prost::encoding::DecodeContext,
    ) -> Result<(), prost::DecodeError> {
        let encoded = prost::Message::encode_to_vec(self);
        let message: v1::Citation = merged_plain(&encoded, tag, wire_type, buf, ctx)?;
        *self = EncodedCitation::new(&message);
        Ok(())
    }

    fn encoded_len(&self) -> usize {
        self.fields()
            .map(|(tag, bytes)| prost::encoding::bytes::encoded_len(tag, bytes))
            .sum()
    }

    fn clear(&mut self) {
        *self = EncodedCitation::default();
    }
}

/// Decoding for the pre-encoded types: the plain message `encoded` holds, with one more field
/// merged in, to be encoded again. A message decoded field by field so costs quadratic time in
/// its fields; the server never decodes one (no request holds a certificate or a citation).
fn merged_plain<P: prost::Message + Default>(
    encoded: &[u8],
    tag: u32,
    wire_type: prost::encoding::WireType,
    buf: &mut impl prost::bytes::Buf,
    ctx: prost::encoding::DecodeContext,
) -> Result<P, prost::DecodeError> {
    let mut message = P::decode(encoded)?;
    message.merge_field(tag, wire_type, buf, ctx)?;
    Ok(message)
}

/// Encoded `FileDescriptorSet` of every file in `proto/` (imports included), for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/certequiv_descriptor.bin"));

#[cfg(test)]
mod tests {
    use prost::Message;

    use super::*;

    fn sample() -> v1::Certificate {
        v1::Certificate {
            id: "fcca".into(),
            name_zh: "特许公认会计师公会资深会员".into(),
            abbreviations: vec!["FCCA".into()],
            title_level: v1::TitleLevel::AssociateSenior as i32,
            ..Default::default()
        }
    }

    fn cited() -> v1::Certificate {
        v1::Certificate {
            fields: vec!["会计".into()],
            work_scope: "从事会计工作。".into(),
            remark: "从事会计工作。对应副高级职称需符合基本标准条件。".into(),
            source: Some(v1::SourceRef {
                catalog_id: "beijing-attachment-5".into(),
                section_number: 1,
                section_title: "急需紧缺境外职业资格清单".into(),
                item_number: 8,
                catalog_etag: "2cb1b750".into(),
                catalog_source: "附件5".into(),
            }),
            ..sample()
        }
    }

    /// A condition citing `quoted` of `certificate`, as the client's types encode it.
    fn plain_condition(certificate: &v1::Certificate, quoted: &str) -> v1::Condition {
        v1::Condition {
            code: "WORK_FIELD".into(),
            status: v1::ConditionStatus::Satisfied as i32,
            source: Some(v1::Citation {
                source: certificate.source.clone(),
                remark: certificate.remark.clone(),
                quoted: quoted.into(),
            }),
            blocking: true,
            ..Default::default()
        }
    }

    #[test]
    fn a_citation_sliced_from_an_encoded_certificate_encodes_like_the_plain_one() {
        let certificate = cited();
        let encoded = EncodedCertificate::new(&certificate);
        let clause = "对应副高级职称需符合基本标准条件";
        let at = certificate.remark.find(clause).unwrap();
        let quotes = [
            (Quoted::Remark(at..at + clause.len()), clause),
            (Quoted::Remark(0..0), ""),
            (Quoted::WorkScope, "从事会计工作。"),
            (
                Quoted::Text("not part of the remark"),
                "not part of the remark",
            ),
            (Quoted::Text(""), ""),
        ];
        for (quoted, text) in quotes {
            let plain = plain_condition(&certificate, text);
            let ours = server::v1::Condition {
                code: plain.code.clone(),
                status: plain.status,
                source: encoded.cited().and_then(|c| c.citation(quoted.clone())),
                blocking: true,
                ..Default::default()
            };
            assert_eq!(ours.encode_to_vec(), plain.encode_to_vec(), "{quoted:?}");
            assert_eq!(ours.encoded_len(), plain.encoded_len(), "{quoted:?}");
        }
    }

    #[test]
    fn a_citation_quoting_the_remark_shares_the_certificate_bytes() {
        let encoded = EncodedCertificate::new(&cited());
        let citation = encoded
            .cited()
            .unwrap()
            .citation(Quoted::Remark(3..9))
            .unwrap();
        let within = |part: &Bytes| {
            let whole = encoded.0.as_ptr_range();
            let part = part.as_ptr_range();
            whole.start <= part.start && part.end <= whole.end
        };
        assert!(within(citation.source.as_ref().unwrap()));
        assert!(within(&citation.remark));
        assert!(within(&citation.quoted));
        assert_eq!(&citation.quoted[..], "事会".as_bytes());
        assert_eq!(&citation.remark[..], cited().remark.as_bytes());
    }

    #[test]
    fn only_a_certificate_with_a_source_and_a_range_within_its_remark_gives_a_citation() {
        let unsourced = EncodedCertificate::new(&sample());
        assert_eq!(unsourced.cited(), None);
        let truncated = EncodedCertificate(EncodedCertificate::new(&cited()).0.slice(..20));
        assert_eq!(truncated.cited(), None);
        let sourced = EncodedCertificate::new(&cited()).cited().unwrap();
        assert_eq!(sourced.citation(Quoted::Remark(0..1000)), None);
    }

    #[test]
    fn an_encoded_citation_decodes_back_to_the_citation() {
        let plain = plain_condition(&cited(), "从事会计工作。");
        let decoded = server::v1::Condition::decode(plain.encode_to_vec().as_slice()).unwrap();
        let citation = plain.source.as_ref().unwrap();
        assert_eq!(decoded.source, Some(EncodedCitation::new(citation)));
        assert_eq!(decoded.encode_to_vec(), plain.encode_to_vec());
    }

    #[test]
    fn an_answer_with_an_encoded_certificate_is_byte_identical_to_the_plain_one() {
        let plain = v1::SearchResult {
            certificate: Some(sample()),
            score: 0.98,
            ..Default::default()
        };
        let encoded = server::v1::SearchResult {
            certificate: Some(EncodedCertificate::new(&sample())),
            score: 0.98,
            ..Default::default()
        };
        assert_eq!(encoded.encode_to_vec(), plain.encode_to_vec());
        assert_eq!(encoded.encoded_len(), plain.encoded_len());
    }

    #[test]
    fn an_encoded_certificate_decodes_back_to_the_message() {
        let wire = v1::SearchResult {
            certificate: Some(sample()),
            ..Default::default()
        }
        .encode_to_vec();
        let decoded = server::v1::SearchResult::decode(wire.as_slice()).unwrap();
        assert_eq!(
            decoded.certificate,
            Some(EncodedCertificate::new(&sample()))
        );
    }

    /// The field numbers and wire types written by hand above, checked against the messages
    /// compiled from `proto/`: a field renumbered or retyped there fails here instead of
    /// sending answers that decode to the wrong fields.
    #[test]
    fn hand_written_field_numbers_match_the_descriptor_set() {
        use prost::encoding::WireType;
        use prost_types::field_descriptor_proto::{Label, Type};

        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let field = |message: &str, name: &str| {
            set.file
                .iter()
                .filter(|f| f.package() == "certequiv.v1")
                .flat_map(|f| &f.message_type)
                .filter(|m| m.name() == message)
                .flat_map(|m| &m.field)
                .find(|f| f.name() == name)
                .unwrap_or_else(|| panic!("no field {message}.{name} in proto/"))
                .clone()
        };
        let wire_type = |kind: Type| match kind {
            Type::String | Type::Bytes | Type::Message => WireType::LengthDelimited,
            Type::Fixed64 | Type::Sfixed64 | Type::Double => WireType::SixtyFourBit,
            Type::Fixed32 | Type::Sfixed32 | Type::Float => WireType::ThirtyTwoBit,
            Type::Group => WireType::StartGroup,
            _ => WireType::Varint,
        };
        let source_ref = Some(".certequiv.v1.SourceRef");
        let hand_written = [
            ("Certificate", "work_scope", CERTIFICATE_WORK_SCOPE, None),
            ("Certificate", "remark", CERTIFICATE_REMARK, None),
            ("Certificate", "source", CERTIFICATE_SOURCE, source_ref),
            ("Citation", "source", CITATION_SOURCE, source_ref),
            ("Citation", "remark", CITATION_REMARK, None),
            ("Citation", "quoted", CITATION_QUOTED, None),
        ];
        for (message, name, number, message_type) in hand_written {
            let field = field(message, name);
            let at = format!("{message}.{name}");
            assert_eq!(field.number(), number as i32, "{at}: field number");
            // `cited` and `EncodedCitation` read and write length-delimited bytes.
            assert_eq!(
                wire_type(field.r#type()),
                WireType::LengthDelimited,
                "{at}: wire type"
            );
            // A repeated field would be several values; the code keeps or writes one.
            assert_ne!(field.label(), Label::Repeated, "{at}: repeated");
            // A citation's source is a certificate's source, copied as bytes.
            let expected = if message_type.is_some() {
                Type::Message
            } else {
                Type::String
            };
            assert_eq!(field.r#type(), expected, "{at}: type");
            assert_eq!(
                field.type_name.as_deref(),
                message_type,
                "{at}: message type"
            );
        }
    }

    /// The options that name generated code's packages in other ecosystems. buf's breaking
    /// check skips them (proto/buf.yaml says why), so this pins them: a change breaks every
    /// generated Java, Go, C# or PHP client and must be made here too, on purpose.
    #[test]
    fn file_options_for_other_ecosystems_are_pinned() {
        let set = prost_types::FileDescriptorSet::decode(FILE_DESCRIPTOR_SET).unwrap();
        let ours: Vec<_> = set
            .file
            .iter()
            .filter(|f| f.package() == "certequiv.v1")
            .collect();
        assert_eq!(ours.len(), 2, "catalog.proto and equivalence.proto");
        for file in ours {
            let options = file.options.as_ref().expect("file options");
            let pinned = (
                options.java_package(),
                options.java_multiple_files(),
                options.go_package(),
                options.csharp_namespace(),
                options.php_namespace(),
            );
            assert_eq!(
                pinned,
                (
                    "com.certequiv.v1",
                    true,
                    "certequiv.example/gen/go/certequiv/v1;certequivv1",
                    "Certequiv.V1",
                    "Certequiv\\V1",
                ),
                "{}",
                file.name()
            );
        }
    }
}
