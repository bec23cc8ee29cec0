//! Equivalence: from an applicant's certificate claims to a title level, with every condition
//! that still applies and the remark sentence each one rests on.
//!
//! A claim resolves only on an explicit id or a sure search hit; anything looser asks HR to
//! confirm. The verdict never grants more than the list does.

use std::fmt::Write as _;

use crate::catalog::{Catalog, Certificate};
use crate::level::TitleLevel;
use crate::rules::{DomesticQualification, Rule};
use crate::search::{CertificateFilter, MatchKind, QueryText, SearchHit};
use crate::text::normalize;

/// Stable condition codes (part of the API contract).
pub mod codes {
    pub const BASIC_SERIES_REQUIREMENTS: &str = "BASIC_SERIES_REQUIREMENTS";
    pub const WORK_FIELD: &str = "WORK_FIELD";
    pub const DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE: &str =
        "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE";
    pub const CICPA_FOR_BEIJING_PRACTICE: &str = "CICPA_FOR_BEIJING_PRACTICE";
    pub const TARGET_LEVEL_EXCEEDS_CATALOG: &str = "TARGET_LEVEL_EXCEEDS_CATALOG";
    pub const MUTUAL_RECOGNITION: &str = "MUTUAL_RECOGNITION";
}

/// Most claims one evaluation takes.
pub const MAX_CLAIMS: usize = 50;
/// Candidates offered for a claim that did not resolve.
const MAX_CANDIDATES: usize = 5;
/// Below this score a search hit is not worth offering as a candidate.
const MIN_CANDIDATE_SCORE: f64 = 0.3;

/// One certificate the applicant claims, as validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    CertificateId(String),
    Text(QueryText),
}

/// Whether HR has checked the series' education and years requirements.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BasicConditions {
    #[default]
    Unknown,
    Confirmed,
    NotMet,
}

/// What HR knows about the applicant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Applicant {
    pub work_field: Option<String>,
    pub target: Option<TitleLevel>,
    pub basic_conditions: BasicConditions,
    pub domestic_qualifications: Vec<DomesticQualification>,
    pub intends_cpa_practice_in_beijing: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    NotRecognized,
    NeedsConfirmation,
    RecognizedWithConditions,
    Recognized,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Resolved,
    Ambiguous,
    Unresolved,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ConditionStatus {
    NotSatisfied,
    ToVerify,
    Satisfied,
}

/// An entry offered for a claim that did not resolve.
#[derive(Debug, Clone, PartialEq)]
pub struct Candidate {
    pub cert: usize,
    pub score: f64,
    pub kind: MatchKind,
}

/// The result for one claim.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimOutcome {
    pub resolution: Resolution,
    pub cert: Option<usize>,
    pub kind: Option<MatchKind>,
    pub score: f64,
    pub candidates: Vec<Candidate>,
    pub reason_zh: String,
    pub reason_en: String,
    /// Set when the claim names a certification that an entry is mutually recognised with.
    pub mutually_recognised_with: Option<usize>,
}

/// A condition of a recognised certificate, with its citation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition<'c> {
    pub code: &'static str,
    pub description_zh: String,
    pub description_en: String,
    pub status: ConditionStatus,
    pub cert: usize,
    /// The remark sentence relied on, verbatim (borrowed from the catalog).
    pub quote: &'c str,
    pub blocking: bool,
}

/// Information that changes no verdict; every text is the catalog's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note<'c> {
    pub code: &'c str,
    pub text_zh: &'c str,
    pub text_en: &'c str,
    pub cert: usize,
    pub quote: &'c str,
}

/// A decision. It borrows the catalog's texts it cites.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'c> {
    pub verdict: Verdict,
    pub highest_level: Option<TitleLevel>,
    pub claims: Vec<ClaimOutcome>,
    pub conditions: Vec<Condition<'c>>,
    pub notes: Vec<Note<'c>>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

impl Evaluation<'_> {
    /// The catalog ids of the certificates that resolved, in claim order, without repeats.
    pub fn resolved_ids<'c>(&self, catalog: &'c Catalog) -> Vec<&'c str> {
        let mut ids: Vec<&str> = Vec::new();
        for claim in &self.claims {
            if let Some(i) = claim
                .cert
                .filter(|_| claim.resolution == Resolution::Resolved)
            {
                let id = catalog.certificates()[i].id.as_str();
                if !ids.contains(&id) {
                    ids.push(id);
                }
            }
        }
        ids
    }
}

/// Why an evaluation could not be made.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvaluationError {
    #[error("certificate {id:?} not found in catalog {catalog:?}")]
    UnknownCertificate { id: String, catalog: String },
}

/// Evaluates the claims against the catalog.
pub fn evaluate<'c>(
    catalog: &'c Catalog,
    claims: &[Claim],
    applicant: &Applicant,
) -> Result<Evaluation<'c>, EvaluationError> {
    let certs = catalog.certificates();
    let outcomes = claims
        .iter()
        .map(|claim| resolve(catalog, claim))
        .collect::<Result<Vec<_>, _>>()?;

    let mut resolved: Vec<usize> = Vec::new();
    for outcome in &outcomes {
        if let (Resolution::Resolved, Some(i)) = (outcome.resolution, outcome.cert)
            && !resolved.contains(&i)
        {
            resolved.push(i);
        }
    }

    // Two conditions per entry, sometimes a rule's or a target's more.
    let mut conditions = Vec::with_capacity(4 * resolved.len());
    let mut notes = Vec::new();
    let mut standing: Vec<(usize, ConditionStatus)> = Vec::new();
    for &i in &resolved {
        let cert = &certs[i];
        let first = conditions.len();
        certificate_conditions(catalog, i, cert, applicant, &mut conditions);
        standing.push((i, overall_status(&conditions[first..])));
        notes.extend(certificate_notes(i, cert));
    }
    for outcome in &outcomes {
        if let Some(note) = mutual_recognition_note(catalog, outcome)
            && !notes.contains(&note)
        {
            notes.push(note);
        }
    }

    let best = standing
        .iter()
        .filter(|(_, status)| *status != ConditionStatus::NotSatisfied)
        .max_by_key(|(i, status)| (certs[*i].title_level, *status, std::cmp::Reverse(*i)))
        .copied();
    let highest_level = best.map(|(i, _)| certs[i].title_level);
    let best_pending = outcomes
        .iter()
        .filter(|o| o.resolution == Resolution::Ambiguous)
        .flat_map(|o| o.candidates.iter().map(|c| certs[c.cert].title_level))
        .max();

    let mut verdict = match best {
        None => Verdict::NotRecognized,
        Some((_, ConditionStatus::Satisfied)) => Verdict::Recognized,
        Some(_) => Verdict::RecognizedWithConditions,
    };
    if let (Some(target), Some((i, _))) = (applicant.target, best)
        && target > certs[i].title_level
    {
        conditions.push(target_exceeds(i, &certs[i], target));
        verdict = Verdict::NotRecognized;
    }
    // The best outcome depends on a claim HR must confirm when that claim could reach further.
    let reachable = applicant.target.or(best_pending);
    if let Some(pending) = best_pending {
        let could_do_better = highest_level.is_none_or(|h| pending > h)
            && reachable.is_some_and(|goal| pending >= goal);
        if could_do_better || (best.is_none() && verdict == Verdict::NotRecognized) {
            verdict = Verdict::NeedsConfirmation;
        }
    }

    let mut evaluation = Evaluation {
        verdict,
        highest_level,
        claims: outcomes,
        conditions,
        notes,
        explanation_zh: String::new(),
        explanation_en: String::new(),
    };
    let (zh, en) = explain(catalog, claims, &evaluation);
    evaluation.explanation_zh = zh;
    evaluation.explanation_en = en;
    Ok(evaluation)
}

fn resolve(catalog: &Catalog, claim: &Claim) -> Result<ClaimOutcome, EvaluationError> {
    let certs = catalog.certificates();
    let text = match claim {
        Claim::CertificateId(id) => {
            let Some(i) = catalog.position(id) else {
                return Err(EvaluationError::UnknownCertificate {
                    id: id.clone(),
                    catalog: catalog.id().to_owned(),
                });
            };
            return Ok(ClaimOutcome {
                mutually_recognised_with: None,
                resolution: Resolution::Resolved,
                cert: Some(i),
                kind: Some(MatchKind::Exact),
                score: 1.0,
                candidates: vec![],
                reason_zh: format!("按证书编号“{id}”指定。"),
                reason_en: format!("Named by certificate id {id:?}."),
            });
        }
        Claim::Text(text) => text,
    };

    let outcome =
        catalog
            .index()
            .search(certs, text, &CertificateFilter::default(), MAX_CANDIDATES);
    if let Some(hit) = outcome.sure_hit() {
        let (reason_zh, reason_en) = names_one_entry(&certs[hit.cert]);
        return Ok(ClaimOutcome {
            mutually_recognised_with: None,
            resolution: Resolution::Resolved,
            cert: Some(hit.cert),
            kind: Some(hit.kind),
            score: hit.score,
            candidates: vec![],
            reason_zh,
            reason_en,
        });
    }
    if let Some((i, names)) = catalog.index().mutual_recognition_match(text) {
        let cert = &certs[i];
        return Ok(ClaimOutcome {
            mutually_recognised_with: Some(i),
            resolution: Resolution::Ambiguous,
            cert: None,
            kind: None,
            score: 0.0,
            candidates: vec![Candidate {
                cert: i,
                score: 0.0,
                kind: MatchKind::Partial,
            }],
            reason_zh: format!(
                "{names}本身不在清单中，但与清单中的“{}”互认，需人工确认。",
                cert.name_zh
            ),
            reason_en: format!(
                "{names} is not on the list itself but is mutually recognised with {}; HR must confirm.",
                cert.name_en
            ),
        });
    }
    if let Some(entry) = catalog
        .index()
        .not_listed_match(text)
        .and_then(|i| catalog.not_listed().get(i))
    {
        return Ok(ClaimOutcome {
            mutually_recognised_with: None,
            resolution: Resolution::Unresolved,
            cert: None,
            kind: None,
            score: 0.0,
            candidates: vec![],
            reason_zh: if entry.note_zh.is_empty() {
                "该证书不在本清单中。".to_owned()
            } else {
                entry.note_zh.clone()
            },
            reason_en: if entry.note_en.is_empty() {
                "This certificate is not on the list.".to_owned()
            } else {
                entry.note_en.clone()
            },
        });
    }
    let candidates: Vec<Candidate> = outcome
        .hits
        .iter()
        .filter(|hit| hit.score >= MIN_CANDIDATE_SCORE)
        .map(|hit: &SearchHit| Candidate {
            cert: hit.cert,
            score: hit.score,
            kind: hit.kind,
        })
        .collect();
    if candidates.is_empty() {
        return Ok(ClaimOutcome {
            mutually_recognised_with: None,
            resolution: Resolution::Unresolved,
            cert: None,
            kind: None,
            score: 0.0,
            candidates,
            reason_zh: "未在清单中找到对应证书。".into(),
            reason_en: "No entry of the list matches this certificate.".into(),
        });
    }
    Ok(ClaimOutcome {
        mutually_recognised_with: None,
        resolution: Resolution::Ambiguous,
        cert: None,
        kind: None,
        score: 0.0,
        reason_zh: format!(
            "无法唯一确定对应的清单证书（{}个可能），需人工确认。",
            candidates.len()
        ),
        reason_en: format!(
            "Does not name one entry for sure ({} possible); HR must confirm which is meant.",
            candidates.len()
        ),
        candidates,
    })
}

/// Why a claim resolved to `cert` by search, in Chinese and English.
fn names_one_entry(cert: &Certificate) -> (String, String) {
    let mut zh = String::with_capacity(64 + cert.name_zh.len());
    zh.push_str("与清单");
    push_position_zh(&mut zh, cert);
    zh.push('“');
    zh.push_str(&cert.name_zh);
    zh.push_str("”唯一对应。");
    let mut en = String::with_capacity(64 + cert.name_en.len());
    en.push_str("Names exactly one entry: ");
    push_position_en(&mut en, cert);
    en.push_str(", ");
    en.push_str(&cert.name_en);
    en.push('.');
    (zh, en)
}

/// The entry whose mutual-recognition rule names what the claim says, with the names matched.
fn mutual_recognition_note<'c>(catalog: &'c Catalog, outcome: &ClaimOutcome) -> Option<Note<'c>> {
    let i = outcome.mutually_recognised_with?;
    let cert = &catalog.certificates()[i];
    cert.rules
        .iter()
        .filter(|rule| matches!(rule, Rule::MutualRecognition { .. }))
        .find_map(|rule| note_of(i, rule))
}

/// Appends the conditions of the entry at `i` to `out`.
fn certificate_conditions<'c>(
    catalog: &Catalog,
    i: usize,
    cert: &'c Certificate,
    applicant: &Applicant,
    out: &mut Vec<Condition<'c>>,
) {
    let level = cert.title_level;
    out.push(Condition {
        code: codes::BASIC_SERIES_REQUIREMENTS,
        description_zh: [
            "需符合相应职称系列（专业）",
            level.label_zh(),
            "级别的学历、年限等基本标准条件。",
        ]
        .concat(),
        description_en: [
            "Must meet the education and years-of-experience requirements of the corresponding title series at the ",
            level.label_en(),
            " level.",
        ]
        .concat(),
        status: match applicant.basic_conditions {
            BasicConditions::Confirmed => ConditionStatus::Satisfied,
            BasicConditions::NotMet => ConditionStatus::NotSatisfied,
            BasicConditions::Unknown => ConditionStatus::ToVerify,
        },
        cert: i,
        quote: clause_containing(&cert.remark, "基本标准条件"),
        blocking: true,
    });
    out.push(Condition {
        code: codes::WORK_FIELD,
        description_zh: ["需从事该证书对应的工作：", &cert.work_scope].concat(),
        description_en: [
            "Must work in the certificate's scope (fields: ",
            &cert.fields.join("、"),
            ").",
        ]
        .concat(),
        status: work_field_status(catalog, cert, applicant.work_field.as_deref()),
        cert: i,
        quote: &cert.work_scope,
        blocking: true,
    });
    for rule in &cert.rules {
        match rule {
            Rule::DomesticAccountingForHigherTitle { requires, quote } => {
                let Some(target) = applicant.target.filter(|t| *t > level) else {
                    continue;
                };
                let held = requires
                    .iter()
                    .all(|q| applicant.domestic_qualifications.contains(q));
                out.push(Condition {
                    code: codes::DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE,
                    description_zh: format!(
                        "申报高一级职称（{}）需取得{}。",
                        target.label_zh(),
                        labels_zh(requires)
                    ),
                    description_en: format!(
                        "Applying for a higher title ({}) requires {}.",
                        target.label_en(),
                        labels_en(requires)
                    ),
                    status: status_of(held),
                    cert: i,
                    quote,
                    // Governs the application above the certificate's level, which
                    // TARGET_LEVEL_EXCEEDS_CATALOG already refuses; it does not take away the
                    // level the certificate itself corresponds to.
                    blocking: false,
                });
            }
            Rule::CicpaForBeijingPractice { quote } => {
                if !applicant.intends_cpa_practice_in_beijing {
                    continue;
                }
                let needed = [
                    DomesticQualification::CicpaExam,
                    DomesticQualification::BicpaRegistration,
                ];
                let held = needed
                    .iter()
                    .all(|q| applicant.domestic_qualifications.contains(q));
                out.push(Condition {
                    code: codes::CICPA_FOR_BEIJING_PRACTICE,
                    description_zh: "在京从事注册会计师业务，须通过中国注册会计师考试及在北京注册会计师协会注册后执业。".into(),
                    description_en: "Practising as a CPA in Beijing requires passing the Chinese CPA examination and registering with the Beijing Institute of Certified Public Accountants.".into(),
                    status: status_of(held),
                    cert: i,
                    quote,
                    // Concerns the right to practise, not the title equivalence itself.
                    blocking: false,
                });
            }
            Rule::MutualRecognition { .. } | Rule::Note { .. } => {}
        }
    }
}

fn certificate_notes(i: usize, cert: &Certificate) -> impl Iterator<Item = Note<'_>> {
    cert.rules.iter().filter_map(move |rule| note_of(i, rule))
}

/// The informational note a rule gives, if it is one (notes and mutual recognitions).
fn note_of(i: usize, rule: &Rule) -> Option<Note<'_>> {
    let (code, quote, note_en) = match rule {
        Rule::Note {
            code,
            quote,
            note_en,
        } => (code.as_str(), quote, note_en),
        Rule::MutualRecognition { quote, note_en, .. } => {
            (codes::MUTUAL_RECOGNITION, quote, note_en)
        }
        Rule::DomesticAccountingForHigherTitle { .. } | Rule::CicpaForBeijingPractice { .. } => {
            return None;
        }
    };
    Some(Note {
        code,
        text_zh: quote,
        text_en: note_en,
        cert: i,
        quote,
    })
}

fn target_exceeds(i: usize, cert: &Certificate, target: TitleLevel) -> Condition<'_> {
    Condition {
        code: codes::TARGET_LEVEL_EXCEEDS_CATALOG,
        description_zh: format!(
            "申报的{}职称高于清单对应的最高级别（{}）；本清单不对应更高级别的职称。",
            target.label_zh(),
            cert.title_level.label_zh()
        ),
        description_en: format!(
            "The target level ({}) is above the highest level the list supports ({}); the list grants no more than it states.",
            target.label_en(),
            cert.title_level.label_en()
        ),
        status: ConditionStatus::NotSatisfied,
        cert: i,
        quote: clause_containing(&cert.remark, "职称"),
        blocking: true,
    }
}

/// WORK_FIELD is conservative: NOT_SATISFIED only when the applicant's field is one of the
/// catalog's own field terms and has nothing to do with this certificate.
fn work_field_status(
    catalog: &Catalog,
    cert: &Certificate,
    work_field: Option<&str>,
) -> ConditionStatus {
    let Some(work_field) = work_field.map(str::trim).filter(|w| !w.is_empty()) else {
        return ConditionStatus::ToVerify;
    };
    let wanted = normalize(work_field);
    let related = cert.fields.iter().any(|f| {
        let f = catalog.normalized_field(f);
        !f.is_empty() && (wanted.contains(&*f) || f.contains(&wanted))
    }) || (wanted.chars().count() >= 2
        && normalize(&cert.work_scope).contains(&wanted));
    if related {
        return ConditionStatus::Satisfied;
    }
    if catalog.has_field_term(&wanted) {
        ConditionStatus::NotSatisfied
    } else {
        ConditionStatus::ToVerify
    }
}

fn overall_status(conditions: &[Condition]) -> ConditionStatus {
    if conditions
        .iter()
        .any(|c| c.blocking && c.status == ConditionStatus::NotSatisfied)
    {
        ConditionStatus::NotSatisfied
    } else if conditions
        .iter()
        .all(|c| c.status == ConditionStatus::Satisfied)
    {
        ConditionStatus::Satisfied
    } else {
        ConditionStatus::ToVerify
    }
}

fn status_of(held: bool) -> ConditionStatus {
    if held {
        ConditionStatus::Satisfied
    } else {
        ConditionStatus::NotSatisfied
    }
}

fn labels_zh(quals: &[DomesticQualification]) -> String {
    quals
        .iter()
        .map(|q| q.label_zh())
        .collect::<Vec<_>>()
        .join("、")
}

fn labels_en(quals: &[DomesticQualification]) -> String {
    quals
        .iter()
        .map(|q| q.label_en())
        .collect::<Vec<_>>()
        .join(" and ")
}

/// Marks that end a clause of a remark.
const CLAUSE_ENDS: [char; 2] = ['。', '，'];

/// The clause of `text` that contains `needle`, or the whole text: from after the mark before
/// it to its closing "。" (kept) or "，" (dropped). `needle` holds no mark, so this is the
/// clause around its first occurrence.
fn clause_containing<'t>(text: &'t str, needle: &str) -> &'t str {
    debug_assert!(
        !needle.contains(CLAUSE_ENDS),
        "{needle:?} holds a clause mark"
    );
    // memmem, not `str::find`: on a remark the two-way searcher's setup costs more.
    let Some(at) = memchr::memmem::find(text.as_bytes(), needle.as_bytes()) else {
        return text;
    };
    let start = text[..at]
        .char_indices()
        .rev()
        .find(|(_, c)| CLAUSE_ENDS.contains(c))
        .map_or(0, |(p, c)| p + c.len_utf8());
    let end = match text[at..]
        .char_indices()
        .find(|(_, c)| CLAUSE_ENDS.contains(c))
    {
        Some((p, '。')) => at + p + '。'.len_utf8(),
        Some((p, _)) => at + p,
        None => text.len(),
    };
    &text[start..end]
}

fn status_zh(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::Satisfied => "已满足",
        ConditionStatus::NotSatisfied => "不满足",
        ConditionStatus::ToVerify => "待核实",
    }
}

fn status_en(status: ConditionStatus) -> &'static str {
    match status {
        ConditionStatus::Satisfied => "satisfied",
        ConditionStatus::NotSatisfied => "not satisfied",
        ConditionStatus::ToVerify => "to be verified",
    }
}

/// Appends a name for an explanation: `name`, with the entry's abbreviation in `brackets` when
/// the name does not already carry it ("ACCA资深会员证书（Fcca）" needs no "（FCCA）").
fn push_display_name(out: &mut String, cert: &Certificate, name: &str, brackets: [&str; 2]) {
    out.push_str(name);
    if let Some(abbr) = cert.abbreviations.first()
        && !contains_ignoring_case(name, abbr)
    {
        out.push_str(brackets[0]);
        out.push_str(abbr);
        out.push_str(brackets[1]);
    }
}

/// Whether `haystack` contains `needle`, case aside; without allocating when `needle` is ASCII
/// (abbreviations are).
fn contains_ignoring_case(haystack: &str, needle: &str) -> bool {
    if !needle.is_ascii() {
        return haystack.to_lowercase().contains(&needle.to_lowercase());
    }
    let Some(first) = needle.as_bytes().first() else {
        return true;
    };
    haystack
        .as_bytes()
        .windows(needle.len())
        .any(|w| w[0].eq_ignore_ascii_case(first) && w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Appends where the entry is on the list: "第1部分第8项".
fn push_position_zh(out: &mut String, cert: &Certificate) {
    let mut number = itoa::Buffer::new();
    out.push('第');
    out.push_str(number.format(cert.section));
    out.push_str("部分第");
    out.push_str(number.format(cert.item));
    out.push('项');
}

/// Appends where the entry is on the list: "section 1 item 8".
fn push_position_en(out: &mut String, cert: &Certificate) {
    let mut number = itoa::Buffer::new();
    out.push_str("section ");
    out.push_str(number.format(cert.section));
    out.push_str(" item ");
    out.push_str(number.format(cert.item));
}

/// Appends `text` as a clause joined into a sentence: first letter lower-cased, no full stop.
fn push_clause_en(out: &mut String, text: &str) {
    let text = text.trim_end_matches('.');
    let mut chars = text.chars();
    if let Some(first) = chars.next() {
        out.extend(first.to_lowercase());
        out.push_str(chars.as_str());
    }
}

fn explain(catalog: &Catalog, claims: &[Claim], evaluation: &Evaluation) -> (String, String) {
    let certs = catalog.certificates();
    let mut zh = String::with_capacity(512);
    let mut en = String::with_capacity(512);
    for (claim, outcome) in claims.iter().zip(&evaluation.claims) {
        let typed = match claim {
            Claim::CertificateId(id) => id.as_str(),
            Claim::Text(text) => text.as_str(),
        };
        match (outcome.resolution, outcome.cert) {
            (Resolution::Resolved, Some(i)) => {
                let cert = &certs[i];
                // Pieces pushed one by one: `write!` with string arguments was a fifth of an
                // evaluation's instructions.
                zh.push_str("持有");
                push_display_name(&mut zh, cert, &cert.name_zh, ["（", "）"]);
                zh.push_str("，依据");
                zh.push_str(&catalog.meta().source);
                push_position_zh(&mut zh, cert);
                zh.push_str("，可对应");
                zh.push_str(cert.title_level.label_zh());
                zh.push_str("职称");
                push_display_name(&mut en, cert, &cert.name_en, [" (", ")"]);
                en.push_str(" corresponds to the ");
                en.push_str(cert.title_level.label_en());
                en.push_str(" title level under ");
                en.push_str(&catalog.meta().source);
                en.push(' ');
                push_position_en(&mut en, cert);
                for condition in evaluation.conditions.iter().filter(|c| c.cert == i) {
                    zh.push('；');
                    zh.push_str(condition.description_zh.trim_end_matches('。'));
                    zh.push('（');
                    zh.push_str(status_zh(condition.status));
                    zh.push('）');
                    en.push_str("; ");
                    push_clause_en(&mut en, &condition.description_en);
                    en.push_str(" (");
                    en.push_str(status_en(condition.status));
                    en.push(')');
                }
                zh.push('。');
                en.push_str(". ");
            }
            _ => {
                let _ = write!(zh, "“{typed}”：{}", outcome.reason_zh);
                let _ = write!(en, "{typed:?}: {} ", outcome.reason_en);
            }
        }
    }
    let verdict_zh = match evaluation.verdict {
        Verdict::Recognized => "结论：予以对应。",
        Verdict::RecognizedWithConditions => "结论：在核实上述条件后予以对应。",
        Verdict::NeedsConfirmation => "结论：需人工确认证书后再作判断。",
        Verdict::NotRecognized => "结论：不予对应。",
    };
    let verdict_en = match evaluation.verdict {
        Verdict::Recognized => "Verdict: recognized.",
        Verdict::RecognizedWithConditions => {
            "Verdict: recognized once the conditions above are verified."
        }
        Verdict::NeedsConfirmation => "Verdict: HR must confirm the certificate before deciding.",
        Verdict::NotRecognized => "Verdict: not recognized.",
    };
    zh.push_str(verdict_zh);
    en.push_str(verdict_en);
    (zh, en)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clause_containing_cuts_at_the_marks_around_the_needle() {
        let remark = "从事会计工作。对应副高级职称需符合基本标准条件，取得资格后可申报。另有说明。";
        let table = [
            ("基本标准条件", "对应副高级职称需符合基本标准条件"),
            ("职称", "对应副高级职称需符合基本标准条件"),
            ("从事", "从事会计工作。"),
            ("另有", "另有说明。"),
            ("申报", "取得资格后可申报。"),
            ("不在其中", remark),
        ];
        for (needle, clause) in table {
            assert_eq!(
                clause_containing(remark, needle),
                clause,
                "needle {needle:?}"
            );
        }
        assert_eq!(clause_containing("无标点的备注", "备注"), "无标点的备注");
        assert_eq!(clause_containing("末尾，逗号，", "逗号"), "逗号");
    }
}
