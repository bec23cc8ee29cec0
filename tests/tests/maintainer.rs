//! The catalog maintainer's path through the real binary: change a level in a copy of the
//! catalog, see it in `certequiv diff`, watch a pinned case fail in `validate` and the server
//! refuse the file (at start and on reload), fix it; and the history of an entry across two
//! editions on the wire (in process).

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use certequiv_api::v1::{GetCertificateRequest, ListCatalogsRequest, TitleLevel};
use common::process::{Process, spawn_app_with};
use common::{Running, TempDir, in_process, workspace_root};

const CATALOG: &str = "beijing-attachment-5.toml";
const CASES: &str = "beijing-attachment-5.cases.toml";

fn embedded(name: &str) -> String {
    std::fs::read_to_string(workspace_root().join("crates/storage/catalogs").join(name))
        .expect("read the embedded catalog files")
}

/// The embedded catalog with the CFA entry raised from 中级 to 副高级.
fn cfa_raised() -> String {
    let text = embedded(CATALOG);
    let at = text.find("id = \"cfa\"").expect("the cfa entry");
    let level = at
        + text[at..]
            .find("title_level = \"中级\"")
            .expect("its level");
    format!(
        "{}title_level = \"副高级\"{}",
        &text[..level],
        &text[level + "title_level = \"中级\"".len()..]
    )
}

/// Writes a file atomically, as an editor or a deploy tool would.
fn write(dir: &Path, name: &str, text: &str) {
    let tmp = dir.join(format!(".{name}.tmp"));
    std::fs::write(&tmp, text).expect("write");
    std::fs::rename(&tmp, dir.join(name)).expect("rename into place");
}

/// Runs `certequiv ARGS` to its end: (exit code, stdout, stderr).
fn certequiv(args: &[&str]) -> (i32, String, String) {
    let mut process = Process::start(args);
    let status = process.wait_exit(Duration::from_secs(60));
    process.stdout.wait_closed(Duration::from_secs(10));
    process.stderr.wait_closed(Duration::from_secs(10));
    (
        status.code().unwrap_or(-1),
        process.stdout.text(),
        process.stderr.text(),
    )
}

fn path(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

#[test]
fn a_level_change_shows_in_diff_fails_its_cases_in_validate_and_is_refused_at_start() {
    let dir = TempDir::new("maintainer");
    write(dir.path(), CATALOG, &cfa_raised());
    write(dir.path(), CASES, &embedded(CASES));
    let original = workspace_root()
        .join("crates/storage/catalogs")
        .join(CATALOG);
    let edited = dir.path().join(CATALOG);

    let (code, out, err) = certequiv(&["diff", path(&original), path(&edited)]);
    assert_eq!(code, 1, "changes: exit 1\n{out}\n{err}");
    assert!(out.contains("!! title level changes: 1"), "{out}");
    assert!(
        out.contains("!! cfa  CFA特许金融分析师证书: 中级 → 副高级"),
        "{out}"
    );
    let (code, markdown, _) = certequiv(&[
        "diff",
        "--format",
        "markdown",
        path(&original),
        path(&edited),
    ]);
    assert_eq!(code, 1);
    assert!(
        markdown.contains("| `cfa` | CFA特许金融分析师证书 | 中级 | **副高级** |"),
        "{markdown}"
    );
    let (code, html, _) = certequiv(&["diff", "--format", "html", path(&original), path(&edited)]);
    assert_eq!(code, 1);
    assert!(
        html.contains("data-entry-id=\"cfa\" data-old-level=\"中级\" data-new-level=\"副高级\"")
    );

    let (code, out, err) = certequiv(&["validate", path(dir.path())]);
    assert_eq!(code, 1, "{out}\n{err}");
    assert!(
        err.contains(
            "cases[16]: case \"CFA特许金融分析师证书（第2部分第9项），基本条件已确认，从事金融：中级\" fails: highest_title_level: expected 中级, answered 副高级"
        ),
        "{err}"
    );
    assert!(err.contains("3 error(s)"), "{err}");

    let mut server = Process::start(&[
        "serve",
        "--listen",
        "127.0.0.1:0",
        "--metrics-listen",
        "127.0.0.1:0",
        "--catalog-dir",
        path(dir.path()),
    ]);
    let status = server.wait_exit(Duration::from_secs(30));
    assert!(
        !status.success(),
        "a catalog whose cases fail must not be served"
    );
    server.stdout.wait_closed(Duration::from_secs(10));
    let logs = server.stdout.text();
    assert!(
        logs.contains("refusing to start without a valid catalog"),
        "{logs}"
    );
    assert!(logs.contains("answered 副高级"), "{logs}");

    // The maintainer pins the new verdicts (or fixes the level): validate passes.
    write(dir.path(), CATALOG, &embedded(CATALOG));
    let (code, out, err) = certequiv(&["validate", path(dir.path())]);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(out.contains("cases passed"), "{out}");
    let (code, out, _) = certequiv(&["diff", path(&original), path(&edited)]);
    assert_eq!((code, out.contains("no change")), (0, true), "{out}");
}

#[test]
fn diff_exits_2_on_errors_and_writes_json_of_the_documented_shape() {
    let dir = TempDir::new("maintainer-json");
    write(dir.path(), CATALOG, &cfa_raised());
    let original = workspace_root()
        .join("crates/storage/catalogs")
        .join(CATALOG);
    let (code, out, _) = certequiv(&[
        "diff",
        "--format",
        "json",
        path(&original),
        path(&dir.path().join(CATALOG)),
    ]);
    assert_eq!(code, 1);
    assert!(
        out.contains("\"format\": \"certequiv.catalog-diff\""),
        "{out}"
    );
    assert!(out.contains("\"direction\": \"raised\""), "{out}");

    let (code, _, err) = certequiv(&["diff", path(&original), "/nonexistent/catalog.toml"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no such file"), "{err}");
    write(dir.path(), "broken.toml", "[catalog\n");
    let (code, _, err) = certequiv(&[
        "diff",
        path(&original),
        path(&dir.path().join("broken.toml")),
    ]);
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = certequiv(&[
        "diff",
        "--catalog-dir",
        path(&workspace_root().join("crates/storage/tests/data/editions")),
        "bj-test-2024",
        "bj-test-2099",
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("\"bj-test-2099\" not found"), "{err}");
}

#[tokio::test]
async fn a_reload_whose_cases_fail_keeps_the_loaded_catalog_and_says_why() {
    let dir = TempDir::new("maintainer-reload");
    write(dir.path(), CATALOG, &embedded(CATALOG));
    write(dir.path(), CASES, &embedded(CASES));
    let app = spawn_app_with(&[
        "--catalog-dir",
        path(dir.path()),
        "--reload-interval",
        "50ms",
    ]);
    let mut client = app.certificates().await;
    let before = client
        .list_catalogs(ListCatalogsRequest {})
        .await
        .expect("ListCatalogs")
        .into_inner();

    write(dir.path(), CATALOG, &cfa_raised());
    let line = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains("catalog reload refused")
    });
    assert!(
        line.contains("cases[16]") && line.contains("answered 副高级"),
        "{line}"
    );
    let after = client
        .list_catalogs(ListCatalogsRequest {})
        .await
        .expect("ListCatalogs")
        .into_inner();
    assert_eq!(
        after.catalogs[0].etag, before.catalogs[0].etag,
        "the old catalog serves"
    );
    let status = after.last_reload.expect("last_reload");
    assert!(!status.ok);
    assert!(
        status.error.contains("expected 中级, answered 副高级"),
        "{}",
        status.error
    );
    let cfa = client
        .get_certificate(GetCertificateRequest {
            id: "cfa".into(),
            ..Default::default()
        })
        .await
        .expect("GetCertificate")
        .into_inner();
    assert_eq!(cfa.title_level, TitleLevel::Intermediate as i32);

    // A change the cases agree with is loaded.
    write(
        dir.path(),
        CATALOG,
        &embedded(CATALOG).replace(
            "name_en = \"Chartered Financial Analyst\"",
            "name_en = \"Chartered Financial Analyst (CFA)\"",
        ),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = client
            .list_catalogs(ListCatalogsRequest {})
            .await
            .expect("ListCatalogs")
            .into_inner();
        if now.last_reload.as_ref().is_some_and(|s| s.ok) {
            assert_ne!(now.catalogs[0].etag, before.catalogs[0].etag);
            break;
        }
        assert!(Instant::now() < deadline, "the good change was not loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn get_certificate_shows_an_entrys_history_across_editions() {
    let editions = workspace_root().join("crates/storage/tests/data/editions");
    let app = in_process::start_with(|setup| setup.catalog_dir = Some(editions)).await;
    let mut client = app.certificates().await;
    // Today the 2025 edition is in force (from 2025-01-01, open-ended).
    let renamed = client
        .get_certificate(GetCertificateRequest {
            id: "acca-member".into(),
            ..Default::default()
        })
        .await
        .expect("GetCertificate")
        .into_inner();
    let chain: Vec<(String, String, bool, i32)> = renamed
        .supersedes
        .iter()
        .map(|v| {
            (
                v.catalog_id.clone(),
                v.certificate_id.clone(),
                v.loaded,
                v.title_level,
            )
        })
        .collect();
    assert_eq!(
        chain,
        [
            (
                "bj-test-2024".into(),
                "acca".into(),
                true,
                TitleLevel::Intermediate as i32
            ),
            (
                "bj-test-2023".into(),
                "acca".into(),
                false,
                TitleLevel::Unspecified as i32
            ),
        ]
    );
    assert_eq!(renamed.supersedes[0].catalog_effective_until, "2024-12-31");
    assert!(renamed.superseded_by.is_empty());

    let old = client
        .get_certificate(GetCertificateRequest {
            id: "acca".into(),
            catalog_id: "bj-test-2024".into(),
            ..Default::default()
        })
        .await
        .expect("GetCertificate")
        .into_inner();
    assert_eq!(old.superseded_by.len(), 1);
    assert_eq!(old.superseded_by[0].certificate_id, "acca-member");
    assert_eq!(
        old.superseded_by[0].title_level,
        TitleLevel::AssociateSenior as i32
    );
    assert_eq!(old.superseded_by[0].catalog_effective_from, "2025-01-01");

    let plain = client
        .get_certificate(GetCertificateRequest {
            id: "cfa".into(),
            ..Default::default()
        })
        .await
        .expect("GetCertificate")
        .into_inner();
    assert!(plain.supersedes.is_empty() && plain.superseded_by.is_empty());
}

#[test]
fn export_writes_a_review_page_of_the_embedded_catalog() {
    let (code, html, err) = certequiv(&["export", "--format", "html"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(html.matches("<article class=\"entry\"").count(), 33);
    assert!(html.contains("data-failing=\"0\""));
    let (code, schema, _) = certequiv(&["schema", "catalog"]);
    assert_eq!(code, 0);
    let committed = std::fs::read_to_string(
        workspace_root().join("crates/storage/catalogs/catalog.schema.json"),
    )
    .expect("committed schema");
    assert_eq!(schema.trim_end(), committed.trim_end());
}
