//! `certequiv diff`: which catalogs to compare, and the comparison of each pair.
//!
//! Two files compare their catalogs. Two directories compare catalogs of the same id, or their
//! one catalog each whatever its id (an edition and the next); a catalog only on one side is
//! reported as added or removed whole. `--catalog-dir` compares two catalogs of one directory
//! by id (two editions loaded side by side).

use std::path::{Path, PathBuf};

use certequiv_domain::diff::{self, CatalogDiff, CatalogSide};
use certequiv_storage::{Cases, LoadedCatalog, expand_paths, load_files_with};

/// What to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DiffInput {
    /// Two files or two directories.
    Paths { old: PathBuf, new: PathBuf },
    /// Two catalog ids of one directory.
    Ids {
        dir: PathBuf,
        old: String,
        new: String,
    },
}

/// Everything `certequiv diff` reports.
#[derive(Debug, Clone)]
pub struct DiffRun {
    /// How the command named the two sides (paths, or `DIR:id`).
    pub old_label: String,
    pub new_label: String,
    /// One diff per pair of catalogs compared, changed or not.
    pub pairs: Vec<CatalogDiff>,
    /// Catalogs only on the new side, and only on the old side.
    pub added: Vec<CatalogSide>,
    pub removed: Vec<CatalogSide>,
}

impl DiffRun {
    /// Whether anything differs: `certequiv diff` exits 1 then, 0 otherwise.
    pub fn changed(&self) -> bool {
        !self.added.is_empty()
            || !self.removed.is_empty()
            || self.pairs.iter().any(|d| !d.is_empty())
    }
}

/// Loads both sides and compares them. Errors are for the user, one line each.
pub fn run(input: &DiffInput) -> Result<DiffRun, Vec<String>> {
    match input {
        DiffInput::Paths { old, new } => {
            let (before, after) = (load(old), load(new));
            let (before, after) = match (before, after) {
                (Ok(before), Ok(after)) => (before, after),
                (before, after) => {
                    let mut errors = before.err().unwrap_or_default();
                    errors.extend(after.err().unwrap_or_default());
                    return Err(errors);
                }
            };
            Ok(compare(
                old.display().to_string(),
                new.display().to_string(),
                &before,
                &after,
            ))
        }
        DiffInput::Ids { dir, old, new } => {
            let loaded = load(dir)?;
            let find = |id: &str| {
                loaded
                    .iter()
                    .find(|c| c.catalog.id() == id)
                    .ok_or_else(|| vec![format!("catalog {id:?} not found in {}", dir.display())])
            };
            let (before, after) = (find(old)?, find(new)?);
            Ok(DiffRun {
                old_label: format!("{}:{old}", dir.display()),
                new_label: format!("{}:{new}", dir.display()),
                pairs: vec![diff::diff(&before.catalog, &after.catalog)],
                added: Vec::new(),
                removed: Vec::new(),
            })
        }
    }
}

/// The catalogs of a file or directory, each with its cases attached (not run: a diff shows
/// an edit whose cases fail, `validate` refuses it).
fn load(path: &Path) -> Result<Vec<LoadedCatalog>, Vec<String>> {
    if !path.exists() {
        return Err(vec![format!(
            "{}: no such file or directory",
            path.display()
        )]);
    }
    let files = expand_paths(std::slice::from_ref(&path.to_path_buf())).map_err(|e| vec![e])?;
    load_files_with(&files, Cases::Attach)
        .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

fn compare(
    old_label: String,
    new_label: String,
    before: &[LoadedCatalog],
    after: &[LoadedCatalog],
) -> DiffRun {
    let mut run = DiffRun {
        old_label,
        new_label,
        pairs: Vec::new(),
        added: Vec::new(),
        removed: Vec::new(),
    };
    if let ([one], [other]) = (before, after) {
        run.pairs.push(diff::diff(&one.catalog, &other.catalog));
        return run;
    }
    for old in before {
        match after.iter().find(|c| c.catalog.id() == old.catalog.id()) {
            Some(new) => run.pairs.push(diff::diff(&old.catalog, &new.catalog)),
            None => run.removed.push(diff::side(&old.catalog)),
        }
    }
    for new in after {
        if !before.iter().any(|c| c.catalog.id() == new.catalog.id()) {
            run.added.push(diff::side(&new.catalog));
        }
    }
    run
}

#[cfg(test)]
mod tests {
    use super::*;

    fn editions() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/tests/data/editions")
    }

    #[test]
    fn two_files_compare_their_catalogs_whatever_their_ids() {
        let run = run(&DiffInput::Paths {
            old: editions().join("bj-test-2024.toml"),
            new: editions().join("bj-test-2025.toml"),
        })
        .unwrap();
        assert!(run.changed());
        assert_eq!(run.pairs.len(), 1);
        assert_eq!(run.pairs[0].counts(), (1, 1, 2));
    }

    #[test]
    fn two_ids_of_one_directory_compare_those_editions() {
        let run = run(&DiffInput::Ids {
            dir: editions(),
            old: "bj-test-2024".into(),
            new: "bj-test-2025".into(),
        })
        .unwrap();
        assert_eq!(run.pairs[0].level_changes().count(), 1);
        let missing = super::run(&DiffInput::Ids {
            dir: editions(),
            old: "bj-test-2024".into(),
            new: "nope".into(),
        })
        .unwrap_err();
        assert!(missing[0].contains("\"nope\" not found"), "{missing:?}");
    }

    #[test]
    fn a_file_compared_with_itself_has_no_change() {
        let file = editions().join("bj-test-2025.toml");
        let run = run(&DiffInput::Paths {
            old: file.clone(),
            new: file,
        })
        .unwrap();
        assert!(!run.changed());
    }

    #[test]
    fn directories_pair_catalogs_by_id_and_report_the_rest_whole() {
        let embedded = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/catalogs");
        let run = run(&DiffInput::Paths {
            old: editions(),
            new: embedded,
        })
        .unwrap();
        assert!(run.pairs.is_empty());
        let ids = |sides: &[CatalogSide]| sides.iter().map(|s| s.id.clone()).collect::<Vec<_>>();
        assert_eq!(ids(&run.removed), ["bj-test-2024", "bj-test-2025"]);
        assert_eq!(ids(&run.added), ["beijing-attachment-5"]);
        assert!(run.changed());
    }

    #[test]
    fn unreadable_sides_are_errors() {
        let errors = run(&DiffInput::Paths {
            old: "/nonexistent/a.toml".into(),
            new: editions().join("bj-test-2025.toml"),
        })
        .unwrap_err();
        assert!(errors[0].contains("no such file"), "{errors:?}");
    }
}
