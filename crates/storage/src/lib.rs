//! Catalog sources for certequiv: the embedded default catalog and catalog files, their
//! validation, versions with validity ranges, and hot reload that never loses the good set.
#![forbid(unsafe_code)]

pub mod cases;
pub mod file;
pub mod jsonl;
mod schema;
pub mod set;
pub mod store;
#[cfg(feature = "synthetic")]
pub mod synthetic;
mod translate;

use std::fmt;
use std::path::Path;

use certequiv_domain::CatalogParts;

pub use cases::CaseFile;
pub use set::{
    CatalogSet, History, KEEP_ENCODED_BYTES, LoadedCatalog, SelectError, Selector, Version,
    VersionDetails,
};
pub use store::{
    Cases, ReloadStatus, Source, Store, cases_files, catalog_files, expand_paths, load_embedded,
    load_files, load_files_with, load_source, load_text, load_text_as,
};

/// The default catalog, compiled in so the binary serves without any file.
pub const EMBEDDED_CATALOG: &str = include_str!("../catalogs/beijing-attachment-5.toml");
/// The expected-verdict cases of the embedded catalog, run whenever it is loaded to serve.
pub const EMBEDDED_CASES: &str = include_str!("../catalogs/beijing-attachment-5.cases.toml");
/// The origin the embedded catalog reports.
pub const EMBEDDED_ORIGIN: &str = "embedded";
/// The jurisdiction whose catalog in force is the default.
pub const DEFAULT_JURISDICTION: &str = "北京市";

/// The format of a catalog file, told by its extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `NAME.toml`: the format people write and review ([`file`]).
    Toml,
    /// `NAME.jsonl`: JSON Lines, for large generated catalogs ([`jsonl`]).
    Jsonl,
}

impl Format {
    /// Every format, in the order a cases file looks for its catalog file.
    pub const ALL: [Format; 2] = [Format::Toml, Format::Jsonl];

    /// The extension of a catalog file of this format, without the dot.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Toml => "toml",
            Format::Jsonl => "jsonl",
        }
    }

    /// The format of the catalog file `path`, or `None` when its extension is neither.
    pub fn of_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?;
        Format::ALL
            .into_iter()
            .find(|format| extension == format.extension())
    }

    /// Parses one catalog file of this format. `origin` names it in errors.
    pub fn parse(self, origin: &str, text: &str) -> Result<CatalogParts, Vec<FileError>> {
        match self {
            Format::Toml => file::parse(origin, text),
            Format::Jsonl => jsonl::parse(origin, text),
        }
    }

    /// [`Format::parse`], with the lines of the file's tables for locating later violations.
    pub(crate) fn parse_located(
        self,
        origin: &str,
        text: &str,
    ) -> Result<(CatalogParts, translate::TableLines), Vec<FileError>> {
        match self {
            Format::Toml => file::parse(origin, text).map(|parts| (parts, file::table_lines(text))),
            Format::Jsonl => jsonl::parse_located(origin, text),
        }
    }
}

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
    fn a_catalog_file_format_is_told_by_its_extension() {
        let table = [
            ("dir/bj.toml", Some(Format::Toml)),
            ("bj.jsonl", Some(Format::Jsonl)),
            ("bj.cases.toml", Some(Format::Toml)),
            ("bj.json", None),
            ("bj.TOML", None),
            ("toml", None),
            ("bj.jsonl.bak", None),
        ];
        for (path, format) in table {
            assert_eq!(Format::of_path(Path::new(path)), format, "{path}");
        }
    }

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
