//! A catalog ready to answer: validated once, indexed once, immutable.
//!
//! [`Catalog::new`] is the only way to get one: it checks the invariants every other module
//! relies on (unique ids, sections that exist, names and aliases that name one entry only, rule
//! quotes that really stand in the remark) and builds what requests read — the search index,
//! the look-alike names, normalized field and work-scope texts, where each rule's quote is.

use std::collections::{HashMap, HashSet};
use std::ops::Range;
use std::sync::Arc;

use crate::equivalence::look_alike::LookAlikes;
use crate::model::{CatalogMeta, Certificate, NotListed, Section};
use crate::search::{AnalyzedQuery, CertificateFilter, QueryText, SearchIndex, SearchOutcome};
use crate::text::normalize;

/// Where something is wrong in a catalog, as a path such as `certificates[3].aliases[1]`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct Violation {
    pub path: String,
    pub message: String,
}

impl Violation {
    fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        Violation {
            path: path.into(),
            message: message.into(),
        }
    }
}

/// Everything a catalog is made of, before validation.
#[derive(Debug, Clone)]
pub struct CatalogParts {
    pub meta: CatalogMeta,
    pub sections: Vec<Section>,
    pub certificates: Vec<Certificate>,
    pub not_listed: Vec<NotListed>,
    /// Content hash of the data the catalog was read from.
    pub etag: String,
}

/// A validated, indexed catalog. Certificates are kept in section/item order.
#[derive(Debug)]
pub struct Catalog {
    meta: CatalogMeta,
    sections: Vec<Section>,
    certificates: Vec<Certificate>,
    not_listed: Vec<NotListed>,
    etag: String,
    by_id: HashMap<String, usize>,
    index: SearchIndex,
    look_alikes: LookAlikes,
    /// Every field term of the catalog, normalized (a handful of distinct terms).
    field_terms: HashSet<String>,
    /// Each distinct field and work-scope text of the entries, normalized: entries repeat a
    /// few of them, and evaluations compare them with the applicant's work field.
    normalized: rustc_hash::FxHashMap<Arc<str>, Box<str>>,
    /// Per entry, per rule: where the rule's quote stands in the entry's remark (bytes).
    quote_ranges: Vec<Vec<Range<usize>>>,
}

impl Catalog {
    /// Validates the parts and builds the indexes. Reports every violation, not just the first.
    pub fn new(parts: CatalogParts) -> Result<Catalog, Vec<Violation>> {
        let CatalogParts {
            meta,
            sections,
            mut certificates,
            not_listed,
            etag,
        } = parts;
        let mut violations = validate_meta(&meta, &sections);
        let mut ids = HashSet::with_capacity(certificates.len());
        for (i, cert) in certificates.iter().enumerate() {
            violations.extend(validate_certificate(i, cert, &sections));
            if !ids.insert(cert.id.as_str()) {
                violations.push(Violation::new(
                    format!("certificates[{i}].id"),
                    format!("duplicate id {:?}", cert.id),
                ));
            }
        }
        let mut positions = HashMap::new();
        for (i, cert) in certificates.iter().enumerate() {
            if let Some(prev) = positions.insert((cert.section, cert.item), i) {
                violations.push(Violation::new(
                    format!("certificates[{i}].item"),
                    format!(
                        "section {} item {} is also certificates[{prev}]",
                        cert.section, cert.item
                    ),
                ));
            }
        }
        for (i, cert) in certificates.iter().enumerate() {
            if let Some(earlier) = cert.supersedes.as_deref()
                && earlier.catalog_id == meta.id
            {
                violations.push(Violation::new(
                    format!("certificates[{i}].supersedes"),
                    format!(
                        "{earlier} names this catalog; an entry supersedes an entry of an earlier catalog"
                    ),
                ));
            }
        }
        for (i, entry) in not_listed.iter().enumerate() {
            if entry.names.iter().all(|n| n.trim().is_empty()) {
                violations.push(Violation::new(
                    format!("not_listed[{i}].names"),
                    "needs at least one name",
                ));
            }
        }
        if !violations.is_empty() {
            return Err(violations);
        }

        drop(ids);
        certificates.sort_by_key(|c| (c.section, c.item));
        let by_id = certificates
            .iter()
            .enumerate()
            .map(|(i, c)| (c.id.clone(), i))
            .collect();
        let index = SearchIndex::build(&certificates).map_err(|clashes| {
            clashes
                .into_iter()
                .map(|clash| {
                    Violation::new(
                        format!("certificates[id={}]", clash.second),
                        format!(
                            "{:?} would name both {:?} and {:?}; a name, abbreviation or alias must name one entry",
                            clash.text, clash.first, clash.second
                        ),
                    )
                })
                .collect::<Vec<_>>()
        })?;
        let mut normalized = rustc_hash::FxHashMap::<Arc<str>, Box<str>>::default();
        let mut field_terms = HashSet::new();
        for cert in &certificates {
            for field in &cert.fields {
                if !normalized.contains_key(field) {
                    let text: Box<str> = normalize(field).into();
                    field_terms.insert(text.to_string());
                    normalized.insert(Arc::clone(field), text);
                }
            }
            if !normalized.contains_key(&cert.work_scope) {
                let text = normalize(&cert.work_scope).into();
                normalized.insert(Arc::clone(&cert.work_scope), text);
            }
        }
        // Validation made sure each quote is in its remark.
        let quote_ranges = certificates
            .iter()
            .map(|cert| {
                cert.rules
                    .iter()
                    .map(|rule| {
                        let at = cert.remark.find(rule.quote()).unwrap_or(0);
                        at..at + rule.quote().len()
                    })
                    .collect()
            })
            .collect();
        let look_alikes = LookAlikes::build(&certificates, &not_listed);
        Ok(Catalog {
            meta,
            sections,
            certificates,
            not_listed,
            etag,
            by_id,
            index,
            look_alikes,
            field_terms,
            normalized,
            quote_ranges,
        })
    }

    pub fn meta(&self) -> &CatalogMeta {
        &self.meta
    }

    pub fn id(&self) -> &str {
        &self.meta.id
    }

    pub fn etag(&self) -> &str {
        &self.etag
    }

    pub fn sections(&self) -> &[Section] {
        &self.sections
    }

    pub fn section(&self, number: u32) -> Option<&Section> {
        self.sections.iter().find(|s| s.number == number)
    }

    /// All certificates in section/item order.
    pub fn certificates(&self) -> &[Certificate] {
        &self.certificates
    }

    pub fn not_listed(&self) -> &[NotListed] {
        &self.not_listed
    }

    /// Position of a certificate in [`Catalog::certificates`].
    pub fn position(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// Whether `normalized` is one of the catalog's field terms, normalized.
    pub fn has_field_term(&self, normalized: &str) -> bool {
        self.field_terms.contains(normalized)
    }

    /// A field or work-scope text of an entry, normalized at load (`None` for any other text).
    pub fn normalized(&self, text: &str) -> Option<&str> {
        self.normalized.get(text).map(|t| &**t)
    }

    /// Where rule `rule` of the entry at `position` quotes its remark, in bytes.
    pub fn quote_range(&self, position: usize, rule: usize) -> Option<Range<usize>> {
        self.quote_ranges.get(position)?.get(rule).cloned()
    }

    pub fn look_alikes(&self) -> &LookAlikes {
        &self.look_alikes
    }

    /// Searches this catalog, highlights included; see [`crate::search`] for the ranking.
    pub fn search(
        &self,
        query: &QueryText,
        filter: &CertificateFilter,
        limit: usize,
    ) -> SearchOutcome {
        let query = AnalyzedQuery::of(query);
        self.index
            .search(&self.certificates, &query, filter, limit, true)
    }

    /// Positions of the certificates matching `filter` from position `start` on, at most
    /// `limit`, and the position to continue from when more remain.
    pub fn list(
        &self,
        filter: &CertificateFilter,
        start: usize,
        limit: usize,
    ) -> (Vec<usize>, Option<usize>) {
        let accepts = filter.acceptor(&self.index, &self.certificates);
        let mut page = Vec::with_capacity(limit.min(self.certificates.len()));
        for i in (start..self.certificates.len()).filter(|&i| accepts(i)) {
            if page.len() == limit {
                return (page, Some(i));
            }
            page.push(i);
        }
        (page, None)
    }

    pub fn certificate(&self, id: &str) -> Option<&Certificate> {
        self.by_id.get(id).map(|&i| &self.certificates[i])
    }

    /// How many certificates a section holds.
    pub fn section_count(&self, number: u32) -> usize {
        self.certificates
            .iter()
            .filter(|c| c.section == number)
            .count()
    }

    pub fn index(&self) -> &SearchIndex {
        &self.index
    }
}

fn validate_meta(meta: &CatalogMeta, sections: &[Section]) -> Vec<Violation> {
    let mut violations = Vec::new();
    if !is_valid_id(&meta.id) {
        violations.push(Violation::new(
            "catalog.id",
            "must be 1-63 characters of a-z, 0-9 and '-', starting with a letter",
        ));
    }
    for (path, value) in [
        ("catalog.title", &meta.title),
        ("catalog.jurisdiction", &meta.jurisdiction),
    ] {
        if value.trim().is_empty() {
            violations.push(Violation::new(path, "is required"));
        }
    }
    if let (Some(from), Some(until)) = (meta.effective_from, meta.effective_until)
        && until < from
    {
        violations.push(Violation::new(
            "catalog.effective_until",
            format!("{until} is before effective_from {from}"),
        ));
    }
    if sections.is_empty() {
        violations.push(Violation::new(
            "sections",
            "at least one section is required",
        ));
    }
    for (i, section) in sections.iter().enumerate() {
        if section.number == 0 {
            violations.push(Violation::new(
                format!("sections[{i}].number"),
                "must be 1 or more",
            ));
        }
        if sections[..i].iter().any(|s| s.number == section.number) {
            violations.push(Violation::new(
                format!("sections[{i}].number"),
                format!("duplicate section number {}", section.number),
            ));
        }
        if section.title.trim().is_empty() {
            violations.push(Violation::new(
                format!("sections[{i}].title"),
                "is required",
            ));
        }
    }
    violations
}

fn validate_certificate(i: usize, cert: &Certificate, sections: &[Section]) -> Vec<Violation> {
    let mut violations = Vec::new();
    let at = |field: &str| format!("certificates[{i}].{field}");
    if !is_valid_id(&cert.id) {
        violations.push(Violation::new(
            at("id"),
            format!(
                "{:?} must be 1-63 characters of a-z, 0-9 and '-', starting with a letter",
                cert.id
            ),
        ));
    }
    if !sections.iter().any(|s| s.number == cert.section) {
        violations.push(Violation::new(
            at("section"),
            format!("section {} is not declared in [[sections]]", cert.section),
        ));
    }
    if cert.item == 0 {
        violations.push(Violation::new(at("item"), "must be 1 or more"));
    }
    for (field, value) in [
        ("name_zh", cert.name_zh.as_str()),
        ("work_scope", &cert.work_scope),
        ("remark", &cert.remark),
    ] {
        if value.trim().is_empty() {
            violations.push(Violation::new(at(field), "is required"));
        }
    }
    if cert.issuers.is_empty() {
        violations.push(Violation::new(
            at("issuers"),
            "at least one issuer is required",
        ));
    }
    for (j, issuer) in cert.issuers.iter().enumerate() {
        if issuer.name_zh.trim().is_empty() && issuer.name_en.trim().is_empty() {
            violations.push(Violation::new(
                at(&format!("issuers[{j}]")),
                "needs a Chinese or an English name",
            ));
        }
    }
    if !cert.remark.contains(&*cert.work_scope) {
        violations.push(Violation::new(
            at("work_scope"),
            "must be quoted verbatim from the remark",
        ));
    }
    for (j, rule) in cert.rules.iter().enumerate() {
        if rule.quote().trim().is_empty() || !cert.remark.contains(rule.quote()) {
            violations.push(Violation::new(
                at(&format!("rules[{j}].quote")),
                "must be quoted verbatim from the remark: a rule cites the policy line it rests on",
            ));
        }
    }
    violations
}

/// Ids are ASCII so they travel safely in URLs, logs and page tokens.
pub fn is_valid_id(id: &str) -> bool {
    let bytes = id.as_bytes();
    !bytes.is_empty()
        && bytes.len() <= 63
        && bytes[0].is_ascii_lowercase()
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-')
}

#[cfg(test)]
pub(crate) mod test_support {
    //! A small hand-made catalog for unit tests of search and rules.
    use super::*;
    use crate::level::TitleLevel;
    use crate::model::Issuer;
    use crate::rules::{DomesticQualification, Rule};

    pub fn cert(id: &str, section: u32, item: u32, name_zh: &str, name_en: &str) -> Certificate {
        Certificate {
            id: id.into(),
            section,
            item,
            name_zh: name_zh.into(),
            name_en: name_en.into(),
            abbreviations: vec![],
            aliases: vec![],
            issuers: vec![Issuer {
                name_zh: "某协会".into(),
                name_en: "Some Society".into(),
            }],
            country_or_region: "".into(),
            fields: vec!["金融".into()],
            work_scope: "从事金融相关工作。".into(),
            title_level: TitleLevel::Intermediate,
            remark: "从事金融相关工作。对应中级职称需符合相应职称系列（专业）级别的学历、年限等基本标准条件。".into(),
            rules: vec![],
            supersedes: None,
        }
    }

    pub fn parts(certificates: Vec<Certificate>) -> CatalogParts {
        CatalogParts {
            meta: CatalogMeta {
                id: "test".into(),
                title: "测试".into(),
                jurisdiction: "北京市".into(),
                source: String::new(),
                effective_from: None,
                effective_until: None,
            },
            sections: vec![
                Section {
                    number: 1,
                    ordinal: "（一）".into(),
                    title: "一".into(),
                },
                Section {
                    number: 2,
                    ordinal: "（二）".into(),
                    title: "二".into(),
                },
            ],
            certificates,
            not_listed: vec![],
            etag: "etag-1".into(),
        }
    }

    pub fn accounting_rule(quote: &str) -> Rule {
        Rule::DomesticAccountingForHigherTitle {
            requires: vec![DomesticQualification::IntermediateAccounting],
            quote: quote.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_support::*;
    use super::*;
    use crate::model::EntryRef;

    #[test]
    fn a_valid_catalog_is_sorted_and_indexed_by_id() {
        let catalog = Catalog::new(parts(vec![
            cert("b", 2, 1, "乙", "B"),
            cert("a", 1, 1, "甲", "A"),
        ]))
        .unwrap();
        let ids: Vec<_> = catalog
            .certificates()
            .iter()
            .map(|c| c.id.as_str())
            .collect();
        assert_eq!(ids, ["a", "b"]);
        assert_eq!(catalog.certificate("b").map(|c| c.item), Some(1));
        assert!(catalog.certificate("c").is_none());
        assert_eq!(catalog.section_count(2), 1);
    }

    #[test]
    fn duplicate_ids_and_positions_are_reported() {
        let errors = Catalog::new(parts(vec![
            cert("a", 1, 1, "甲", "A"),
            cert("a", 1, 1, "乙", "B"),
        ]))
        .unwrap_err();
        let paths: Vec<_> = errors.iter().map(|v| v.path.as_str()).collect();
        assert!(paths.contains(&"certificates[1].id"), "{errors:?}");
        assert!(paths.contains(&"certificates[1].item"), "{errors:?}");
    }

    #[test]
    fn unknown_section_and_missing_fields_are_reported() {
        let mut bad = cert("x", 9, 1, "", "X");
        bad.issuers.clear();
        let errors = Catalog::new(parts(vec![bad])).unwrap_err();
        let paths: Vec<_> = errors.iter().map(|v| v.path.as_str()).collect();
        for expected in [
            "certificates[0].section",
            "certificates[0].name_zh",
            "certificates[0].issuers",
        ] {
            assert!(
                paths.contains(&expected),
                "{expected} missing in {errors:?}"
            );
        }
    }

    #[test]
    fn a_rule_must_quote_the_remark() {
        let mut c = cert("acca", 1, 1, "ACCA会计师证书", "ACCA Member");
        c.rules.push(accounting_rule("这句话不在备注里"));
        let errors = Catalog::new(parts(vec![c])).unwrap_err();
        assert_eq!(errors[0].path, "certificates[0].rules[0].quote");
    }

    #[test]
    fn an_alias_naming_two_entries_is_refused() {
        let mut a = cert("a", 1, 1, "甲证书", "Alpha");
        a.aliases.push("CPA".into());
        let mut b = cert("b", 1, 2, "乙证书", "Beta");
        b.abbreviations.push("cpa".into());
        let errors = Catalog::new(parts(vec![a, b])).unwrap_err();
        assert!(errors[0].message.contains("\"cpa\""), "{errors:?}");
    }

    #[test]
    fn every_clash_is_reported_in_entry_order_naming_the_first_owner() {
        let mut a = cert("a", 1, 1, "甲证书", "Alpha");
        a.aliases.push("Zeta".into());
        let mut b = cert("b", 1, 2, "乙证书", "Beta");
        b.abbreviations.push("zeta".into());
        b.aliases.push("Gamma".into());
        let mut c = cert("c", 1, 3, "丙证书", "Gamma");
        c.aliases.push("ZETA".into());
        let errors = Catalog::new(parts(vec![a, b, c])).unwrap_err();
        let found: Vec<_> = errors
            .iter()
            .map(|v| (v.path.as_str(), v.message.as_str()))
            .collect();
        let clash = |text: &str, first: &str, second: &str| {
            format!(
                "{text:?} would name both {first:?} and {second:?}; a name, abbreviation or alias must name one entry"
            )
        };
        assert_eq!(
            found,
            [
                ("certificates[id=b]", clash("zeta", "a", "b").as_str()),
                ("certificates[id=c]", clash("gamma", "b", "c").as_str()),
                ("certificates[id=c]", clash("zeta", "a", "c").as_str()),
            ]
        );
    }

    #[test]
    fn entry_refs_name_a_catalog_and_an_entry() {
        let parsed = EntryRef::parse("beijing-2024/acca").unwrap();
        assert_eq!(parsed.catalog_id, "beijing-2024");
        assert_eq!(parsed.certificate_id, "acca");
        assert_eq!(parsed.to_string(), "beijing-2024/acca");
        for bad in [
            "acca",
            "/acca",
            "beijing/",
            "Beijing/acca",
            "a/b/c",
            "a/会计",
        ] {
            assert!(EntryRef::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_entry_cannot_supersede_an_entry_of_its_own_catalog() {
        let mut c = cert("a", 1, 1, "甲", "A");
        c.supersedes = Some(Box::new(EntryRef::parse("test/b").unwrap()));
        let errors = Catalog::new(parts(vec![c])).unwrap_err();
        assert_eq!(errors[0].path, "certificates[0].supersedes");
        let mut c = cert("a", 1, 1, "甲", "A");
        c.supersedes = Some(Box::new(EntryRef::parse("earlier/b").unwrap()));
        assert!(Catalog::new(parts(vec![c])).is_ok());
    }

    #[test]
    fn ids_are_lower_case_ascii() {
        assert!(is_valid_id("hcie-datacom"));
        assert!(!is_valid_id("HCIE"));
        assert!(!is_valid_id("1abc"));
        assert!(!is_valid_id(""));
        assert!(!is_valid_id("会士"));
    }
}
