//! The committed JSON Schemas of catalog and cases files are the ones the loader's own types
//! generate: editors and `taplo check` validate against exactly what the server reads.

use std::path::Path;

use certequiv_storage::{cases, file};

#[test]
fn committed_schemas_match_the_loaders_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("catalogs");
    for (name, kind, generated) in [
        ("catalog.schema.json", "catalog", file::catalog_schema()),
        ("cases.schema.json", "cases", cases::cases_schema()),
    ] {
        let committed = std::fs::read_to_string(dir.join(name)).unwrap_or_default();
        assert!(
            committed == generated,
            "crates/storage/catalogs/{name} is stale; regenerate it with\n  \
             cargo run -p certequiv-server -- schema {kind} > crates/storage/catalogs/{name}"
        );
    }
}

#[test]
fn the_catalog_schema_describes_every_key_of_the_format() {
    let schema: serde_json::Value = serde_json::from_str(&file::catalog_schema()).unwrap();
    assert_eq!(schema["$schema"], "http://json-schema.org/draft-07/schema#");
    assert_eq!(schema["additionalProperties"], false);
    let certificate = &schema["definitions"]["Certificate"];
    let keys: Vec<&str> = certificate["properties"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for key in [
        "id",
        "title_level",
        "remark",
        "rules",
        "issuers",
        "supersedes",
    ] {
        assert!(keys.contains(&key), "{key} missing from {keys:?}");
    }
    let required = certificate["required"].as_array().unwrap();
    assert!(required.contains(&"title_level".into()));
    assert!(!required.contains(&"supersedes".into()));
    let levels = &certificate["properties"]["title_level"]["enum"];
    assert_eq!(levels.as_array().unwrap().len(), 6, "{levels}");
    assert!(
        certificate["properties"]["remark"]["description"]
            .as_str()
            .unwrap()
            .contains("verbatim")
    );
}
