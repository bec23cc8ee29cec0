//! What changed between two catalogs (two editions of a list, or a file before and after an
//! edit): metadata, sections, entries and the not-listed section, field by field.
//!
//! Entries are matched by id, then by `supersedes` (an entry of the new catalog that names an
//! entry of the old one replaces it: a renamed id is a change, not a removal and an addition).
//! Texts are compared in tokens a reader sees as units: a Latin word, a number, one CJK
//! character, one punctuation mark, a run of spaces; Chinese has no spaces, so a word-level
//! diff would replace whole remarks.

use std::collections::{HashMap, HashSet};

use similar::{Algorithm, DiffTag, capture_diff_slices};

use crate::catalog::Catalog;
use crate::level::TitleLevel;
use crate::model::{Certificate, Issuer, NotListed, Section};
use crate::rules::Rule;
use crate::text::is_cjk;

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
    let (entries, unchanged_entries) = diff_entries(old, new);
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

fn summary(cert: &Certificate) -> EntrySummary {
    EntrySummary {
        id: cert.id.clone(),
        section: cert.section,
        item: cert.item,
        name_zh: cert.name_zh.clone(),
        title_level: cert.title_level,
        supersedes: cert.supersedes.as_deref().map(ToString::to_string),
    }
}

/// Pairs entries (by id, then by the new entry's `supersedes` naming an old entry that no new
/// entry has the id of) and compares each pair.
fn diff_entries(old: &Catalog, new: &Catalog) -> (Vec<EntryChange>, usize) {
    let mut partner: HashMap<usize, (usize, MatchedBy)> = HashMap::new();
    let mut taken: HashSet<usize> = HashSet::new();
    for (n, cert) in new.certificates().iter().enumerate() {
        if let Some(o) = old.position(&cert.id) {
            partner.insert(n, (o, MatchedBy::Id));
            taken.insert(o);
        }
    }
    for (n, cert) in new.certificates().iter().enumerate() {
        if partner.contains_key(&n) {
            continue;
        }
        let Some(earlier) = cert.supersedes.as_deref() else {
            continue;
        };
        if earlier.catalog_id != old.id() {
            continue;
        }
        if let Some(o) = old.position(&earlier.certificate_id)
            && taken.insert(o)
        {
            partner.insert(n, (o, MatchedBy::Supersedes));
        }
    }
    let mut out = Vec::new();
    let mut unchanged = 0;
    for (n, cert) in new.certificates().iter().enumerate() {
        let Some(&(o, matched_by)) = partner.get(&n) else {
            out.push(EntryChange::Added {
                entry: summary(cert),
            });
            continue;
        };
        let before = &old.certificates()[o];
        let fields = diff_entry_fields(before, cert);
        let rules = diff_rules(&before.rules, &cert.rules);
        if fields.is_empty() && rules.is_empty() {
            unchanged += 1;
            continue;
        }
        out.push(EntryChange::Changed {
            old: summary(before),
            new: summary(cert),
            matched_by,
            fields,
            rules,
        });
    }
    for (o, cert) in old.certificates().iter().enumerate() {
        if !taken.contains(&o) {
            out.push(EntryChange::Removed {
                entry: summary(cert),
            });
        }
    }
    (out, unchanged)
}

fn diff_entry_fields(a: &Certificate, b: &Certificate) -> Vec<FieldChange> {
    let mut out = Vec::new();
    if a.title_level != b.title_level {
        out.push(FieldChange {
            field: "title_level",
            change: Change::Level {
                old: a.title_level,
                new: b.title_level,
            },
        });
    }
    value(&mut out, "id", &a.id, &b.id);
    value(
        &mut out,
        "section",
        &a.section.to_string(),
        &b.section.to_string(),
    );
    value(&mut out, "item", &a.item.to_string(), &b.item.to_string());
    text(&mut out, "name_zh", &a.name_zh, &b.name_zh);
    text(&mut out, "name_en", &a.name_en, &b.name_en);
    list(
        &mut out,
        "abbreviations",
        &a.abbreviations,
        &b.abbreviations,
    );
    list(&mut out, "aliases", &a.aliases, &b.aliases);
    list(
        &mut out,
        "issuers",
        &issuers(&a.issuers),
        &issuers(&b.issuers),
    );
    text(
        &mut out,
        "country_or_region",
        &a.country_or_region,
        &b.country_or_region,
    );
    let fields = |c: &Certificate| c.fields.iter().map(|f| f.to_string()).collect::<Vec<_>>();
    list(&mut out, "fields", &fields(a), &fields(b));
    text(&mut out, "work_scope", &a.work_scope, &b.work_scope);
    text(&mut out, "remark", &a.remark, &b.remark);
    let supersedes = |c: &Certificate| {
        c.supersedes
            .as_deref()
            .map(ToString::to_string)
            .unwrap_or_default()
    };
    value(&mut out, "supersedes", &supersedes(a), &supersedes(b));
    out
}

/// Issuers as one line each: `中文名 / English name`.
fn issuers(issuers: &[Issuer]) -> Vec<String> {
    issuers
        .iter()
        .map(|i| match (i.name_zh.is_empty(), i.name_en.is_empty()) {
            (false, false) => format!("{} / {}", i.name_zh, i.name_en),
            (false, true) => i.name_zh.to_string(),
            _ => i.name_en.to_string(),
        })
        .collect()
}

/// A rule's code, and what else it says, as (key, values) pairs.
fn rule_parts(rule: &Rule) -> (&str, Vec<(&'static str, Vec<String>)>) {
    match rule {
        Rule::DomesticAccountingForHigherTitle { requires, quote } => (
            "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE",
            vec![
                (
                    "requires",
                    requires.iter().map(|q| q.label_zh().to_owned()).collect(),
                ),
                ("quote", vec![quote.clone()]),
            ],
        ),
        Rule::CicpaForBeijingPractice { quote } => (
            "CICPA_FOR_BEIJING_PRACTICE",
            vec![("quote", vec![quote.clone()])],
        ),
        Rule::MutualRecognition {
            names,
            quote,
            note_en,
        } => (
            "MUTUAL_RECOGNITION",
            vec![
                ("names", names.clone()),
                ("quote", vec![quote.clone()]),
                ("note_en", vec![note_en.clone()]),
            ],
        ),
        Rule::Note {
            code,
            quote,
            note_en,
        } => (
            code,
            vec![
                ("quote", vec![quote.clone()]),
                ("note_en", vec![note_en.clone()]),
            ],
        ),
    }
}

/// Rules are matched by code (and, for a code an entry carries twice, by its rank among them).
fn diff_rules(old: &[Rule], new: &[Rule]) -> Vec<RuleChange> {
    let keyed = |rules: &[Rule]| -> Vec<(String, usize, usize)> {
        let mut seen: HashMap<&str, usize> = HashMap::new();
        rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let (code, _) = rule_parts(rule);
                let rank = seen.entry(code).or_default();
                *rank += 1;
                (code.to_owned(), *rank, i)
            })
            .collect()
    };
    let (old_keys, new_keys) = (keyed(old), keyed(new));
    let rule_summary = |rule: &Rule| RuleSummary {
        code: rule_parts(rule).0.to_owned(),
        quote: rule.quote().to_owned(),
    };
    let mut out = Vec::new();
    for (code, rank, n) in &new_keys {
        let before = old_keys
            .iter()
            .find(|(c, r, _)| c == code && r == rank)
            .map(|(_, _, o)| &old[*o]);
        let Some(before) = before else {
            out.push(RuleChange::Added(rule_summary(&new[*n])));
            continue;
        };
        let (_, a) = rule_parts(before);
        let (_, b) = rule_parts(&new[*n]);
        let mut fields = Vec::new();
        for ((key, a), (_, b)) in a.iter().zip(&b) {
            if *key == "quote" || *key == "note_en" {
                text(&mut fields, key, &a.concat(), &b.concat());
            } else {
                list(&mut fields, key, a, b);
            }
        }
        if !fields.is_empty() {
            out.push(RuleChange::Changed {
                code: code.clone(),
                fields,
            });
        }
    }
    for (code, rank, o) in &old_keys {
        if !new_keys.iter().any(|(c, r, _)| c == code && r == rank) {
            out.push(RuleChange::Removed(rule_summary(&old[*o])));
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

/// The tokens of a text: a run of Latin letters and digits (a word or a number), a run of
/// spaces, or any other single character (a CJK character, a punctuation mark).
pub fn tokens(text: &str) -> Vec<&str> {
    #[derive(PartialEq)]
    enum Class {
        Word,
        Space,
        Single,
    }
    let class = |c: char| {
        if c.is_alphanumeric() && !is_cjk(c) {
            Class::Word
        } else if c.is_whitespace() {
            Class::Space
        } else {
            Class::Single
        }
    };
    let mut out = Vec::new();
    let mut start = 0;
    let mut current: Option<Class> = None;
    for (at, c) in text.char_indices() {
        let this = class(c);
        let joins = current
            .as_ref()
            .is_some_and(|cur| *cur == this && this != Class::Single);
        if !joins && at > start {
            out.push(&text[start..at]);
            start = at;
        }
        current = Some(this);
    }
    if start < text.len() {
        out.push(&text[start..]);
    }
    out
}

/// The token diff of two texts, as runs of kept, removed and added text (a removal before the
/// addition that replaces it).
pub fn text_diff(old: &str, new: &str) -> Vec<Segment> {
    let (a, b) = (tokens(old), tokens(new));
    let mut segments: Vec<Segment> = Vec::new();
    let mut push = |kind: SegmentKind, parts: &[&str]| {
        if parts.is_empty() {
            return;
        }
        match segments.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(&parts.concat()),
            _ => segments.push(Segment {
                kind,
                text: parts.concat(),
            }),
        }
    };
    for op in capture_diff_slices(Algorithm::Patience, &a, &b) {
        let (tag, old_range, new_range) = op.as_tag_tuple();
        match tag {
            DiffTag::Equal => push(SegmentKind::Same, &a[old_range]),
            DiffTag::Delete => push(SegmentKind::Removed, &a[old_range]),
            DiffTag::Insert => push(SegmentKind::Added, &b[new_range]),
            DiffTag::Replace => {
                push(SegmentKind::Removed, &a[old_range]);
                push(SegmentKind::Added, &b[new_range]);
            }
        }
    }
    merge_scattered(segments)
}

/// Folds a one-token kept run between two changes into them, so that "高级会计" → "中级会计"
/// reads as one replacement rather than alternating fragments.
fn merge_scattered(segments: Vec<Segment>) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::with_capacity(segments.len());
    let changed = |s: Option<&Segment>| s.is_some_and(|s| s.kind != SegmentKind::Same);
    for i in 0..segments.len() {
        let segment = &segments[i];
        let short = segment.kind == SegmentKind::Same && tokens(&segment.text).len() == 1;
        if short
            && changed(i.checked_sub(1).and_then(|p| segments.get(p)))
            && changed(segments.get(i + 1))
        {
            // The kept token goes into both the removed and the added text around it.
            let removed = Segment {
                kind: SegmentKind::Removed,
                text: segment.text.clone(),
            };
            let added = Segment {
                kind: SegmentKind::Added,
                text: segment.text.clone(),
            };
            append(&mut out, removed);
            append(&mut out, added);
        } else {
            append(&mut out, segment.clone());
        }
    }
    // Put each run of changes in the order removed, then added.
    let mut ordered: Vec<Segment> = Vec::with_capacity(out.len());
    let mut removed = String::new();
    let mut added = String::new();
    for segment in out {
        match segment.kind {
            SegmentKind::Removed => removed.push_str(&segment.text),
            SegmentKind::Added => added.push_str(&segment.text),
            SegmentKind::Same => {
                flush(&mut ordered, &mut removed, &mut added);
                ordered.push(segment);
            }
        }
    }
    flush(&mut ordered, &mut removed, &mut added);
    ordered
}

fn append(out: &mut Vec<Segment>, segment: Segment) {
    match out.last_mut() {
        Some(last) if last.kind == segment.kind => last.text.push_str(&segment.text),
        _ => out.push(segment),
    }
}

fn flush(out: &mut Vec<Segment>, removed: &mut String, added: &mut String) {
    for (kind, text) in [(SegmentKind::Removed, removed), (SegmentKind::Added, added)] {
        if !text.is_empty() {
            out.push(Segment {
                kind,
                text: std::mem::take(text),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::CatalogParts;
    use crate::catalog::test_support::*;
    use crate::model::EntryRef;

    fn render(segments: &[Segment]) -> String {
        segments
            .iter()
            .map(|s| match s.kind {
                SegmentKind::Same => s.text.clone(),
                SegmentKind::Removed => format!("[-{}-]", s.text),
                SegmentKind::Added => format!("{{+{}+}}", s.text),
            })
            .collect()
    }

    #[test]
    fn tokens_are_latin_words_and_single_cjk_characters() {
        assert_eq!(
            tokens("ACCA会计师 Fellow，2024年"),
            ["ACCA", "会", "计", "师", " ", "Fellow", "，", "2024", "年"]
        );
        assert_eq!(tokens(""), Vec::<&str>::new());
        assert_eq!(tokens("a  b"), ["a", "  ", "b"]);
    }

    #[test]
    fn text_diffs_show_what_changed_at_character_level_in_chinese() {
        let table = [
            (
                "申报高一级职称需取得高级会计专业技术资格",
                "申报高一级职称需取得中级会计专业技术资格",
                "申报高一级职称需取得[-高-]{+中+}级会计专业技术资格",
            ),
            (
                "可免考9门ACCA会计师课程。",
                "可免考8门ACCA会计师课程。",
                "可免考[-9-]{+8+}门ACCA会计师课程。",
            ),
            (
                "Fellow of the IEEE",
                "Senior Member of the IEEE",
                "[-Fellow-]{+Senior Member+} of the IEEE",
            ),
            (
                "从事金融工作。",
                "从事金融工作。另有说明。",
                "从事金融工作。{+另有说明。+}",
            ),
            ("甲乙丙", "丁乙戊", "[-甲乙丙-]{+丁乙戊+}"),
        ];
        for (old, new, expected) in table {
            let segments = text_diff(old, new);
            assert_eq!(render(&segments), expected, "{old} -> {new}");
            let kept_or = |kind| {
                segments
                    .iter()
                    .filter(|s| s.kind == SegmentKind::Same || s.kind == kind)
                    .map(|s| s.text.as_str())
                    .collect::<String>()
            };
            assert_eq!(kept_or(SegmentKind::Removed), old);
            assert_eq!(kept_or(SegmentKind::Added), new);
        }
    }

    fn catalog(certificates: Vec<Certificate>) -> Catalog {
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
    fn entries_are_added_removed_and_changed_with_the_level_first() {
        let old = catalog(vec![cert("a", 1, 1, "甲", "A"), cert("b", 1, 2, "乙", "B")]);
        let mut changed = cert("a", 1, 1, "甲", "A");
        changed.title_level = TitleLevel::AssociateSenior;
        changed.aliases.push("Alpha".into());
        changed.remark = changed.remark.replace("中级", "副高级").into();
        let new = catalog(vec![changed, cert("c", 2, 1, "丙", "C")]);
        let d = diff(&old, &new);
        assert_eq!(d.counts(), (1, 1, 1));
        let EntryChange::Changed { fields, .. } = &d.entries[0] else {
            panic!("{:?}", d.entries[0]);
        };
        let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
        assert_eq!(names, ["title_level", "aliases", "remark"]);
        assert_eq!(
            fields[0].change,
            Change::Level {
                old: TitleLevel::Intermediate,
                new: TitleLevel::AssociateSenior
            }
        );
        assert!(matches!(&d.entries[1], EntryChange::Added { entry } if entry.id == "c"));
        assert!(matches!(&d.entries[2], EntryChange::Removed { entry } if entry.id == "b"));
        assert_eq!(d.level_changes().count(), 1);
    }

    #[test]
    fn a_renamed_entry_that_supersedes_the_old_one_is_a_change() {
        let old = catalog(vec![cert("acca", 1, 1, "甲", "A")]);
        let mut renamed = cert("acca-member", 1, 1, "甲", "A");
        renamed.supersedes = Some(Box::new(EntryRef::parse("test/acca").unwrap()));
        let mut parts: CatalogParts = parts(vec![renamed]);
        parts.meta.id = "test-2".into();
        let new = Catalog::new(parts).unwrap();
        let d = diff(&old, &new);
        assert_eq!(d.counts(), (0, 0, 1), "{:?}", d.entries);
        let EntryChange::Changed {
            matched_by, fields, ..
        } = &d.entries[0]
        else {
            panic!();
        };
        assert_eq!(*matched_by, MatchedBy::Supersedes);
        let names: Vec<&str> = fields.iter().map(|f| f.field).collect();
        assert_eq!(names, ["id", "supersedes"]);
        assert_eq!(d.meta[0].field, "id");
    }

    #[test]
    fn rules_are_added_removed_and_changed_by_code() {
        let quote = "从事金融相关工作。";
        let mut a = cert("a", 1, 1, "甲", "A");
        a.rules.push(accounting_rule(quote));
        a.rules.push(Rule::CicpaForBeijingPractice {
            quote: quote.into(),
        });
        let mut b = cert("a", 1, 1, "甲", "A");
        b.rules.push(Rule::DomesticAccountingForHigherTitle {
            requires: vec![crate::rules::DomesticQualification::SeniorAccounting],
            quote: quote.into(),
        });
        b.rules.push(Rule::Note {
            code: "X".into(),
            quote: quote.into(),
            note_en: "x".into(),
        });
        let d = diff(&catalog(vec![a]), &catalog(vec![b]));
        let EntryChange::Changed { rules, fields, .. } = &d.entries[0] else {
            panic!();
        };
        assert!(fields.is_empty());
        assert_eq!(rules.len(), 3, "{rules:?}");
        assert!(
            matches!(&rules[0], RuleChange::Changed { code, fields } if code.starts_with("DOMESTIC") && fields[0].field == "requires")
        );
        assert!(matches!(&rules[1], RuleChange::Added(r) if r.code == "X"));
        assert!(
            matches!(&rules[2], RuleChange::Removed(r) if r.code == "CICPA_FOR_BEIJING_PRACTICE")
        );
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
