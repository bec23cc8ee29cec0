//! Wire types and service stubs for `certequiv.v1`, generated at build time from `proto/`.
//!
//! Nothing here is hand-written except this module: the server maps these types to the domain
//! in one place (`certequiv-server::convert`), and the e2e tests use the generated clients.
#![forbid(unsafe_code)]

/// `certequiv.v1`: catalog lookup and equivalence evaluation.
pub mod v1 {
    #![allow(clippy::all, missing_docs)]
    tonic::include_proto!("certequiv.v1");
}

/// Encoded `FileDescriptorSet` of every file in `proto/` (imports included), for reflection.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/certequiv_descriptor.bin"));
