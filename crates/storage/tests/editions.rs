//! Entry history across editions (`supersedes`), checked on two fictional test catalogs
//! (`tests/data/editions/`): validation against the loaded set, the chain of each entry, and
//! what a diff of the two editions reports.
#![allow(clippy::unwrap_used)] // test helpers: a panic is a failed assertion

use std::path::{Path, PathBuf};

use certequiv_domain::TitleLevel;
use certequiv_domain::diff::{self, Change, EntryChange, MatchedBy};
use certequiv_storage::{Cases, CatalogSet, Source, load_source};

fn editions() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/editions")
}

fn set() -> CatalogSet {
    load_source(&Source::Dir(editions()), "北京市", Cases::Enforce)
        .unwrap_or_else(|e| panic!("{e}"))
}

/// A copy of the editions directory with one file's text edited.
fn edited(file: &str, edit: impl Fn(String) -> String) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir(editions()).unwrap() {
        let path = entry.unwrap().path();
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.file_name().unwrap() == file {
            text = edit(text);
        }
        std::fs::write(dir.path().join(path.file_name().unwrap()), text).unwrap();
    }
    dir
}

#[test]
fn an_entry_knows_the_entries_it_replaces_and_what_replaces_it() {
    let set = set();
    let new = set.get("bj-test-2025").unwrap();
    let position = new.catalog.position("acca-member").unwrap();
    let history = new.history(position).unwrap();
    let chain: Vec<String> = history
        .supersedes
        .iter()
        .map(|v| v.entry.to_string())
        .collect();
    assert_eq!(chain, ["bj-test-2024/acca", "bj-test-2023/acca"]);
    let loaded = history.supersedes[0].details.as_ref().unwrap();
    assert_eq!(loaded.title_level, TitleLevel::Intermediate);
    assert_eq!(loaded.effective_until.unwrap().to_string(), "2024-12-31");
    assert!(
        history.supersedes[1].details.is_none(),
        "bj-test-2023 is not loaded: only the reference is known"
    );
    assert!(history.superseded_by.is_empty());

    let old = set.get("bj-test-2024").unwrap();
    let position = old.catalog.position("acca").unwrap();
    let history = old.history(position).unwrap();
    let successors: Vec<String> = history
        .superseded_by
        .iter()
        .map(|v| v.entry.to_string())
        .collect();
    assert_eq!(successors, ["bj-test-2025/acca-member"]);
    assert_eq!(
        history.superseded_by[0]
            .details
            .as_ref()
            .unwrap()
            .title_level,
        TitleLevel::AssociateSenior
    );
    assert_eq!(history.supersedes.len(), 1, "2024's own predecessor");
    assert!(
        new.history(new.catalog.position("cfa").unwrap()).is_none(),
        "same id, no supersedes: no history"
    );
}

#[test]
fn supersedes_must_name_an_entry_of_a_loaded_earlier_catalog() {
    let missing = edited("bj-test-2025.toml", |t| {
        t.replace("bj-test-2024/acca\"", "bj-test-2024/acca-x\"")
    });
    let error = load_source(
        &Source::Dir(missing.path().into()),
        "北京市",
        Cases::Enforce,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains(
            "certificates[id=acca-member].supersedes: bj-test-2024/acca-x: catalog \"bj-test-2024\""
        ),
        "{error}"
    );

    let later = edited("bj-test-2024.toml", |t| {
        t.replace("2024-01-01", "2025-06-01")
            .replace("effective_until = \"2024-12-31\"\n", "")
            .replace("jurisdiction = \"北京市\"", "jurisdiction = \"上海市\"")
    });
    let error =
        load_source(&Source::Dir(later.path().into()), "北京市", Cases::Enforce).unwrap_err();
    assert!(error.to_string().contains("earlier catalog"), "{error}");

    let malformed = edited("bj-test-2025.toml", |t| {
        t.replace("bj-test-2024/acca\"", "acca\"")
    });
    let error = load_source(
        &Source::Dir(malformed.path().into()),
        "北京市",
        Cases::Enforce,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains("certificates[0].supersedes"),
        "{error}"
    );
}

#[test]
fn a_diff_of_two_editions_reports_the_renamed_entry_as_a_change() {
    let set = set();
    let (old, new) = (
        &set.get("bj-test-2024").unwrap().catalog,
        &set.get("bj-test-2025").unwrap().catalog,
    );
    let d = diff::diff(old, new);
    assert_eq!(d.counts(), (1, 1, 2), "{:#?}", d.entries);
    let EntryChange::Changed {
        old: before,
        new: after,
        matched_by,
        fields,
        rules,
    } = &d.entries[0]
    else {
        panic!("{:?}", d.entries[0]);
    };
    assert_eq!(
        (before.id.as_str(), after.id.as_str()),
        ("acca", "acca-member")
    );
    assert_eq!(*matched_by, MatchedBy::Supersedes);
    assert_eq!(
        fields[0].change,
        Change::Level {
            old: TitleLevel::Intermediate,
            new: TitleLevel::AssociateSenior
        }
    );
    let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
    assert_eq!(
        names,
        ["title_level", "id", "aliases", "remark", "supersedes"]
    );
    assert_eq!(rules.len(), 1);
    assert!(matches!(&d.entries[2], EntryChange::Added { entry } if entry.id == "cisa"));
    assert!(matches!(&d.entries[3], EntryChange::Removed { entry } if entry.id == "delta"));
    assert_eq!(d.level_changes().count(), 1);
    assert_eq!(d.sections.len(), 1);
    assert_eq!(d.not_listed.len(), 1);
}

#[test]
fn a_failing_case_refuses_the_directory_and_orphan_cases_are_errors() {
    let failing = edited("bj-test-2025.cases.toml", |t| {
        t.replace(
            "highest_title_level = \"副高级\"",
            "highest_title_level = \"中级\"",
        )
    });
    let error = load_source(
        &Source::Dir(failing.path().into()),
        "北京市",
        Cases::Enforce,
    )
    .unwrap_err();
    assert!(
        error.to_string().contains(
            "bj-test-2025.cases.toml:5: cases[0]: case \"ACCA会员 (renamed entry), basics confirmed, accountant: 副高级\" fails: highest_title_level: expected 中级, answered 副高级"
        ),
        "{error}"
    );
    // Attached, not run: the same directory loads for review.
    let set = load_source(&Source::Dir(failing.path().into()), "北京市", Cases::Attach).unwrap();
    let cases = set.get("bj-test-2025").unwrap().cases.as_ref().unwrap();
    assert_eq!(cases.cases.len(), 2);

    let orphan = edited("bj-test-2025.cases.toml", |t| t);
    std::fs::rename(
        orphan.path().join("bj-test-2025.cases.toml"),
        orphan.path().join("bj-test-2026.cases.toml"),
    )
    .unwrap();
    let error =
        load_source(&Source::Dir(orphan.path().into()), "北京市", Cases::Enforce).unwrap_err();
    assert!(
        error
            .to_string()
            .contains("no catalog file beside these cases"),
        "{error}"
    );
}
