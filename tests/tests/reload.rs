//! Hot reload under load: clients keep calling while the catalog file is swapped 100 times;
//! no call fails and every response is consistent with exactly one catalog version (in
//! process). A broken file is refused, said in the log (the binary) and in ListCatalogs.

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use certequiv_api::v1::{ListCatalogsRequest, ListCertificatesRequest, SearchCertificatesRequest};
use common::process::spawn_app_with;
use common::{Running, TempDir, in_process, workspace_root};
use tokio::sync::Mutex;

const SWAPS: usize = 100;
const CLIENTS: usize = 4;

fn embedded() -> String {
    std::fs::read_to_string(
        workspace_root().join("crates/storage/catalogs/beijing-attachment-5.toml"),
    )
    .expect("read the embedded catalog source")
}

fn version(base: &str, tag: &str) -> String {
    base.replace(
        "name_en = \"Chartered Financial Analyst\"",
        &format!("name_en = \"Chartered Financial Analyst {tag}\""),
    )
}

/// Replaces the file atomically, as an editor or a deploy tool would.
fn swap_in(dir: &std::path::Path, text: &str) {
    let tmp = dir.join(".bj.toml.tmp");
    std::fs::write(&tmp, text).expect("write the new version");
    std::fs::rename(&tmp, dir.join("bj.toml")).expect("rename into place");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn swapping_the_catalog_100_times_under_load_fails_no_call() {
    let base = embedded();
    let versions = [version(&base, "A"), version(&base, "B")];
    let dir = TempDir::new("reload");
    swap_in(dir.path(), &versions[0]);
    let app = in_process::start_with(|setup| {
        setup.catalog_dir = Some(dir.path().to_owned());
        setup.config.reload_interval = Duration::from_millis(50);
    })
    .await;

    let stop = Arc::new(AtomicBool::new(false));
    let calls = Arc::new(AtomicU64::new(0));
    // etag -> the cfa name_en seen with it; one etag must always come with one content.
    let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let mut clients = Vec::new();
    for i in 0..CLIENTS {
        let mut certificates = app.certificates().await;
        let (stop, calls, seen) = (Arc::clone(&stop), Arc::clone(&calls), Arc::clone(&seen));
        clients.push(tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                let (etag, name) = if i % 2 == 0 {
                    let page = certificates
                        .list_certificates(ListCertificatesRequest {
                            page_size: 100,
                            ..Default::default()
                        })
                        .await
                        .map_err(|s| format!("ListCertificates failed: {s:?}"))?
                        .into_inner();
                    let cfa = page
                        .certificates
                        .iter()
                        .find(|c| c.id == "cfa")
                        .map(|c| c.name_en.clone());
                    (page.catalog_etag, cfa.unwrap_or_default())
                } else {
                    let found = certificates
                        .search_certificates(SearchCertificatesRequest {
                            query: "CFA".into(),
                            ..Default::default()
                        })
                        .await
                        .map_err(|s| format!("SearchCertificates failed: {s:?}"))?
                        .into_inner();
                    let top = found
                        .results
                        .first()
                        .and_then(|r| r.certificate.as_ref())
                        .map(|c| c.name_en.clone());
                    (found.catalog_etag, top.unwrap_or_default())
                };
                calls.fetch_add(1, Ordering::Relaxed);
                let mut seen = seen.lock().await;
                let first = seen.entry(etag.clone()).or_insert_with(|| name.clone());
                if *first != name {
                    return Err(format!("etag {etag} served {first:?} and {name:?}"));
                }
            }
            Ok::<(), String>(())
        }));
    }

    let mut catalogs = app.certificates().await;
    let mut current = catalogs
        .list_catalogs(ListCatalogsRequest {})
        .await
        .expect("ListCatalogs")
        .into_inner()
        .catalogs[0]
        .etag
        .clone();
    let mut reloads = 0;
    for swap in 1..=SWAPS {
        swap_in(dir.path(), &versions[swap % 2]);
        // Wait until the server serves the new version before the next swap, so each of the
        // 100 swaps is really loaded.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let etag = catalogs
                .list_catalogs(ListCatalogsRequest {})
                .await
                .expect("ListCatalogs")
                .into_inner()
                .catalogs[0]
                .etag
                .clone();
            if etag != current {
                current = etag;
                reloads += 1;
                break;
            }
            assert!(
                Instant::now() < deadline,
                "swap {swap} was not loaded within 10 s"
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client
            .await
            .expect("client task")
            .expect("every call succeeds and is consistent");
    }

    assert_eq!(reloads, SWAPS);
    let seen = seen.lock().await;
    assert_eq!(seen.len(), 2, "two versions, two etags: {seen:?}");
    let mut names: Vec<&String> = seen.values().collect();
    names.sort();
    assert_eq!(
        names,
        [
            "Chartered Financial Analyst A",
            "Chartered Financial Analyst B"
        ]
    );
    assert!(
        calls.load(Ordering::Relaxed) > SWAPS as u64,
        "the clients kept calling"
    );
}

#[tokio::test]
async fn a_broken_file_is_refused_while_the_old_catalog_serves_and_shows_in_list_catalogs() {
    let base = embedded();
    let dir = TempDir::new("reload-broken");
    swap_in(dir.path(), &version(&base, "A"));
    let app = spawn_app_with(&[
        "--catalog-dir",
        dir.path().to_str().expect("utf-8 temp path"),
        "--reload-interval",
        "50ms",
    ]);
    let mut client = app.certificates().await;
    let before = client
        .list_catalogs(ListCatalogsRequest {})
        .await
        .expect("ListCatalogs")
        .into_inner();

    swap_in(
        dir.path(),
        &version(&base, "A").replace("title_level = \"中级\"", "title_level = \"特级\""),
    );
    let line = app.wait_for_log(Duration::from_secs(10), |l| {
        l.contains("catalog reload refused")
    });
    assert!(
        line.contains("bj.toml") && line.contains("title_level"),
        "{line}"
    );

    let after = client
        .list_catalogs(ListCatalogsRequest {})
        .await
        .expect("ListCatalogs")
        .into_inner();
    assert_eq!(
        after.catalogs[0].etag, before.catalogs[0].etag,
        "the loaded catalog keeps serving"
    );
    let status = after.last_reload.expect("last_reload is set");
    assert!(!status.ok);
    assert_eq!(status.failures_total, 1);
    assert!(status.error.contains("title_level"), "{}", status.error);

    swap_in(dir.path(), &version(&base, "fixed"));
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
        assert!(Instant::now() < deadline, "the fixed file was not loaded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
