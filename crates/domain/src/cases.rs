//! Expected-verdict cases: applicant scenarios a catalog's maintainers pin with the answer the
//! policy gives, checked against what [`evaluate`] answers.
//!
//! A case names what it checks and nothing more: the verdict always, the highest level, the
//! certificates the claims resolve to, condition statuses and notes only when the case lists
//! them. So a case pins the policy's answer to one question without freezing unrelated output.

use std::fmt;

use crate::catalog::Catalog;
use crate::equivalence::{
    Applicant, BasicConditions, Claim, ConditionStatus, EvaluationError, Verdict, evaluate,
};
use crate::level::TitleLevel;

/// One applicant scenario and the answer the policy gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Case {
    /// What the case is about, in words a policy officer recognises.
    pub name: String,
    pub claims: Vec<Claim>,
    pub applicant: Applicant,
    pub expect: Expectation,
}

/// What a case expects; `None` and empty lists check nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    pub verdict: Option<Verdict>,
    /// `Some(None)`: no level is supported.
    pub highest_level: Option<Option<TitleLevel>>,
    /// The certificate ids the claims resolve to, in claim order, without repeats.
    pub resolved: Option<Vec<String>>,
    /// Condition codes and what every condition of that code must be.
    pub conditions: Vec<(String, ExpectedCondition)>,
    /// Note codes the answer must carry.
    pub notes: Vec<String>,
}

/// What a case expects of the conditions of one code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExpectedCondition {
    /// At least one condition of the code, and every one of them has this status.
    Status(ConditionStatus),
    /// No condition of the code.
    Absent,
}

/// The parts of an evaluation a case can check, as plain values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub verdict: Verdict,
    pub highest_level: Option<TitleLevel>,
    pub resolved: Vec<String>,
    /// (code, certificate id, status), in answer order.
    pub conditions: Vec<(String, String, ConditionStatus)>,
    /// (code, certificate id), in answer order.
    pub notes: Vec<(String, String)>,
}

/// One way an answer differs from a case's expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mismatch {
    /// What differs: `verdict`, `highest_title_level`, `resolved`, `conditions.CODE` or
    /// `notes`.
    pub what: String,
    pub expected: String,
    pub answered: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: expected {}, answered {}",
            self.what, self.expected, self.answered
        )
    }
}

/// A case checked against a catalog.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// What the engine answered; an error when a claim names an id the catalog lacks.
    pub answer: Result<Answer, EvaluationError>,
    /// Empty when the case passes.
    pub mismatches: Vec<Mismatch>,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        self.answer.is_ok() && self.mismatches.is_empty()
    }
}

/// Evaluates the case's claims against `catalog` and compares the answer with the case.
pub fn check(catalog: &Catalog, case: &Case) -> Outcome {
    let evaluation = match evaluate(catalog, &case.claims, &case.applicant) {
        Ok(evaluation) => evaluation,
        Err(error) => {
            return Outcome {
                mismatches: vec![Mismatch {
                    what: "claims".into(),
                    expected: "certificate ids of this catalog".into(),
                    answered: error.to_string(),
                }],
                answer: Err(error),
            };
        }
    };
    let certs = catalog.certificates();
    let answer = Answer {
        verdict: evaluation.verdict,
        highest_level: evaluation.highest_level,
        resolved: evaluation
            .resolved_ids(catalog)
            .into_iter()
            .map(str::to_owned)
            .collect(),
        conditions: evaluation
            .conditions
            .iter()
            .map(|c| (c.code.to_owned(), certs[c.cert].id.clone(), c.status))
            .collect(),
        notes: evaluation
            .notes
            .iter()
            .map(|n| (n.code.to_owned(), certs[n.cert].id.clone()))
            .collect(),
    };
    let mismatches = compare(&case.expect, &answer);
    Outcome {
        answer: Ok(answer),
        mismatches,
    }
}

fn compare(expect: &Expectation, answer: &Answer) -> Vec<Mismatch> {
    let mut mismatches = Vec::new();
    if let Some(verdict) = expect.verdict
        && verdict != answer.verdict
    {
        mismatches.push(Mismatch {
            what: "verdict".into(),
            expected: verdict_name(verdict).into(),
            answered: verdict_name(answer.verdict).into(),
        });
    }
    if let Some(level) = expect.highest_level
        && level != answer.highest_level
    {
        mismatches.push(Mismatch {
            what: "highest_title_level".into(),
            expected: level_name(level).into(),
            answered: level_name(answer.highest_level).into(),
        });
    }
    if let Some(resolved) = &expect.resolved
        && *resolved != answer.resolved
    {
        mismatches.push(Mismatch {
            what: "resolved".into(),
            expected: list(resolved),
            answered: list(&answer.resolved),
        });
    }
    for (code, expected) in &expect.conditions {
        let statuses: Vec<ConditionStatus> = answer
            .conditions
            .iter()
            .filter(|(c, _, _)| c == code)
            .map(|(_, _, status)| *status)
            .collect();
        let holds = match expected {
            ExpectedCondition::Absent => statuses.is_empty(),
            ExpectedCondition::Status(status) => {
                !statuses.is_empty() && statuses.iter().all(|s| s == status)
            }
        };
        if !holds {
            let answered = if statuses.is_empty() {
                "ABSENT".to_owned()
            } else {
                statuses
                    .iter()
                    .map(|s| status_name(*s))
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            mismatches.push(Mismatch {
                what: format!("conditions.{code}"),
                expected: expected_condition_name(*expected).into(),
                answered,
            });
        }
    }
    let missing: Vec<&String> = expect
        .notes
        .iter()
        .filter(|code| !answer.notes.iter().any(|(c, _)| c == *code))
        .collect();
    if !missing.is_empty() {
        let answered: Vec<String> = answer.notes.iter().map(|(c, _)| c.clone()).collect();
        mismatches.push(Mismatch {
            what: "notes".into(),
            expected: list(&expect.notes),
            answered: list(&answered),
        });
    }
    mismatches
}

fn list(items: &[String]) -> String {
    format!("[{}]", items.join(", "))
}

/// The names a cases file writes verdicts with: the API's enum names without their prefix.
pub const VERDICT_NAMES: [(&str, Verdict); 4] = [
    ("RECOGNIZED", Verdict::Recognized),
    (
        "RECOGNIZED_WITH_CONDITIONS",
        Verdict::RecognizedWithConditions,
    ),
    ("NEEDS_CONFIRMATION", Verdict::NeedsConfirmation),
    ("NOT_RECOGNIZED", Verdict::NotRecognized),
];

/// The names a cases file writes condition statuses with (and `ABSENT`).
pub const STATUS_NAMES: [(&str, ConditionStatus); 3] = [
    ("SATISFIED", ConditionStatus::Satisfied),
    ("TO_VERIFY", ConditionStatus::ToVerify),
    ("NOT_SATISFIED", ConditionStatus::NotSatisfied),
];

/// The names a cases file writes what HR knows of the basic requirements with.
pub const BASIC_CONDITION_NAMES: [(&str, BasicConditions); 3] = [
    ("UNKNOWN", BasicConditions::Unknown),
    ("CONFIRMED", BasicConditions::Confirmed),
    ("NOT_MET", BasicConditions::NotMet),
];

/// The word a cases file uses for "no level" in `highest_title_level`.
pub const NO_LEVEL: &str = "none";

fn name_of<T: PartialEq + Copy>(names: &[(&'static str, T)], value: T) -> &'static str {
    names
        .iter()
        .find(|(_, v)| *v == value)
        .map_or("", |(name, _)| name)
}

fn value_of<T: Copy>(names: &[(&'static str, T)], name: &str) -> Option<T> {
    names.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

pub fn verdict_name(verdict: Verdict) -> &'static str {
    name_of(&VERDICT_NAMES, verdict)
}

pub fn parse_verdict(name: &str) -> Option<Verdict> {
    value_of(&VERDICT_NAMES, name)
}

pub fn status_name(status: ConditionStatus) -> &'static str {
    name_of(&STATUS_NAMES, status)
}

pub fn parse_status(name: &str) -> Option<ConditionStatus> {
    value_of(&STATUS_NAMES, name)
}

pub fn basic_conditions_name(basic: BasicConditions) -> &'static str {
    name_of(&BASIC_CONDITION_NAMES, basic)
}

pub fn parse_basic_conditions(name: &str) -> Option<BasicConditions> {
    value_of(&BASIC_CONDITION_NAMES, name)
}

/// A level as a cases file writes it: its Chinese label, or [`NO_LEVEL`].
pub fn level_name(level: Option<TitleLevel>) -> &'static str {
    level.map_or(NO_LEVEL, TitleLevel::label_zh)
}

pub fn expected_condition_name(expected: ExpectedCondition) -> &'static str {
    match expected {
        ExpectedCondition::Status(status) => status_name(status),
        ExpectedCondition::Absent => "ABSENT",
    }
}

pub fn parse_expected_condition(name: &str) -> Option<ExpectedCondition> {
    if name == "ABSENT" {
        return Some(ExpectedCondition::Absent);
    }
    parse_status(name).map(ExpectedCondition::Status)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::test_support::*;
    use crate::rules::DomesticQualification;

    fn catalog() -> Catalog {
        let mut acca = cert("acca", 2, 1, "ACCA会计师证书", "ACCA Member");
        acca.abbreviations.push("ACCA".into());
        acca.remark = format!("{}申报高一级职称需取得中级会计专业技术资格。", acca.remark).into();
        acca.rules
            .push(accounting_rule("申报高一级职称需取得中级会计专业技术资格"));
        Catalog::new(parts(vec![acca])).unwrap()
    }

    fn case(claims: Vec<Claim>, applicant: Applicant, expect: Expectation) -> Case {
        Case {
            name: "t".into(),
            claims,
            applicant,
            expect,
        }
    }

    #[test]
    fn a_case_that_states_the_engines_answer_passes() {
        let catalog = catalog();
        let applicant = Applicant {
            target: Some(TitleLevel::AssociateSenior),
            domestic_qualifications: vec![DomesticQualification::IntermediateAccounting],
            ..Applicant::default()
        };
        let expect = Expectation {
            verdict: Some(Verdict::NotRecognized),
            highest_level: Some(Some(TitleLevel::Intermediate)),
            resolved: Some(vec!["acca".into()]),
            conditions: vec![
                (
                    "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE".into(),
                    ExpectedCondition::Status(ConditionStatus::Satisfied),
                ),
                (
                    "CICPA_FOR_BEIJING_PRACTICE".into(),
                    ExpectedCondition::Absent,
                ),
            ],
            notes: vec![],
        };
        let text = crate::QueryText::parse("ACCA").unwrap();
        let outcome = check(&catalog, &case(vec![Claim::Text(text)], applicant, expect));
        assert!(outcome.passed(), "{:?}", outcome.mismatches);
    }

    #[test]
    fn each_difference_is_reported_with_expected_and_answered() {
        let catalog = catalog();
        let expect = Expectation {
            verdict: Some(Verdict::Recognized),
            highest_level: Some(None),
            resolved: Some(vec!["other".into()]),
            conditions: vec![
                (
                    "BASIC_SERIES_REQUIREMENTS".into(),
                    ExpectedCondition::Status(ConditionStatus::Satisfied),
                ),
                ("WORK_FIELD".into(), ExpectedCondition::Absent),
                (
                    "CICPA_FOR_BEIJING_PRACTICE".into(),
                    ExpectedCondition::Status(ConditionStatus::Satisfied),
                ),
            ],
            notes: vec!["CICPA_EXAM_EXEMPTION".into()],
        };
        let outcome = check(
            &catalog,
            &case(
                vec![Claim::CertificateId("acca".into())],
                Applicant::default(),
                expect,
            ),
        );
        let found: Vec<String> = outcome.mismatches.iter().map(|m| m.to_string()).collect();
        assert_eq!(
            found,
            [
                "verdict: expected RECOGNIZED, answered RECOGNIZED_WITH_CONDITIONS",
                "highest_title_level: expected none, answered 中级",
                "resolved: expected [other], answered [acca]",
                "conditions.BASIC_SERIES_REQUIREMENTS: expected SATISFIED, answered TO_VERIFY",
                "conditions.WORK_FIELD: expected ABSENT, answered TO_VERIFY",
                "conditions.CICPA_FOR_BEIJING_PRACTICE: expected SATISFIED, answered ABSENT",
                "notes: expected [CICPA_EXAM_EXEMPTION], answered []",
            ]
        );
        assert!(!outcome.passed());
    }

    #[test]
    fn an_unknown_certificate_id_fails_the_case() {
        let outcome = check(
            &catalog(),
            &case(
                vec![Claim::CertificateId("nope".into())],
                Applicant::default(),
                Expectation::default(),
            ),
        );
        assert!(outcome.answer.is_err());
        assert!(!outcome.passed());
        assert!(outcome.mismatches[0].answered.contains("nope"));
    }

    #[test]
    fn names_round_trip() {
        for (name, verdict) in VERDICT_NAMES {
            assert_eq!(
                parse_verdict(verdict_name(verdict)),
                Some(verdict),
                "{name}"
            );
        }
        for (name, status) in STATUS_NAMES {
            assert_eq!(parse_status(status_name(status)), Some(status), "{name}");
        }
        for (name, basic) in BASIC_CONDITION_NAMES {
            assert_eq!(
                parse_basic_conditions(basic_conditions_name(basic)),
                Some(basic),
                "{name}"
            );
        }
        assert_eq!(
            parse_expected_condition("ABSENT"),
            Some(ExpectedCondition::Absent)
        );
        assert_eq!(parse_verdict("recognized"), None);
    }
}
