//! Writes the gRPC request bodies that `bench/load.sh` sends with h2load, encoded from the
//! real `certequiv.v1` protos, plus a `manifest.tsv` naming each body's method path.
//!
//! Each file is one length-prefixed gRPC message: flag byte 0 (not compressed), the message
//! length as a big-endian u32, then the message.
//!
//! Usage: `encode_bodies OUT_DIR` for the embedded catalog's mix, or
//! `encode_bodies OUT_DIR --queries FILE` for the large-catalog stage: Health/Check and one
//! search per `KIND<TAB>QUERY` line of FILE, the synthetic catalog's mix that
//! `synthetic_catalog --queries SEED` (certequiv-storage, feature `synthetic`) writes.

use std::error::Error;
use std::fs;
use std::path::PathBuf;

use certequiv_api::v1 as pb;
use prost::Message;

const CERTIFICATES: &str = "/certequiv.v1.CertificateService";
const EQUIVALENCE: &str = "/certequiv.v1.EquivalenceService";
const HEALTH: &str = "/grpc.health.v1.Health";
const USAGE: &str = "usage: encode_bodies OUT_DIR [--queries FILE]";

/// The search mix: what applicants type. Abbreviation, Chinese vendor name with a level,
/// alias, Chinese-only name, English name with a country, a typo, and full-width letters.
pub const SEARCH_MIX: [&str; 7] = [
    "FCCA",
    "华为 HCIE-Datacom",
    "IEEE Fellow",
    "精算师",
    "CPA Australia",
    "ACCCA",
    "ＣＦＡ",
];

/// A typical applicant: one certificate typed as text, applying for 副高级 in accounting,
/// with the series' basic conditions already checked by HR.
pub fn typical_applicant() -> pb::EvaluateEquivalenceRequest {
    pb::EvaluateEquivalenceRequest {
        claims: vec![pb::CertificateClaim {
            claim: Some(pb::certificate_claim::Claim::Text("FCCA".into())),
        }],
        applicant: Some(pb::ApplicantContext {
            work_field: "会计".into(),
            target_title_level: pb::TitleLevel::AssociateSenior as i32,
            basic_conditions: pb::BasicConditions::Confirmed as i32,
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// One gRPC frame: uncompressed flag, big-endian length, message.
fn frame(message: &impl Message) -> Result<Vec<u8>, Box<dyn Error>> {
    let body = message.encode_to_vec();
    let len = u32::try_from(body.len())?;
    let mut out = Vec::with_capacity(5 + body.len());
    out.push(0);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&body);
    Ok(out)
}

/// Body label, group, method path, file name, body.
type Body = (String, &'static str, String, String, Vec<u8>);

fn health_check() -> Result<Body, Box<dyn Error>> {
    Ok((
        "Health/Check".into(),
        "health",
        format!("{HEALTH}/Check"),
        "health_check.bin".into(),
        frame(&tonic_health::pb::HealthCheckRequest {
            service: String::new(),
        })?,
    ))
}

fn search(label: String, file: String, query: &str) -> Result<Body, Box<dyn Error>> {
    Ok((
        label,
        "search",
        format!("{CERTIFICATES}/SearchCertificates"),
        file,
        frame(&pb::SearchCertificatesRequest {
            query: query.into(),
            ..Default::default()
        })?,
    ))
}

/// The same search in the BASIC view (group `view`): called once, for its answer's size.
fn search_basic(label: String, file: String, query: &str) -> Result<Body, Box<dyn Error>> {
    Ok((
        label,
        "view",
        format!("{CERTIFICATES}/SearchCertificates"),
        file,
        frame(&pb::SearchCertificatesRequest {
            query: query.into(),
            view: pb::CertificateView::Basic as i32,
            ..Default::default()
        })?,
    ))
}

/// Health/Check and one search per `KIND<TAB>QUERY` line of `queries`.
fn query_bodies(queries: &str) -> Result<Vec<Body>, Box<dyn Error>> {
    let mut bodies = vec![health_check()?];
    for (i, line) in queries.lines().enumerate() {
        let (kind, query) = line
            .split_once('\t')
            .ok_or_else(|| format!("query line {}: no KIND<TAB>QUERY: {line:?}", i + 1))?;
        bodies.push(search(
            format!("SearchCertificates[{kind}: {query}]"),
            format!("search_{}.bin", i + 1),
            query,
        )?);
    }
    Ok(bodies)
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let out = PathBuf::from(args.next().ok_or(USAGE)?);
    fs::create_dir_all(&out)?;
    if let Some(flag) = args.next() {
        let (Some(file), "--queries") = (args.next(), flag.as_str()) else {
            return Err(USAGE.into());
        };
        return write(&out, &query_bodies(&fs::read_to_string(file)?)?);
    }

    let mut bodies = vec![
        health_check()?,
        (
            "GetCertificate".into(),
            "get",
            format!("{CERTIFICATES}/GetCertificate"),
            "get_certificate.bin".into(),
            frame(&pb::GetCertificateRequest {
                id: "fcca".into(),
                ..Default::default()
            })?,
        ),
    ];
    for (i, query) in SEARCH_MIX.iter().enumerate() {
        bodies.push(search(
            format!("SearchCertificates[{query}]"),
            format!("search_{}.bin", i + 1),
            query,
        )?);
    }
    for (i, query) in SEARCH_MIX.iter().enumerate() {
        bodies.push(search_basic(
            format!("SearchCertificates[{query}] (BASIC view)"),
            format!("search_{}_basic.bin", i + 1),
            query,
        )?);
    }
    bodies.push((
        "EvaluateEquivalence".into(),
        "evaluate",
        format!("{EQUIVALENCE}/EvaluateEquivalence"),
        "evaluate_equivalence.bin".into(),
        frame(&typical_applicant())?,
    ));
    write(&out, &bodies)
}

/// Writes each body to its file and the manifest that names them.
fn write(out: &std::path::Path, bodies: &[Body]) -> Result<(), Box<dyn Error>> {
    let mut manifest = String::from("# group\tmethod_path\tfile\tlabel\n");
    for (label, group, path, file, body) in bodies {
        fs::write(out.join(file), body)?;
        manifest.push_str(&format!("{group}\t{path}\t{file}\t{label}\n"));
    }
    fs::write(out.join("manifest.tsv"), manifest)?;
    println!("wrote {} bodies to {}", bodies.len(), out.display());
    Ok(())
}
