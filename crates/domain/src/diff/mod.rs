//! What changed between two catalogs (two editions of a list, or a file before and after an
//! edit): metadata, sections, entries and the not-listed section, field by field.
//!
//! Entries are matched by id, then by `supersedes` (an entry of the new catalog that names an
//! entry of the old one replaces it: a renamed id is a change, not a removal and an addition).
//! Texts are compared in tokens a reader sees as units: a Latin word, a number, one CJK
//! character, one punctuation mark, a run of spaces; Chinese has no spaces, so a word-level
//! diff would replace whole remarks.
//!
//! `entries` pairs and compares entries and their rules; `token_diff` compares two texts.

mod entries;
mod token_diff;

use crate::catalog::Catalog;
use crate::level::TitleLevel;
use crate::model::{NotListed, Section};

pub use token_diff::{text_diff, tokens};

/// Everything that differs between `old` and `new`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogDiff {
    pub old: CatalogSide,
    pub new: CatalogSide,
    /// `[catalog]` keys that changed.
    pub meta: Vec<FieldChange>,
    pub sections: Vec<SectionChange>,
    /// Changed and added entries in the new catalog's order, then removed ones in the old's.
    pub entries: Vec<EntryChange>,
    pub not_listed: Vec<NotListedChange>,
    /// Entries present on both sides with no change.
    pub unchanged_entries: usize,
}

impl CatalogDiff {
    /// True when the catalogs say the same (comments and layout aside).
    pub fn is_empty(&self) -> bool {
        self.meta.is_empty()
            && self.sections.is_empty()
            && self.entries.is_empty()
            && self.not_listed.is_empty()
    }

    /// The entries whose title level changed, old and new.
    pub fn level_changes(&self) -> impl Iterator<Item = (&EntrySummary, &EntrySummary)> {
        self.entries.iter().filter_map(|change| match change {
            EntryChange::Changed {
                old, new, fields, ..
            } if fields
                .iter()
                .any(|f| matches!(f.change, Change::Level { .. })) =>
            {
                Some((old, new))
            }
            _ => None,
        })
    }

    /// How many entries were added, removed and changed.
    pub fn counts(&self) -> (usize, usize, usize) {
        let mut counts = (0, 0, 0);
        for change in &self.entries {
            match change {
                EntryChange::Added { .. } => counts.0 += 1,
                EntryChange::Removed { .. } => counts.1 += 1,
                EntryChange::Changed { .. } => counts.2 += 1,
            }
        }
        counts
    }
}

/// Which catalog one side of a diff is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CatalogSide {
    pub id: String,
    pub title: String,
    pub etag: String,
    pub entries: usize,
}

/// One changed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    /// The key as the catalog file writes it, e.g. `title_level`, `remark`, `effective_from`.
    pub field: &'static str,
    pub change: Change,
}

/// How a field changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A title level: the change that matters most, reported first.
    Level { old: TitleLevel, new: TitleLevel },
    /// A text, with its token diff.
    Text {
        old: String,
        new: String,
        segments: Vec<Segment>,
    },
    /// A list of values: what was removed and added (and both lists, for context).
    List {
        old: Vec<String>,
        new: Vec<String>,
        removed: Vec<String>,
        added: Vec<String>,
    },
    /// A single value (a number, a date, an id); empty when absent.
    Value { old: String, new: String },
}

/// A piece of a text diff.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segment {
    pub kind: SegmentKind,
    pub text: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    Same,
    Removed,
    Added,
}

/// An entry as a change names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntrySummary {
    pub id: String,
    pub section: u32,
    pub item: u32,
    pub name_zh: String,
    pub title_level: TitleLevel,
    /// `catalog-id/entry-id` of the entry it replaces, if it names one.
    pub supersedes: Option<String>,
}

/// How the old and the new entry of a change were found to be the same entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MatchedBy {
    Id,
    /// The new entry's `supersedes` names the old one.
    Supersedes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryChange {
    Added {
        entry: EntrySummary,
    },
    Removed {
        entry: EntrySummary,
    },
    Changed {
        old: EntrySummary,
        new: EntrySummary,
        matched_by: MatchedBy,
        /// Title level first, then in file order.
        fields: Vec<FieldChange>,
        rules: Vec<RuleChange>,
    },
}

/// A rule as a change names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSummary {
    pub code: String,
    pub quote: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleChange {
    Added(RuleSummary),
    Removed(RuleSummary),
    Changed {
        code: String,
        fields: Vec<FieldChange>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SectionChange {
    Added(Section),
    Removed(Section),
    Changed {
        number: u32,
        fields: Vec<FieldChange>,
    },
}

/// Not-listed entries are matched by their first name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotListedChange {
    Added(NotListed),
    Removed(NotListed),
    Changed {
        name: String,
        fields: Vec<FieldChange>,
    },
}
/// Compares two catalogs.
pub fn diff(old: &Catalog, new: &Catalog) -> CatalogDiff {
    let (entries, unchanged_entries) = entries::diff_entries(old, new);
    CatalogDiff {
        old: side(old),
        new: side(new),
        meta: diff_meta(old, new),
        sections: diff_sections(old.sections(), new.sections()),
        entries,
        not_listed: diff_not_listed(old.not_listed(), new.not_listed()),
        unchanged_entries,
    }
}

/// One side of a diff: which catalog it is.
pub fn side(catalog: &Catalog) -> CatalogSide {
    CatalogSide {
        id: catalog.id().to_owned(),
        title: catalog.meta().title.clone(),
        etag: catalog.etag().to_owned(),
        entries: catalog.certificates().len(),
    }
}

fn diff_meta(old: &Catalog, new: &Catalog) -> Vec<FieldChange> {
    let (a, b) = (old.meta(), new.meta());
    let date = |d: Option<jiff::civil::Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let mut out = Vec::new();
    value(&mut out, "id", &a.id, &b.id);
    text(&mut out, "title", &a.title, &b.title);
    text(&mut out, "jurisdiction", &a.jurisdiction, &b.jurisdiction);
    text(&mut out, "source", &a.source, &b.source);
    value(
        &mut out,
        "effective_from",
        &date(a.effective_from),
        &date(b.effective_from),
    );
    value(
        &mut out,
        "effective_until",
        &date(a.effective_until),
        &date(b.effective_until),
    );
    out
}

fn diff_sections(old: &[Section], new: &[Section]) -> Vec<SectionChange> {
    let mut out = Vec::new();
    for section in new {
        match old.iter().find(|s| s.number == section.number) {
            None => out.push(SectionChange::Added(section.clone())),
            Some(before) => {
                let mut fields = Vec::new();
                text(&mut fields, "ordinal", &before.ordinal, &section.ordinal);
                text(&mut fields, "title", &before.title, &section.title);
                if !fields.is_empty() {
                    out.push(SectionChange::Changed {
                        number: section.number,
                        fields,
                    });
                }
            }
        }
    }
    for section in old {
        if !new.iter().any(|s| s.number == section.number) {
            out.push(SectionChange::Removed(section.clone()));
        }
    }
    out
}

fn diff_not_listed(old: &[NotListed], new: &[NotListed]) -> Vec<NotListedChange> {
    let key = |n: &NotListed| n.names.first().cloned().unwrap_or_default();
    let mut out = Vec::new();
    for entry in new {
        match old.iter().find(|o| key(o) == key(entry)) {
            None => out.push(NotListedChange::Added(entry.clone())),
            Some(before) => {
                let mut fields = Vec::new();
                list(&mut fields, "names", &before.names, &entry.names);
                text(&mut fields, "note_zh", &before.note_zh, &entry.note_zh);
                text(&mut fields, "note_en", &before.note_en, &entry.note_en);
                if !fields.is_empty() {
                    out.push(NotListedChange::Changed {
                        name: key(entry),
                        fields,
                    });
                }
            }
        }
    }
    for entry in old {
        if !new.iter().any(|n| key(n) == key(entry)) {
            out.push(NotListedChange::Removed(entry.clone()));
        }
    }
    out
}

fn value(out: &mut Vec<FieldChange>, field: &'static str, old: &str, new: &str) {
    if old != new {
        out.push(FieldChange {
            field,
            change: Change::Value {
                old: old.to_owned(),
                new: new.to_owned(),
            },
        });
    }
}

fn text(out: &mut Vec<FieldChange>, field: &'static str, old: &str, new: &str) {
    if old != new {
        out.push(FieldChange {
            field,
            change: Change::Text {
                old: old.to_owned(),
                new: new.to_owned(),
                segments: text_diff(old, new),
            },
        });
    }
}

fn list(out: &mut Vec<FieldChange>, field: &'static str, old: &[String], new: &[String]) {
    if old == new {
        return;
    }
    let removed = old.iter().filter(|v| !new.contains(v)).cloned().collect();
    let added = new.iter().filter(|v| !old.contains(v)).cloned().collect();
    out.push(FieldChange {
        field,
        change: Change::List {
            old: old.to_vec(),
            new: new.to_vec(),
            removed,
            added,
        },
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;

    fn catalog(certificates: Vec<crate::model::Certificate>) -> Catalog {
        Catalog::new(parts(certificates)).unwrap()
    }

    #[test]
    fn identical_catalogs_have_an_empty_diff() {
        let a = catalog(vec![cert("a", 1, 1, "甲", "A")]);
        let b = catalog(vec![cert("a", 1, 1, "甲", "A")]);
        let d = diff(&a, &b);
        assert!(d.is_empty(), "{d:?}");
        assert_eq!(d.unchanged_entries, 1);
    }

    #[test]
    fn sections_metadata_and_not_listed_are_compared() {
        let old = catalog(vec![cert("a", 1, 1, "甲", "A")]);
        let mut parts = parts(vec![cert("a", 1, 1, "甲", "A")]);
        parts.meta.effective_from = Some(jiff::civil::date(2026, 1, 1));
        parts.sections[1].title = "二（修订）".into();
        parts.sections.push(Section {
            number: 3,
            ordinal: "（三）".into(),
            title: "三".into(),
        });
        parts.not_listed.push(NotListed {
            names: vec!["PMP".into()],
            note_zh: String::new(),
            note_en: String::new(),
        });
        let new = Catalog::new(parts).unwrap();
        let d = diff(&old, &new);
        assert_eq!(
            d.meta,
            [FieldChange {
                field: "effective_from",
                change: Change::Value {
                    old: String::new(),
                    new: "2026-01-01".into()
                }
            }]
        );
        assert!(matches!(
            &d.sections[0],
            SectionChange::Changed { number: 2, .. }
        ));
        assert!(matches!(&d.sections[1], SectionChange::Added(s) if s.number == 3));
        assert!(matches!(&d.not_listed[0], NotListedChange::Added(n) if n.names == ["PMP"]));
        assert!(d.entries.is_empty());
        assert!(!d.is_empty());
    }
}
