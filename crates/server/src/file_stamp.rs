//! What tells a file version apart without reading it, for the files the server re-reads when
//! they change (TLS certificates, the tokens file).
//!
//! Kubernetes updates a mounted Secret by swapping its `..data` symlink, so the resolved path
//! changes; an edit in place changes the length or the modification time.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileStamp {
    resolved: Option<PathBuf>,
    len: u64,
    modified: Option<SystemTime>,
    /// Who may read it matters for secrets: a `chmod` alone is a change.
    permissions: Option<fs::Permissions>,
}

impl FileStamp {
    /// The stamp of `path` now; a missing file has a stamp of its own.
    pub fn of(path: &Path) -> FileStamp {
        let meta = fs::metadata(path).ok();
        FileStamp {
            resolved: fs::canonicalize(path).ok(),
            len: meta.as_ref().map_or(0, fs::Metadata::len),
            permissions: meta.as_ref().map(fs::Metadata::permissions),
            modified: meta.and_then(|m| m.modified().ok()),
        }
    }

    pub fn exists(&self) -> bool {
        self.resolved.is_some()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_and_removals_change_the_stamp() {
        let dir = std::env::temp_dir().join(format!("certequiv-stamp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("f");
        fs::write(&file, "one").unwrap();
        let first = FileStamp::of(&file);
        assert!(first.exists());
        fs::write(&file, "three").unwrap();
        assert_ne!(FileStamp::of(&file), first);
        fs::remove_file(&file).unwrap();
        assert!(!FileStamp::of(&file).exists());
        let _ = fs::remove_dir_all(&dir);
    }
}
