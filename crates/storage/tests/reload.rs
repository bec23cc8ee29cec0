//! Hot reload of a catalog directory: good changes are swapped in whole, bad ones refused with
//! the loaded catalogs kept, and Kubernetes' ConfigMap symlink swap is seen.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed assertion

use std::fs;
use std::os::unix::fs::symlink;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use certequiv_storage::{
    DEFAULT_JURISDICTION, EMBEDDED_CASES, EMBEDDED_CATALOG, Format, Source, Store, load_text_as,
};

fn version(tag: &str) -> String {
    EMBEDDED_CATALOG.replace(
        "name_en = \"Chartered Financial Analyst\"",
        &format!("name_en = \"Chartered Financial Analyst {tag}\""),
    )
}

fn cfa_name(store: &Store) -> String {
    let set = store.snapshot();
    set.catalogs()[0]
        .catalog
        .certificate("cfa")
        .map(|c| c.name_en.clone())
        .unwrap_or_default()
}

fn open(dir: &Path) -> Store {
    Store::open(Source::Dir(dir.to_path_buf()), DEFAULT_JURISDICTION).unwrap()
}

#[test]
fn a_changed_file_is_swapped_in() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("bj.toml"), version("A")).unwrap();
    let store = open(dir.path());
    let before = store.snapshot();
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst A");

    fs::write(dir.path().join("bj.toml"), version("B-longer")).unwrap();
    assert!(store.reload_if_changed().unwrap());
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst B-longer");
    // A reader holding the old snapshot keeps a consistent view.
    assert_eq!(
        before.catalogs()[0]
            .catalog
            .certificate("cfa")
            .unwrap()
            .name_en,
        "Chartered Financial Analyst A"
    );
    assert!(!store.reload_if_changed().unwrap(), "nothing changed since");
    assert_eq!(store.status().generation, 2);
}

#[test]
fn a_broken_file_is_refused_and_the_loaded_catalog_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bj.toml");
    fs::write(&file, version("A")).unwrap();
    let store = open(dir.path());
    let etag = store.snapshot().catalogs()[0].catalog.etag().to_owned();

    fs::write(
        &file,
        version("A").replace("title_level = \"中级\"", "title_level = \"高级\""),
    )
    .unwrap();
    let error = store.reload().unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("bj.toml") && text.contains("title_level"),
        "{text}"
    );
    assert_eq!(
        store.snapshot().catalogs()[0].catalog.etag(),
        etag,
        "old catalog kept"
    );
    let status = store.status();
    assert!(!status.ok);
    assert_eq!(status.failures_total, 1);
    assert!(status.error.contains("title_level"));

    fs::write(&file, "this is = = not toml").unwrap();
    assert!(store.reload().is_err());
    assert_eq!(store.snapshot().catalogs()[0].catalog.etag(), etag);

    fs::write(&file, version("fixed")).unwrap();
    store.reload().unwrap();
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst fixed");
    assert!(store.status().ok);
    assert_eq!(store.status().failures_total, 2);
}

#[test]
fn an_emptied_directory_never_leaves_zero_catalogs() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bj.toml");
    fs::write(&file, version("A")).unwrap();
    let store = open(dir.path());
    fs::remove_file(&file).unwrap();
    assert!(store.reload().is_err());
    assert_eq!(store.snapshot().catalogs().len(), 1);
}

#[test]
fn startup_on_an_invalid_directory_fails_with_the_file_and_field() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(
        dir.path().join("bad.toml"),
        version("A").replace("id = \"cfa\"", "id = \"fcca\""),
    )
    .unwrap();
    let error =
        Store::open(Source::Dir(dir.path().to_path_buf()), DEFAULT_JURISDICTION).unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("bad.toml") && text.contains("duplicate id"),
        "{text}"
    );
}

/// A TOML catalog written as JSON Lines: the other tables on the first line, then one
/// certificate a line.
fn as_jsonl(toml_text: &str) -> String {
    let mut tables: toml::Table = toml::from_str(toml_text).unwrap();
    let certificates = tables.remove("certificates").unwrap();
    let mut out = serde_json::to_string(&tables).unwrap() + "\n";
    for certificate in certificates.as_array().unwrap() {
        out += &(serde_json::to_string(certificate).unwrap() + "\n");
    }
    out
}

#[test]
fn a_file_on_disk_reports_the_same_errors_and_lines_as_its_text() {
    let dir = tempfile::tempdir().unwrap();
    // Two entries share an id.
    let small = version("A").replace("id = \"cfa\"", "id = \"fcca\"");
    let large = as_jsonl(&small);
    for (name, format, text) in [
        ("small.toml", Format::Toml, small),
        ("large.jsonl", Format::Jsonl, large),
    ] {
        let path = dir.path().join(name);
        fs::write(&path, &text).unwrap();
        let from_disk = certequiv_storage::load_files(std::slice::from_ref(&path)).unwrap_err();
        let from_text = load_text_as(format, &path.display().to_string(), &text)
            .map(|_| ())
            .unwrap_err();
        assert_eq!(from_disk, from_text);
        assert!(from_disk.iter().all(|e| e.line.is_some()), "{from_disk:?}");
    }
}

#[test]
fn a_jsonl_catalog_is_loaded_reloaded_and_checked_by_its_cases_like_a_toml_one() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bj.jsonl");
    fs::write(&file, as_jsonl(&version("A"))).unwrap();
    fs::write(dir.path().join("bj.cases.toml"), EMBEDDED_CASES).unwrap();
    let store = open(dir.path());
    let set = store.snapshot();
    let loaded = &set.catalogs()[0];
    assert_eq!(loaded.origin, "bj.jsonl");
    assert!(loaded.cases.is_some());
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst A");

    fs::write(&file, as_jsonl(&version("B"))).unwrap();
    assert!(store.reload_if_changed().unwrap());
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst B");

    // A failing case refuses the file, as for TOML.
    fs::write(
        &file,
        as_jsonl(&version("C").replace("\"中级\"", "\"副高级\"")),
    )
    .unwrap();
    let error = store.reload_if_changed().unwrap_err().to_string();
    assert!(error.contains("bj.cases.toml"), "{error}");
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst B");

    // The same catalog left behind as TOML: one catalog name twice is refused.
    fs::write(&file, as_jsonl(&version("B"))).unwrap();
    fs::write(dir.path().join("bj.toml"), version("B")).unwrap();
    let error = store.reload_if_changed().unwrap_err().to_string();
    assert!(
        error.contains("bj.toml") && error.contains("bj.jsonl") && error.contains("same name"),
        "{error}"
    );
    fs::remove_file(dir.path().join("bj.toml")).unwrap();
    assert!(store.reload_if_changed().unwrap());
}

/// Lays out `dir` like a mounted ConfigMap: `bj.toml -> ..data/bj.toml`, `..data -> ..<ts>`.
fn configmap_version(dir: &Path, timestamp: &str, text: &str) {
    let versioned = dir.join(format!("..{timestamp}"));
    fs::create_dir(&versioned).unwrap();
    fs::write(versioned.join("bj.toml"), text).unwrap();
    let tmp = dir.join("..data_tmp");
    symlink(format!("..{timestamp}"), &tmp).unwrap();
    // rename(2) replaces the old ..data link atomically, as the kubelet does.
    fs::rename(&tmp, dir.join("..data")).unwrap();
    if !dir.join("bj.toml").exists() {
        symlink("..data/bj.toml", dir.join("bj.toml")).unwrap();
    }
}

#[test]
fn the_watcher_sees_a_configmap_symlink_swap() {
    let dir = tempfile::tempdir().unwrap();
    configmap_version(dir.path(), "2026_11_01", &version("A"));
    let store = Arc::new(open(dir.path()));
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst A");

    let stop = Arc::new(AtomicBool::new(false));
    let watcher = {
        let (store, stop) = (Arc::clone(&store), Arc::clone(&stop));
        std::thread::spawn(move || {
            store.watch(Duration::from_millis(50), || stop.load(Ordering::Relaxed))
        })
    };
    configmap_version(dir.path(), "2026_11_02", &version("B"));
    let deadline = Instant::now() + Duration::from_secs(10);
    while cfa_name(&store) != "Chartered Financial Analyst B" && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    stop.store(true, Ordering::Relaxed);
    watcher.join().unwrap();
    assert_eq!(cfa_name(&store), "Chartered Financial Analyst B");
}

#[test]
fn overlapping_versions_in_one_directory_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let dated = |id: &str, from: &str| {
        version(id)
            .replace("id = \"beijing-attachment-5\"", &format!("id = \"{id}\""))
            .replace(
                "source = \"附件5\"",
                &format!("source = \"附件5\"\neffective_from = \"{from}\""),
            )
    };
    fs::write(dir.path().join("a.toml"), dated("bj-a", "2025-01-01")).unwrap();
    fs::write(dir.path().join("b.toml"), dated("bj-b", "2026-01-01")).unwrap();
    let error =
        Store::open(Source::Dir(dir.path().to_path_buf()), DEFAULT_JURISDICTION).unwrap_err();
    assert!(error.to_string().contains("overlaps"), "{error}");

    let closed = dated("bj-a", "2025-01-01").replace(
        "effective_from = \"2025-01-01\"",
        "effective_from = \"2025-01-01\"\neffective_until = \"2025-12-31\"",
    );
    fs::write(dir.path().join("a.toml"), closed).unwrap();
    let store = open(dir.path());
    assert_eq!(store.snapshot().catalogs().len(), 2);
}
