//! Equivalence: from an applicant's certificate claims to a title level, with every condition
//! that still applies and the remark sentence each one rests on.
//!
//! A claim resolves only on an explicit id or a sure search hit; anything looser asks HR to
//! confirm. The verdict never grants more than the list does. The conditions each entry
//! carries are in `conditions`, the paragraphs for the case file in `explain`, and what a claim
//! may name that is not an entry in [`look_alike`].

mod conditions;
mod explain;
pub mod look_alike;

use std::ops::Range;

use crate::catalog::Catalog;
use crate::level::TitleLevel;
use crate::model::Certificate;
use crate::rules::DomesticQualification;
use crate::search::{AnalyzedQuery, CertificateFilter, MatchKind, QueryText, SearchHit};
use conditions::{
    certificate_conditions, certificate_notes, mutual_recognition_note, overall_status,
    target_exceeds,
};
use explain::{explain, names_one_entry};

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

/// What a citation quotes of its entry: the work scope, or a part of the remark. Every rule's
/// quote stands in the remark (the catalog checks it), and so does the work scope.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Quote {
    WorkScope,
    /// Bytes of the remark.
    Remark(Range<usize>),
}

impl Quote {
    /// The quoted text of `cert` (empty if the range is not the remark's).
    pub fn text<'c>(&self, cert: &'c Certificate) -> &'c str {
        match self {
            Quote::WorkScope => &cert.work_scope,
            Quote::Remark(range) => cert.remark.get(range.clone()).unwrap_or(""),
        }
    }
}

/// A condition of a recognised certificate, with its citation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub code: &'static str,
    pub description_zh: String,
    pub description_en: String,
    pub status: ConditionStatus,
    pub cert: usize,
    /// The part of the entry relied on, verbatim.
    pub quote: Quote,
    pub blocking: bool,
}

/// Information that changes no verdict; every text is the catalog's own.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note<'c> {
    pub code: &'c str,
    pub text_zh: &'c str,
    pub text_en: &'c str,
    pub cert: usize,
    pub quote: Quote,
}

/// A decision. It borrows the catalog's texts it cites.
#[derive(Debug, Clone, PartialEq)]
pub struct Evaluation<'c> {
    pub verdict: Verdict,
    pub highest_level: Option<TitleLevel>,
    pub claims: Vec<ClaimOutcome>,
    /// The positions of the entries the claims resolved to, in claim order, without repeats.
    pub resolved: Vec<usize>,
    pub conditions: Vec<Condition>,
    pub notes: Vec<Note<'c>>,
    pub explanation_zh: String,
    pub explanation_en: String,
}

impl Evaluation<'_> {
    /// The catalog ids of the certificates that resolved, in claim order, without repeats.
    pub fn resolved_ids<'c>(&self, catalog: &'c Catalog) -> Vec<&'c str> {
        self.resolved
            .iter()
            .map(|&i| catalog.certificates()[i].id.as_str())
            .collect()
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
        notes.extend(certificate_notes(catalog, i));
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
        resolved,
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

    // Analysed once, for the search and the look-alike checks.
    let query = AnalyzedQuery::of(text);
    let outcome = catalog.index().search(
        certs,
        &query,
        &CertificateFilter::default(),
        MAX_CANDIDATES,
        false,
    );
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
    if let Some((i, names)) = catalog.look_alikes().mutually_recognised(&query) {
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
        .look_alikes()
        .not_listed(&query)
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
