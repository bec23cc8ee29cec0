//! Wire types and service stubs for `certequiv.v1`, generated at build time from `proto/`.
//!
//! Nothing here is hand-written except this module: the server maps these types to the domain
//! in one place (`certequiv-server::convert`), and the e2e tests use the generated clients.
//!
//! [`v1`] is what clients use. [`server::v1`] is the same API for the server, generated with
//! one difference: a `certequiv.v1.Certificate` is an [`EncodedCertificate`], the message's
//! bytes, so the server encodes each catalog entry once instead of on every answer.
#![forbid(unsafe_code)]

/// `certequiv.v1`: catalog lookup and equivalence evaluation.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("certequiv.v1");
}

/// The server side of the API (services and messages), with certificates pre-encoded.
pub mod server {
    /// `certequiv.v1` as the server sends it.
    pub mod v1 {
        #![allow(clippy::all, missing_docs)]
        // Types that hold no certificate are the client's (names defined below win).
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
}

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
        let mut message = <v1::Certificate as prost::Message>::decode(self.0.as_ref())?;
        message.merge_field(tag, wire_type, buf, ctx)?;
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
}
