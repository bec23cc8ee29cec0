//! Pure domain logic of certequiv: the catalog model, text normalization and search, and the
//! equivalence rules. No I/O and no gRPC here, so every rule is testable as a plain function.
//!
//! - [`model`]: the data of a catalog as read; [`catalog`]: the catalog validated and indexed;
//! - [`text`]: normalization shared by indexing and querying;
//! - [`search`]: the index and its ranking;
//! - [`equivalence`]: from claims to a title level, with conditions and citations;
//! - [`level`], [`rules`]: title levels and the rules an entry's remark states;
//! - [`cases`]: expected verdicts pinned beside a catalog; [`diff`]: what changed between two
//!   editions;
//! - [`budget`]: lazily kept values within a byte budget, for caches of large catalogs.
#![forbid(unsafe_code)]

pub mod budget;
pub mod cases;
pub mod catalog;
pub mod diff;
pub mod equivalence;
pub mod level;
pub mod model;
pub mod rules;
pub mod search;
pub mod text;

pub use catalog::{Catalog, CatalogParts, Violation};
pub use level::TitleLevel;
pub use model::{CatalogMeta, Certificate, EntryRef, Issuer, NotListed, Section};
pub use search::{CertificateFilter, KeyField, MatchKind, QueryText, SearchHit, SearchOutcome};
