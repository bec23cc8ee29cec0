//! Entries of two catalogs paired (by id, then by `supersedes`) and compared field by field,
//! with their rules.

use std::collections::{HashMap, HashSet};

use super::{Change, EntryChange, EntrySummary, FieldChange, MatchedBy, RuleChange, RuleSummary};
use super::{list, text, value};
use crate::catalog::Catalog;
use crate::model::{Certificate, Issuer};
use crate::rules::Rule;

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
pub(super) fn diff_entries(old: &Catalog, new: &Catalog) -> (Vec<EntryChange>, usize) {
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

#[cfg(test)]
mod tests {
    use super::super::diff;
    use super::*;
    use crate::catalog::CatalogParts;
    use crate::catalog::test_support::*;
    use crate::level::TitleLevel;
    use crate::model::EntryRef;

    fn catalog(certificates: Vec<Certificate>) -> Catalog {
        Catalog::new(parts(certificates)).unwrap()
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
}
