//! Catalog sources for certequiv: the embedded default catalog and catalog files, their
//! validation, versions with validity ranges, and hot reload that never loses the good set.
#![forbid(unsafe_code)]

pub mod cases;
pub mod file;
pub mod set;
pub mod store;
pub mod synthetic;

use std::fmt;

pub use cases::CaseFile;
pub use set::{
    CatalogSet, History, KEEP_ENCODED_BYTES, LoadedCatalog, SelectError, Selector, Version,
    VersionDetails,
};
pub use store::{
    Cases, ReloadStatus, Source, Store, cases_files, catalog_files, expand_paths, load_embedded,
    load_files, load_files_with, load_source, load_text,
};

/// The default catalog, compiled in so the binary serves without any file.
pub const EMBEDDED_CATALOG: &str = include_str!("../catalogs/beijing-attachment-5.toml");
/// The expected-verdict cases of the embedded catalog, run whenever it is loaded to serve.
pub const EMBEDDED_CASES: &str = include_str!("../catalogs/beijing-attachment-5.cases.toml");
/// The origin the embedded catalog reports.
pub const EMBEDDED_ORIGIN: &str = "embedded";
/// The jurisdiction whose catalog in force is the default.
pub const DEFAULT_JURISDICTION: &str = "北京市";

/// One problem in one catalog file: where (file, line, field) and what.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileError {
    pub origin: String,
    pub line: Option<usize>,
    /// Path of the field, e.g. `certificates[3].aliases`; empty for syntax errors.
    pub field: String,
    pub message: String,
}

impl FileError {
    pub(crate) fn whole(origin: &str, message: impl Into<String>) -> FileError {
        FileError {
            origin: origin.to_owned(),
            line: None,
            field: String::new(),
            message: message.into(),
        }
    }

    pub(crate) fn field(origin: &str, field: &str, message: impl Into<String>) -> FileError {
        FileError {
            origin: origin.to_owned(),
            line: None,
            field: field.to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if !self.field.is_empty() {
            write!(f, ": {}", self.field)?;
        }
        write!(f, ": {}", self.message)
    }
}

/// A load that was refused, with every problem found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError(pub Vec<FileError>);

/// Problems a [`LoadError`] shows; the rest are counted. Reload errors reach every caller of
/// `ListCatalogs` and the log, so a directory of thousands of bad files must not make them
/// thousands of lines long.
pub const SHOWN_PROBLEMS: usize = 10;

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().take(SHOWN_PROBLEMS).enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{error}")?;
        }
        if let Some(more) = self.0.len().checked_sub(SHOWN_PROBLEMS).filter(|&n| n > 0) {
            write!(f, "; and {more} more problems")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_load_error_shows_the_first_problems_and_counts_the_rest() {
        let error = LoadError(
            (0..25)
                .map(|i| FileError::whole(&format!("bad{i}.toml"), "broken"))
                .collect(),
        );
        let text = error.to_string();
        assert!(
            text.contains("bad9.toml") && !text.contains("bad10.toml"),
            "{text}"
        );
        assert!(text.ends_with("; and 15 more problems"), "{text}");
        let one = LoadError(vec![FileError::whole("a.toml", "broken")]);
        assert_eq!(one.to_string(), "a.toml: broken");
    }
}
