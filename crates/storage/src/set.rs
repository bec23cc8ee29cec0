//! A consistent set of catalogs (jurisdictions and versions) and the choice of one per request.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use certequiv_domain::{Catalog, EntryRef, TitleLevel};
use jiff::civil::Date;

use crate::FileError;
use crate::cases::CaseFile;

/// A catalog, where it was loaded from, and the wire form of its entries once served.
#[derive(Debug)]
pub struct LoadedCatalog {
    pub catalog: Catalog,
    /// "embedded" or the file name.
    pub origin: String,
    /// One slot per certificate (same positions as [`Catalog::certificates`]) for the bytes
    /// the server sends for it, encoded on first use and then shared by every answer until
    /// the catalog is replaced, as long as the kept encodings stay within `budget` bytes;
    /// entries first served after that are encoded per answer. Kept without a budget, a client
    /// paging through 100,000 entries would add some 80 MB.
    encoded: Box<[OnceLock<Bytes>]>,
    kept_bytes: AtomicUsize,
    budget: usize,
    /// The expected-verdict cases loaded with the catalog, if it has any.
    pub cases: Option<CaseFile>,
    /// The editions of entries that have some, by position: filled in when the set is built,
    /// since it depends on the other catalogs loaded.
    history: HashMap<usize, History>,
}

/// An entry's place among the editions of a list: what it replaces and what replaces it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    /// The entry it names in `supersedes`, then the one that entry names, and so on, as far as
    /// the loaded catalogs tell (the last may be an entry of a catalog not loaded).
    pub supersedes: Vec<Version>,
    /// Entries of the loaded catalogs that name this one in `supersedes`.
    pub superseded_by: Vec<Version>,
}

/// An entry of another edition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Version {
    pub entry: EntryRef,
    /// What that edition says of it; `None` when its catalog is not loaded.
    pub details: Option<VersionDetails>,
}

/// An entry as its (loaded) catalog states it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionDetails {
    pub name_zh: String,
    pub title_level: TitleLevel,
    pub effective_from: Option<Date>,
    pub effective_until: Option<Date>,
}

/// Bytes of encoded entries a catalog keeps: every entry of a catalog of up to about 20,000
/// entries, the entries served first of a larger one.
pub const KEEP_ENCODED_BYTES: usize = 16 << 20;

impl LoadedCatalog {
    pub fn new(catalog: Catalog, origin: impl Into<String>) -> LoadedCatalog {
        LoadedCatalog::with_budget(catalog, origin, KEEP_ENCODED_BYTES)
    }

    fn with_budget(catalog: Catalog, origin: impl Into<String>, budget: usize) -> LoadedCatalog {
        let entries = catalog.certificates().len();
        LoadedCatalog {
            catalog,
            origin: origin.into(),
            encoded: (0..entries).map(|_| OnceLock::new()).collect(),
            kept_bytes: AtomicUsize::new(0),
            budget,
            cases: None,
            history: HashMap::new(),
        }
    }

    /// The history of the certificate at `position`, when it supersedes or is superseded by
    /// an entry of another edition.
    pub fn history(&self, position: usize) -> Option<&History> {
        self.history.get(&position)
    }

    /// The encoded form of the certificate at `position`: kept from an earlier answer, or made
    /// by `encode` (and kept while the budget allows).
    pub fn encoded(&self, position: usize, encode: impl FnOnce() -> Bytes) -> Bytes {
        let Some(slot) = self.encoded.get(position) else {
            return encode();
        };
        if let Some(bytes) = slot.get() {
            return bytes.clone();
        }
        // Answers that first need this entry at the same moment each encode it (the bytes are
        // the same); one copy is kept. No lock on the read path.
        let bytes = encode();
        // A soft limit: answers encoding at the same moment may pass it by an entry each.
        let kept = self.kept_bytes.load(Ordering::Relaxed);
        if kept + bytes.len() <= self.budget && slot.set(bytes.clone()).is_ok() {
            self.kept_bytes.fetch_add(bytes.len(), Ordering::Relaxed);
        }
        bytes
    }
}

/// Which catalog a request wants.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    /// The catalog in force today for the default jurisdiction.
    Default,
    Id(String),
    /// The catalog in force on that day for the default jurisdiction.
    AsOf(Date),
}

/// Why no catalog could be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectError {
    #[error("catalog {0:?} not found")]
    UnknownCatalog(String),
    #[error("no catalog for {jurisdiction} is in force on {day}")]
    NoneInForce { jurisdiction: String, day: Date },
}

/// Every catalog the server serves, validated together. Immutable; replaced whole on reload.
#[derive(Debug)]
pub struct CatalogSet {
    /// Sorted by jurisdiction, then start of validity.
    catalogs: Vec<Arc<LoadedCatalog>>,
    default_jurisdiction: String,
}

impl CatalogSet {
    /// Checks what only the whole set can show: unique catalog ids, no overlapping validity
    /// ranges within a jurisdiction, and at least one catalog for the default jurisdiction.
    pub fn new(
        mut catalogs: Vec<LoadedCatalog>,
        default_jurisdiction: &str,
    ) -> Result<CatalogSet, Vec<FileError>> {
        let mut errors = Vec::new();
        if catalogs.is_empty() {
            errors.push(FileError::whole("catalog set", "no catalogs to load"));
            return Err(errors);
        }
        catalogs.sort_by(|a, b| {
            let (ma, mb) = (a.catalog.meta(), b.catalog.meta());
            (&ma.jurisdiction, ma.effective_from, &ma.id).cmp(&(
                &mb.jurisdiction,
                mb.effective_from,
                &mb.id,
            ))
        });
        let mut seen: HashMap<&str, &str> = HashMap::new();
        for loaded in &catalogs {
            if let Some(first) = seen.insert(loaded.catalog.id(), &loaded.origin) {
                errors.push(FileError::field(
                    &loaded.origin,
                    "catalog.id",
                    format!(
                        "catalog id {:?} is also used by {first}",
                        loaded.catalog.id()
                    ),
                ));
            }
        }
        for pair in catalogs.windows(2) {
            let (a, b) = (pair[0].catalog.meta(), pair[1].catalog.meta());
            if a.jurisdiction != b.jurisdiction {
                continue;
            }
            let a_ends_before_b = match (a.effective_until, b.effective_from) {
                (Some(until), Some(from)) => until < from,
                _ => false,
            };
            if !a_ends_before_b {
                errors.push(FileError::field(
                    &pair[1].origin,
                    "catalog.effective_from",
                    format!(
                        "validity of {:?} overlaps {:?} ({}) for jurisdiction {}",
                        b.id, a.id, pair[0].origin, b.jurisdiction
                    ),
                ));
            }
        }
        errors.extend(supersedes_errors(&catalogs));
        if !catalogs
            .iter()
            .any(|c| c.catalog.meta().jurisdiction == default_jurisdiction)
        {
            errors.push(FileError::whole(
                "catalog set",
                format!("no catalog for the default jurisdiction {default_jurisdiction}"),
            ));
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        let histories = histories(&catalogs);
        for (loaded, history) in catalogs.iter_mut().zip(histories) {
            loaded.history = history;
        }
        Ok(CatalogSet {
            catalogs: catalogs.into_iter().map(Arc::new).collect(),
            default_jurisdiction: default_jurisdiction.to_owned(),
        })
    }

    pub fn catalogs(&self) -> &[Arc<LoadedCatalog>] {
        &self.catalogs
    }

    pub fn default_jurisdiction(&self) -> &str {
        &self.default_jurisdiction
    }

    pub fn get(&self, id: &str) -> Option<&Arc<LoadedCatalog>> {
        self.catalogs.iter().find(|c| c.catalog.id() == id)
    }

    /// The catalog in force on `day` for the default jurisdiction.
    pub fn in_force(&self, day: Date) -> Option<&Arc<LoadedCatalog>> {
        self.catalogs.iter().find(|c| {
            let meta = c.catalog.meta();
            meta.jurisdiction == self.default_jurisdiction && meta.in_force_on(day)
        })
    }

    /// Chooses the catalog for a request; `today` is the calendar day in the service's zone.
    pub fn select(
        &self,
        selector: &Selector,
        today: Date,
    ) -> Result<&Arc<LoadedCatalog>, SelectError> {
        let day = match selector {
            Selector::Id(id) => {
                return self
                    .get(id)
                    .ok_or_else(|| SelectError::UnknownCatalog(id.clone()));
            }
            Selector::Default => today,
            Selector::AsOf(day) => *day,
        };
        self.in_force(day).ok_or_else(|| SelectError::NoneInForce {
            jurisdiction: self.default_jurisdiction.clone(),
            day,
        })
    }
}

/// The index of the catalog of `entry` and its position there, when that catalog is loaded
/// and holds it.
fn find(catalogs: &[LoadedCatalog], entry: &EntryRef) -> Option<(usize, usize)> {
    let index = catalogs
        .iter()
        .position(|c| c.catalog.id() == entry.catalog_id)?;
    let position = catalogs[index].catalog.position(&entry.certificate_id)?;
    Some((index, position))
}

fn version(entry: EntryRef, found: Option<(&LoadedCatalog, usize)>) -> Version {
    Version {
        entry,
        details: found.map(|(loaded, position)| {
            let cert = &loaded.catalog.certificates()[position];
            let meta = loaded.catalog.meta();
            VersionDetails {
                name_zh: cert.name_zh.clone(),
                title_level: cert.title_level,
                effective_from: meta.effective_from,
                effective_until: meta.effective_until,
            }
        }),
    }
}

/// `supersedes` naming a loaded catalog must name an entry it holds, of an earlier edition (by
/// `effective_from`, when either catalog states one); what names a catalog not loaded is
/// taken as written (its format is checked when the file is read).
fn supersedes_errors(catalogs: &[LoadedCatalog]) -> Vec<FileError> {
    let mut errors = Vec::new();
    for loaded in catalogs {
        for cert in loaded.catalog.certificates() {
            let Some(earlier) = cert.supersedes.as_deref() else {
                continue;
            };
            let Some(other) = catalogs
                .iter()
                .find(|c| c.catalog.id() == earlier.catalog_id)
            else {
                continue;
            };
            let field = format!("certificates[id={}].supersedes", cert.id);
            if other.catalog.position(&earlier.certificate_id).is_none() {
                errors.push(FileError::field(
                    &loaded.origin,
                    &field,
                    format!(
                        "{earlier}: catalog {:?} ({}) has no entry {:?}",
                        earlier.catalog_id, other.origin, earlier.certificate_id
                    ),
                ));
                continue;
            }
            let (from, earlier_from) = (
                loaded.catalog.meta().effective_from,
                other.catalog.meta().effective_from,
            );
            // `None` (in force since always) sorts first, as it should.
            if (from.is_some() || earlier_from.is_some()) && earlier_from >= from {
                let day = |d: Option<Date>| d.map_or("always".to_owned(), |d| d.to_string());
                errors.push(FileError::field(
                    &loaded.origin,
                    &field,
                    format!(
                        "{earlier}: an entry supersedes an entry of an earlier catalog, but {:?} is in force from {} and {:?} from {}",
                        earlier.catalog_id,
                        day(earlier_from),
                        loaded.catalog.id(),
                        day(from)
                    ),
                ));
            }
        }
    }
    errors
}

/// Every entry's history across the loaded catalogs, per catalog and position.
fn histories(catalogs: &[LoadedCatalog]) -> Vec<HashMap<usize, History>> {
    let mut out: Vec<HashMap<usize, History>> = vec![HashMap::new(); catalogs.len()];
    for (c, loaded) in catalogs.iter().enumerate() {
        for (position, cert) in loaded.catalog.certificates().iter().enumerate() {
            let Some(first) = cert.supersedes.as_deref() else {
                continue;
            };
            let this = EntryRef {
                catalog_id: loaded.catalog.id().to_owned(),
                certificate_id: cert.id.clone(),
            };
            // Walk back through the editions; the set of seen entries ends a loop that
            // catalogs without dates could form.
            let mut seen = vec![this.clone()];
            let mut chain = Vec::new();
            let mut next = Some(first.clone());
            while let Some(entry) = next.take() {
                if seen.contains(&entry) {
                    break;
                }
                seen.push(entry.clone());
                let found = find(catalogs, &entry).map(|(index, at)| (&catalogs[index], at, index));
                if let Some((older, at, index)) = found {
                    next = older.catalog.certificates()[at]
                        .supersedes
                        .as_deref()
                        .cloned();
                    if chain.is_empty() {
                        out[index]
                            .entry(at)
                            .or_default()
                            .superseded_by
                            .push(version(this.clone(), Some((loaded, position))));
                    }
                }
                chain.push(version(entry, found.map(|(older, at, _)| (older, at))));
            }
            out[c].entry(position).or_default().supersedes = chain;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use certequiv_domain::{CatalogMeta, CatalogParts, Certificate, Issuer, Section, TitleLevel};
    use jiff::civil::date;

    fn catalog(
        id: &str,
        jurisdiction: &str,
        from: Option<Date>,
        until: Option<Date>,
    ) -> LoadedCatalog {
        let cert = Certificate {
            id: "a".into(),
            section: 1,
            item: 1,
            name_zh: format!("{id}甲"),
            name_en: String::new(),
            abbreviations: vec![],
            aliases: vec![],
            issuers: vec![Issuer {
                name_zh: "会".into(),
                name_en: "".into(),
            }],
            country_or_region: "".into(),
            fields: vec![],
            work_scope: "从事甲。".into(),
            title_level: TitleLevel::Intermediate,
            remark: "从事甲。".into(),
            rules: vec![],
            supersedes: None,
        };
        let parts = CatalogParts {
            meta: CatalogMeta {
                id: id.into(),
                title: "T".into(),
                jurisdiction: jurisdiction.into(),
                source: String::new(),
                effective_from: from,
                effective_until: until,
            },
            sections: vec![Section {
                number: 1,
                ordinal: String::new(),
                title: "一".into(),
            }],
            certificates: vec![cert],
            not_listed: vec![],
            etag: id.into(),
        };
        LoadedCatalog::new(Catalog::new(parts).unwrap(), format!("{id}.toml"))
    }

    fn versions() -> CatalogSet {
        CatalogSet::new(
            vec![
                catalog(
                    "bj-2025",
                    "北京市",
                    Some(date(2025, 1, 1)),
                    Some(date(2025, 12, 31)),
                ),
                catalog("bj-2026", "北京市", Some(date(2026, 1, 1)), None),
                catalog("sh-2025", "上海市", None, None),
            ],
            "北京市",
        )
        .unwrap()
    }

    #[test]
    fn encoded_entries_are_kept_only_within_the_budget() {
        let calls = std::cell::Cell::new(0);
        let encode = || {
            calls.set(calls.get() + 1);
            Bytes::from_static(b"twenty bytes of wire")
        };
        let within = LoadedCatalog::with_budget(catalog("a", "北京市", None, None).catalog, "", 20);
        within.encoded(0, encode);
        assert_eq!(within.encoded(0, encode), &b"twenty bytes of wire"[..]);
        assert_eq!(calls.get(), 1, "the second answer reuses the kept bytes");

        calls.set(0);
        let over = LoadedCatalog::with_budget(catalog("a", "北京市", None, None).catalog, "", 19);
        over.encoded(0, encode);
        over.encoded(0, encode);
        assert_eq!(calls.get(), 2, "past the budget every answer encodes");
        over.encoded(7, encode);
        assert_eq!(
            calls.get(),
            3,
            "a position out of range is encoded, not kept"
        );
    }

    #[test]
    fn as_of_picks_the_version_in_force_on_range_boundaries() {
        let set = versions();
        let pick = |d| {
            set.select(&Selector::AsOf(d), date(2030, 1, 1))
                .map(|c| c.catalog.id().to_owned())
        };
        assert_eq!(pick(date(2025, 1, 1)), Ok("bj-2025".into()));
        assert_eq!(pick(date(2025, 12, 31)), Ok("bj-2025".into()));
        assert_eq!(pick(date(2026, 1, 1)), Ok("bj-2026".into()));
        assert!(matches!(
            pick(date(2024, 12, 31)),
            Err(SelectError::NoneInForce { .. })
        ));
    }

    #[test]
    fn default_is_in_force_today_and_ids_select_any_jurisdiction() {
        let set = versions();
        let today = set.select(&Selector::Default, date(2026, 11, 26)).unwrap();
        assert_eq!(today.catalog.id(), "bj-2026");
        let sh = set
            .select(&Selector::Id("sh-2025".into()), date(2026, 11, 26))
            .unwrap();
        assert_eq!(sh.catalog.id(), "sh-2025");
        assert_eq!(
            set.select(&Selector::Id("nope".into()), date(2026, 1, 1))
                .unwrap_err(),
            SelectError::UnknownCatalog("nope".into())
        );
    }

    #[test]
    fn overlapping_ranges_in_one_jurisdiction_are_refused() {
        let errors = CatalogSet::new(
            vec![
                catalog("bj-a", "北京市", Some(date(2025, 1, 1)), None),
                catalog("bj-b", "北京市", Some(date(2026, 1, 1)), None),
            ],
            "北京市",
        )
        .unwrap_err();
        assert!(errors[0].message.contains("overlaps"), "{errors:?}");
    }

    #[test]
    fn duplicate_ids_and_missing_default_jurisdiction_are_refused() {
        let errors = CatalogSet::new(
            vec![
                catalog("x", "上海市", None, None),
                catalog("x", "广州市", None, None),
            ],
            "北京市",
        )
        .unwrap_err();
        assert_eq!(errors.len(), 2, "{errors:?}");
    }
}
