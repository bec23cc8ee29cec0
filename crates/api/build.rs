//! Compiles `proto/` with protox (pure Rust, so nobody needs `protoc`) and writes the encoded
//! descriptor set next to the generated code for server reflection.

use std::{env, fs, path::PathBuf};

use prost::Message;

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
        .compile_fds(fds)?;
    Ok(())
}
