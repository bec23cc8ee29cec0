//! Compiles `proto/` with protox (pure Rust, so nobody needs `protoc`) and writes the encoded
//! descriptor set next to the generated code for server reflection.

use std::collections::HashMap;
use std::{env, fs, path::PathBuf};

use prost::Message;
use prost_types::FileDescriptorSet;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let proto_root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../proto");
    let files = [
        "certequiv/v1/catalog.proto",
        "certequiv/v1/equivalence.proto",
    ];

    // compile_fds ignores file_descriptor_set_path, so rerun triggers and the descriptor file
    // are ours to write.
    println!("cargo:rerun-if-changed={}", proto_root.display());
    for file in files {
        println!("cargo:rerun-if-changed={}", proto_root.join(file).display());
    }

    let mut compiler = protox::Compiler::new([&proto_root])?;
    compiler.include_imports(true).include_source_info(true);
    compiler.open_files(files)?;
    let fds = compiler.file_descriptor_set();

    let out_dir = PathBuf::from(env::var("OUT_DIR")?);
    fs::write(
        out_dir.join("certequiv_descriptor.bin"),
        fds.encode_to_vec(),
    )?;

    tonic_prost_build::configure()
        .build_client(true)
        .build_server(true)
        .compile_fds(fds.clone())?;

    // The server's own copy of the types: the same messages, except that a `Certificate` is
    // bytes encoded once per catalog entry (`crate::EncodedCertificate`), so answers that
    // carry catalog entries copy bytes instead of cloning and re-encoding a dozen strings, and
    // a `Citation` is slices of those bytes (`crate::EncodedCitation`). Every type that holds
    // neither is the client's own type.
    let server_dir = out_dir.join("server");
    fs::create_dir_all(&server_dir)?;
    let mut server = tonic_prost_build::configure()
        .build_client(false)
        .build_server(true)
        .codec_path("crate::codec::ServerCodec")
        .extern_path(CERTIFICATE, "crate::EncodedCertificate")
        .extern_path(CITATION, "crate::EncodedCitation")
        .out_dir(&server_dir);
    for name in shared_types(&fds) {
        let rust = format!("crate::v1::{}", name.trim_start_matches(".certequiv.v1."));
        server = server.extern_path(name, rust);
    }
    server.compile_fds(fds)?;
    Ok(())
}

const CERTIFICATE: &str = ".certequiv.v1.Certificate";
const CITATION: &str = ".certequiv.v1.Citation";

/// The enums of `certequiv.v1` and its messages that hold no `Certificate` or `Citation` at
/// any depth.
fn shared_types(fds: &FileDescriptorSet) -> Vec<String> {
    let mut fields: HashMap<String, Vec<String>> = HashMap::new();
    let mut shared = Vec::new();
    for file in fds.file.iter().filter(|f| f.package() == "certequiv.v1") {
        for message in &file.message_type {
            let name = format!(".certequiv.v1.{}", message.name());
            let types = message.field.iter().map(|f| f.type_name().to_owned());
            fields.insert(name, types.collect());
        }
        for e in &file.enum_type {
            shared.push(format!(".certequiv.v1.{}", e.name()));
        }
    }
    fn holds_encoded(name: &str, fields: &HashMap<String, Vec<String>>, depth: u32) -> bool {
        name == CERTIFICATE
            || name == CITATION
            || (depth < 32
                && fields
                    .get(name)
                    .is_some_and(|types| types.iter().any(|t| holds_encoded(t, fields, depth + 1))))
    }
    shared.extend(
        fields
            .keys()
            .filter(|name| !holds_encoded(name, &fields, 0))
            .cloned(),
    );
    shared.sort();
    shared
}
