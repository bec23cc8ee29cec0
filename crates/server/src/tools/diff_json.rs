//! `certequiv diff --format json`: the diff as a JSON document with a stable, documented
//! schema (`docs/catalog-diff.schema.json`, generated from these types by
//! `certequiv schema diff`; docs/catalog-maintenance.md explains it).
//!
//! These types are the contract, kept apart from the domain's diff types so that the domain
//! can change without changing what scripts read. New keys may be added; none is removed or
//! changes meaning without raising `version`.

use certequiv_domain::diff::{
    CatalogDiff, CatalogSide, Change, EntryChange, EntrySummary, FieldChange, MatchedBy,
    NotListedChange, RuleChange, SectionChange, SegmentKind,
};
use schemars::JsonSchema;
use serde::Serialize;

use super::diff::DiffRun;

/// The value of `format` in every report.
pub const FORMAT: &str = "certequiv.catalog-diff";
/// The schema version of the report.
pub const VERSION: u32 = 1;

/// What `certequiv diff --format json` writes.
#[derive(Debug, Serialize, JsonSchema)]
#[schemars(title = "certequiv catalog diff")]
pub struct Report {
    /// Always "certequiv.catalog-diff".
    pub format: &'static str,
    /// The schema version; 1.
    pub version: u32,
    /// Whether anything differs (the command then exits 1).
    pub changed: bool,
    /// The two sides as the command named them (paths, or DIR:catalog-id).
    pub old: String,
    pub new: String,
    /// One entry per pair of catalogs compared, changed or not.
    pub catalogs: Vec<CatalogReport>,
    /// Catalogs only on the new side.
    pub added_catalogs: Vec<Side>,
    /// Catalogs only on the old side.
    pub removed_catalogs: Vec<Side>,
}

/// Which catalog one side is.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Side {
    pub id: String,
    pub title: String,
    /// Content hash of the catalog file, as the API reports it.
    pub etag: String,
    /// Number of entries.
    pub entries: usize,
}

/// The comparison of two catalogs.
#[derive(Debug, Serialize, JsonSchema)]
pub struct CatalogReport {
    pub old: Side,
    pub new: Side,
    pub changed: bool,
    pub summary: Summary,
    /// `[catalog]` keys that changed (id, title, jurisdiction, source, effective_from,
    /// effective_until).
    pub metadata: Vec<Field>,
    pub sections: Vec<SectionReport>,
    /// Changed and added entries in the new catalog's order, then removed ones.
    pub entries: Vec<EntryReport>,
    pub not_listed: Vec<NotListedReport>,
}

/// Counts of entries.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Summary {
    pub added: usize,
    pub removed: usize,
    pub changed: usize,
    pub unchanged: usize,
    /// Changed entries whose title level changed.
    pub title_level_changes: usize,
}

/// An entry as a change names it.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Entry {
    pub id: String,
    pub section: u32,
    pub item: u32,
    pub name_zh: String,
    /// 员级, 助理级, 中级, 副高级 or 正高级.
    pub title_level: String,
    /// "catalog-id/entry-id" of the entry it replaces; absent when none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub supersedes: Option<String>,
}

/// An added, removed or changed entry.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum EntryReport {
    Added {
        entry: Entry,
    },
    Removed {
        entry: Entry,
    },
    Changed {
        old: Entry,
        new: Entry,
        /// "id": the same id on both sides; "supersedes": the new entry names the old one in
        /// `supersedes` (a renamed id).
        matched_by: MatchedByName,
        /// Whether the title level changed (then `fields[0]` is that change).
        title_level_changed: bool,
        /// Changed fields, the title level first.
        fields: Vec<Field>,
        rules: Vec<RuleReport>,
    },
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchedByName {
    Id,
    Supersedes,
}

/// One changed field.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Field {
    /// The key as the catalog file writes it, e.g. "title_level", "remark".
    pub field: String,
    #[serde(flatten)]
    pub change: FieldValue,
}

/// How a field changed; `kind` says which keys follow.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum FieldValue {
    /// A title level.
    Level {
        old: String,
        new: String,
        /// "raised" or "lowered".
        direction: Direction,
    },
    /// A text, with a diff in tokens (a Latin word, a number, one CJK character, one mark):
    /// the `same` and `removed` segments spell `old`, the `same` and `added` ones `new`.
    Text {
        old: String,
        new: String,
        segments: Vec<Segment>,
    },
    /// A list (aliases, abbreviations, fields, issuers as "中文名 / English name", a not-listed
    /// entry's names, a rule's requires or names).
    List {
        old: Vec<String>,
        new: Vec<String>,
        removed: Vec<String>,
        added: Vec<String>,
    },
    /// One value (an id, a number, a date); "" when absent.
    Value { old: String, new: String },
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Raised,
    Lowered,
}

/// A piece of a text diff.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Segment {
    pub op: SegmentOp,
    pub text: String,
}

#[derive(Debug, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SegmentOp {
    Same,
    Removed,
    Added,
}

/// A rule of a changed entry, matched by code.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum RuleReport {
    Added { code: String, quote: String },
    Removed { code: String, quote: String },
    Changed { code: String, fields: Vec<Field> },
}

/// A section, matched by number.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum SectionReport {
    Added {
        number: u32,
        ordinal: String,
        title: String,
    },
    Removed {
        number: u32,
        ordinal: String,
        title: String,
    },
    Changed {
        number: u32,
        fields: Vec<Field>,
    },
}

/// A not-listed entry, matched by its first name.
#[derive(Debug, Serialize, JsonSchema)]
#[serde(tag = "change", rename_all = "snake_case")]
pub enum NotListedReport {
    Added { names: Vec<String> },
    Removed { names: Vec<String> },
    Changed { name: String, fields: Vec<Field> },
}

/// The report of a diff run.
pub fn report(run: &DiffRun) -> Report {
    Report {
        format: FORMAT,
        version: VERSION,
        changed: run.changed(),
        old: run.old_label.clone(),
        new: run.new_label.clone(),
        catalogs: run.pairs.iter().map(catalog_report).collect(),
        added_catalogs: run.added.iter().map(side).collect(),
        removed_catalogs: run.removed.iter().map(side).collect(),
    }
}

/// The report as pretty JSON with a final newline.
pub fn render(run: &DiffRun) -> String {
    let mut text = serde_json::to_string_pretty(&report(run)).unwrap_or_default();
    text.push('\n');
    text
}

/// The JSON Schema of [`Report`] (draft 7), as committed in `docs/catalog-diff.schema.json`.
pub fn schema() -> String {
    certequiv_storage::file::schema_text::<Report>()
}

fn side(side: &CatalogSide) -> Side {
    Side {
        id: side.id.clone(),
        title: side.title.clone(),
        etag: side.etag.clone(),
        entries: side.entries,
    }
}

fn catalog_report(diff: &CatalogDiff) -> CatalogReport {
    let (added, removed, changed) = diff.counts();
    CatalogReport {
        old: side(&diff.old),
        new: side(&diff.new),
        changed: !diff.is_empty(),
        summary: Summary {
            added,
            removed,
            changed,
            unchanged: diff.unchanged_entries,
            title_level_changes: diff.level_changes().count(),
        },
        metadata: fields(&diff.meta),
        sections: diff.sections.iter().map(section).collect(),
        entries: diff.entries.iter().map(entry_change).collect(),
        not_listed: diff.not_listed.iter().map(not_listed).collect(),
    }
}

fn entry(summary: &EntrySummary) -> Entry {
    Entry {
        id: summary.id.clone(),
        section: summary.section,
        item: summary.item,
        name_zh: summary.name_zh.clone(),
        title_level: summary.title_level.label_zh().to_owned(),
        supersedes: summary.supersedes.clone(),
    }
}

fn entry_change(change: &EntryChange) -> EntryReport {
    match change {
        EntryChange::Added { entry: e } => EntryReport::Added { entry: entry(e) },
        EntryChange::Removed { entry: e } => EntryReport::Removed { entry: entry(e) },
        EntryChange::Changed {
            old,
            new,
            matched_by,
            fields: changed,
            rules,
        } => EntryReport::Changed {
            old: entry(old),
            new: entry(new),
            matched_by: match matched_by {
                MatchedBy::Id => MatchedByName::Id,
                MatchedBy::Supersedes => MatchedByName::Supersedes,
            },
            title_level_changed: old.title_level != new.title_level,
            fields: fields(changed),
            rules: rules.iter().map(rule).collect(),
        },
    }
}

fn rule(change: &RuleChange) -> RuleReport {
    match change {
        RuleChange::Added(r) => RuleReport::Added {
            code: r.code.clone(),
            quote: r.quote.clone(),
        },
        RuleChange::Removed(r) => RuleReport::Removed {
            code: r.code.clone(),
            quote: r.quote.clone(),
        },
        RuleChange::Changed { code, fields: f } => RuleReport::Changed {
            code: code.clone(),
            fields: fields(f),
        },
    }
}

fn section(change: &SectionChange) -> SectionReport {
    match change {
        SectionChange::Added(s) => SectionReport::Added {
            number: s.number,
            ordinal: s.ordinal.clone(),
            title: s.title.clone(),
        },
        SectionChange::Removed(s) => SectionReport::Removed {
            number: s.number,
            ordinal: s.ordinal.clone(),
            title: s.title.clone(),
        },
        SectionChange::Changed { number, fields: f } => SectionReport::Changed {
            number: *number,
            fields: fields(f),
        },
    }
}

fn not_listed(change: &NotListedChange) -> NotListedReport {
    match change {
        NotListedChange::Added(n) => NotListedReport::Added {
            names: n.names.clone(),
        },
        NotListedChange::Removed(n) => NotListedReport::Removed {
            names: n.names.clone(),
        },
        NotListedChange::Changed { name, fields: f } => NotListedReport::Changed {
            name: name.clone(),
            fields: fields(f),
        },
    }
}

fn fields(changes: &[FieldChange]) -> Vec<Field> {
    changes.iter().map(field).collect()
}

fn field(change: &FieldChange) -> Field {
    let value = match &change.change {
        Change::Level { old, new } => FieldValue::Level {
            old: old.label_zh().to_owned(),
            new: new.label_zh().to_owned(),
            direction: if new > old {
                Direction::Raised
            } else {
                Direction::Lowered
            },
        },
        Change::Text { old, new, segments } => FieldValue::Text {
            old: old.clone(),
            new: new.clone(),
            segments: segments
                .iter()
                .map(|s| Segment {
                    op: match s.kind {
                        SegmentKind::Same => SegmentOp::Same,
                        SegmentKind::Removed => SegmentOp::Removed,
                        SegmentKind::Added => SegmentOp::Added,
                    },
                    text: s.text.clone(),
                })
                .collect(),
        },
        Change::List {
            old,
            new,
            removed,
            added,
        } => FieldValue::List {
            old: old.clone(),
            new: new.clone(),
            removed: removed.clone(),
            added: added.clone(),
        },
        Change::Value { old, new } => FieldValue::Value {
            old: old.clone(),
            new: new.clone(),
        },
    };
    Field {
        field: change.field.to_owned(),
        change: value,
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::tools::diff::{DiffInput, run};

    fn editions_run() -> DiffRun {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../storage/tests/data/editions");
        run(&DiffInput::Paths {
            old: dir.join("bj-test-2024.toml"),
            new: dir.join("bj-test-2025.toml"),
        })
        .unwrap()
    }

    #[test]
    fn the_report_names_every_change_in_the_documented_shape() {
        let json: serde_json::Value = serde_json::from_str(&render(&editions_run())).unwrap();
        assert_eq!(json["format"], FORMAT);
        assert_eq!(json["version"], 1);
        assert_eq!(json["changed"], true);
        let catalog = &json["catalogs"][0];
        assert_eq!(catalog["summary"]["title_level_changes"], 1);
        assert_eq!(catalog["summary"]["unchanged"], 0);
        let renamed = &catalog["entries"][0];
        assert_eq!(renamed["change"], "changed");
        assert_eq!(renamed["matched_by"], "supersedes");
        assert_eq!(renamed["old"]["id"], "acca");
        assert_eq!(renamed["new"]["supersedes"], "bj-test-2024/acca");
        assert_eq!(renamed["title_level_changed"], true);
        let level = &renamed["fields"][0];
        assert_eq!(level["field"], "title_level");
        assert_eq!(level["kind"], "level");
        assert_eq!(
            (level["old"].as_str(), level["new"].as_str()),
            (Some("中级"), Some("副高级"))
        );
        assert_eq!(level["direction"], "raised");
        let remark = renamed["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["field"] == "remark")
            .unwrap();
        assert_eq!(remark["kind"], "text");
        let added: Vec<&str> = remark["segments"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["op"] == "added")
            .map(|s| s["text"].as_str().unwrap())
            .collect();
        assert_eq!(added, ["副高", "高"], "{remark}");
        assert_eq!(catalog["entries"][2]["change"], "added");
        assert_eq!(catalog["entries"][3]["change"], "removed");
        assert_eq!(catalog["sections"][0]["change"], "added");
        assert_eq!(catalog["not_listed"][0]["fields"][0]["field"], "note_zh");
    }

    #[test]
    fn the_committed_schema_is_generated_from_these_types() {
        let path =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/catalog-diff.schema.json");
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == schema(),
            "docs/catalog-diff.schema.json is stale; regenerate it with\n  \
             cargo run -p certequiv-server -- schema diff > docs/catalog-diff.schema.json"
        );
    }
}
