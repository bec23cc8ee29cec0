//! The data of a catalog, as read from its source: plain values, no validation and no index
//! (those are [`crate::catalog::Catalog`]'s).

use std::sync::Arc;

use jiff::civil::Date;

use crate::catalog::is_valid_id;
use crate::level::TitleLevel;
use crate::rules::Rule;

/// Metadata of a catalog. Provenance the source does not state stays `None`/empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogMeta {
    /// Stable ASCII id, e.g. `beijing-attachment-5`.
    pub id: String,
    pub title: String,
    pub jurisdiction: String,
    /// Where the list comes from, e.g. "附件5".
    pub source: String,
    /// First day in force; `None` when the source states no date (in force since always).
    pub effective_from: Option<Date>,
    /// Last day in force; `None` when open-ended.
    pub effective_until: Option<Date>,
}

impl CatalogMeta {
    /// Whether the catalog is in force on `day`.
    pub fn in_force_on(&self, day: Date) -> bool {
        self.effective_from.is_none_or(|from| from <= day)
            && self.effective_until.is_none_or(|until| day <= until)
    }
}

/// A section (sub-list) of a catalog, e.g. "（一）急需紧缺境外职业资格清单".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Section {
    pub number: u32,
    /// The ordinal as printed, e.g. "（一）".
    pub ordinal: String,
    /// The heading verbatim, without the ordinal.
    pub title: String,
}

/// An issuing body as the catalog names it; either name may be empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer {
    pub name_zh: Arc<str>,
    pub name_en: Arc<str>,
}

/// One entry of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Certificate {
    pub id: String,
    pub section: u32,
    pub item: u32,
    pub name_zh: String,
    pub name_en: String,
    pub abbreviations: Vec<String>,
    pub aliases: Vec<String>,
    /// In source order; at least one.
    pub issuers: Vec<Issuer>,
    pub country_or_region: Arc<str>,
    pub fields: Vec<Arc<str>>,
    pub work_scope: Arc<str>,
    pub title_level: TitleLevel,
    pub remark: Arc<str>,
    /// Rules of this entry beyond the basic series requirements, each citing its remark.
    pub rules: Vec<Rule>,
    /// The entry of an earlier catalog this one replaces, when the file names one (boxed: most
    /// entries have none, and a large catalog holds many entries).
    pub supersedes: Option<Box<EntryRef>>,
}

/// An entry named across catalogs, written `catalog-id/entry-id`: how an entry of a new
/// edition names the entry it replaces in an earlier one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryRef {
    pub catalog_id: String,
    pub certificate_id: String,
}

impl EntryRef {
    /// Parses `catalog-id/entry-id`; both parts must be valid ids (see [`is_valid_id`]).
    pub fn parse(text: &str) -> Result<EntryRef, String> {
        let Some((catalog_id, certificate_id)) = text.split_once('/') else {
            return Err(format!(
                "{text:?} must be written catalog-id/entry-id, e.g. \"beijing-attachment-5/fcca\""
            ));
        };
        for (what, id) in [("catalog id", catalog_id), ("entry id", certificate_id)] {
            if !is_valid_id(id) {
                return Err(format!(
                    "{what} {id:?} in {text:?} must be 1-63 characters of a-z, 0-9 and '-', starting with a letter"
                ));
            }
        }
        Ok(EntryRef {
            catalog_id: catalog_id.to_owned(),
            certificate_id: certificate_id.to_owned(),
        })
    }
}

impl std::fmt::Display for EntryRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.catalog_id, self.certificate_id)
    }
}

/// A real certificate that is *not* on the list, named so that look-alikes ("CELTA" for
/// "DELTA", "CFA Level II" for "CFA") are refused plainly instead of queried.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotListed {
    pub names: Vec<String>,
    pub note_zh: String,
    pub note_en: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_range_is_inclusive() {
        let meta = CatalogMeta {
            id: "c".into(),
            title: "t".into(),
            jurisdiction: "北京市".into(),
            source: String::new(),
            effective_from: Some(jiff::civil::date(2025, 1, 1)),
            effective_until: Some(jiff::civil::date(2025, 12, 31)),
        };
        assert!(!meta.in_force_on(jiff::civil::date(2024, 12, 31)));
        assert!(meta.in_force_on(jiff::civil::date(2025, 1, 1)));
        assert!(meta.in_force_on(jiff::civil::date(2025, 12, 31)));
        assert!(!meta.in_force_on(jiff::civil::date(2026, 1, 1)));
    }
}
