//! Equivalence rules over the real catalog: one row = one applicant scenario a reader can
//! check against the remarks of attachment 5.

use certequiv_domain::equivalence::{
    Applicant, BasicConditions, Claim, ConditionStatus, Resolution, Verdict, evaluate,
};
use certequiv_domain::rules::DomesticQualification::{self, *};
use certequiv_domain::{Catalog, QueryText, TitleLevel};
use certequiv_storage::{EMBEDDED_CATALOG, load_text};

use ConditionStatus::{NotSatisfied as NO, Satisfied as YES, ToVerify as TBD};
use TitleLevel::{AssociateSenior, Intermediate, Senior};
use Verdict::*;

fn catalog() -> Catalog {
    load_text("embedded", EMBEDDED_CATALOG)
        .unwrap_or_else(|e| panic!("{e:?}"))
        .catalog
}

struct Scenario {
    name: &'static str,
    claims: &'static [&'static str],
    work_field: &'static str,
    target: Option<TitleLevel>,
    basic: BasicConditions,
    domestic: &'static [DomesticQualification],
    cpa_practice: bool,
    verdict: Verdict,
    highest: Option<TitleLevel>,
    /// (condition code, status) that must be present.
    conditions: &'static [(&'static str, ConditionStatus)],
    /// condition codes that must be absent.
    absent: &'static [&'static str],
}

const BASE: Scenario = Scenario {
    name: "",
    claims: &[],
    work_field: "",
    target: None,
    basic: BasicConditions::Unknown,
    domestic: &[],
    cpa_practice: false,
    verdict: NotRecognized,
    highest: None,
    conditions: &[],
    absent: &[],
};

const BASIC: &str = "BASIC_SERIES_REQUIREMENTS";
const FIELD: &str = "WORK_FIELD";
const ACCOUNTING: &str = "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE";
const CICPA: &str = "CICPA_FOR_BEIJING_PRACTICE";
const EXCEEDS: &str = "TARGET_LEVEL_EXCEEDS_CATALOG";

const CONFIRMED: BasicConditions = BasicConditions::Confirmed;
const NOT_MET: BasicConditions = BasicConditions::NotMet;

fn scenarios() -> Vec<Scenario> {
    vec![
        Scenario {
            name: "FCCA alone: associate senior, basics to verify",
            claims: &["FCCA"],
            verdict: RecognizedWithConditions,
            highest: Some(AssociateSenior),
            conditions: &[(BASIC, TBD), (FIELD, TBD)],
            absent: &[ACCOUNTING, CICPA, EXCEEDS],
            ..BASE
        },
        Scenario {
            name: "FCCA targeting 正高级 without senior accounting",
            claims: &["FCCA"],
            target: Some(Senior),
            verdict: NotRecognized,
            highest: Some(AssociateSenior),
            conditions: &[(ACCOUNTING, NO), (EXCEEDS, NO)],
            ..BASE
        },
        Scenario {
            name: "FCCA targeting 正高级 with senior accounting: still beyond the list",
            claims: &["FCCA"],
            target: Some(Senior),
            domestic: &[SeniorAccounting],
            verdict: NotRecognized,
            highest: Some(AssociateSenior),
            conditions: &[(ACCOUNTING, YES), (EXCEEDS, NO)],
            ..BASE
        },
        Scenario {
            name: "FCCA targeting its own level: no higher-title rule",
            claims: &["FCCA"],
            target: Some(AssociateSenior),
            basic: CONFIRMED,
            work_field: "会计",
            verdict: Recognized,
            highest: Some(AssociateSenior),
            conditions: &[(BASIC, YES), (FIELD, YES)],
            absent: &[ACCOUNTING, EXCEEDS],
            ..BASE
        },
        Scenario {
            name: "FCCA targeting a lower level is covered",
            claims: &["FCCA"],
            target: Some(Intermediate),
            basic: CONFIRMED,
            work_field: "金融",
            verdict: Recognized,
            highest: Some(AssociateSenior),
            absent: &[ACCOUNTING, EXCEEDS],
            ..BASE
        },
        Scenario {
            name: "ACCA targeting 副高级 without intermediate accounting",
            claims: &["ACCA"],
            target: Some(AssociateSenior),
            verdict: NotRecognized,
            highest: Some(Intermediate),
            conditions: &[(ACCOUNTING, NO), (EXCEEDS, NO)],
            ..BASE
        },
        Scenario {
            name: "ACCA targeting 副高级 with intermediate accounting",
            claims: &["ACCA"],
            target: Some(AssociateSenior),
            domestic: &[IntermediateAccounting],
            verdict: NotRecognized,
            highest: Some(Intermediate),
            conditions: &[(ACCOUNTING, YES), (EXCEEDS, NO)],
            ..BASE
        },
        Scenario {
            name: "ACCA practising in Beijing without CICPA",
            claims: &["ACCA"],
            cpa_practice: true,
            basic: CONFIRMED,
            work_field: "会计",
            verdict: RecognizedWithConditions,
            highest: Some(Intermediate),
            conditions: &[(CICPA, NO), (BASIC, YES)],
            ..BASE
        },
        Scenario {
            name: "ACCA practising in Beijing with CICPA exam and BICPA registration",
            claims: &["ACCA"],
            cpa_practice: true,
            basic: CONFIRMED,
            work_field: "会计",
            domestic: &[CicpaExam, BicpaRegistration],
            verdict: Recognized,
            highest: Some(Intermediate),
            conditions: &[(CICPA, YES)],
            ..BASE
        },
        Scenario {
            name: "ACCA practising in Beijing with the exam only",
            claims: &["ACCA"],
            cpa_practice: true,
            domestic: &[CicpaExam],
            verdict: RecognizedWithConditions,
            conditions: &[(CICPA, NO)],
            highest: Some(Intermediate),
            ..BASE
        },
        Scenario {
            name: "CPA Australia not practising: no CICPA condition",
            claims: &["CPA Australia"],
            verdict: RecognizedWithConditions,
            highest: Some(Intermediate),
            absent: &[CICPA, ACCOUNTING],
            ..BASE
        },
        Scenario {
            name: "CPA Australia targeting 副高级",
            claims: &["澳洲CPA"],
            target: Some(AssociateSenior),
            verdict: NotRecognized,
            highest: Some(Intermediate),
            conditions: &[(ACCOUNTING, NO)],
            ..BASE
        },
        Scenario {
            name: "CFA charterholder, basics confirmed, finance role",
            claims: &["CFA"],
            basic: CONFIRMED,
            work_field: "金融",
            verdict: Recognized,
            highest: Some(Intermediate),
            conditions: &[(BASIC, YES), (FIELD, YES)],
            absent: &[ACCOUNTING, CICPA],
            ..BASE
        },
        Scenario {
            name: "CFA with basics not met",
            claims: &["CFA"],
            basic: NOT_MET,
            verdict: NotRecognized,
            highest: None,
            conditions: &[(BASIC, NO)],
            ..BASE
        },
        Scenario {
            name: "CFA in a clearly unrelated catalog field",
            claims: &["CFA"],
            work_field: "教育",
            basic: CONFIRMED,
            verdict: NotRecognized,
            highest: None,
            conditions: &[(FIELD, NO)],
            ..BASE
        },
        Scenario {
            name: "CFA with an unknown field text: to verify, never a guess",
            claims: &["CFA"],
            work_field: "市场营销",
            verdict: RecognizedWithConditions,
            highest: Some(Intermediate),
            conditions: &[(FIELD, TBD)],
            ..BASE
        },
        Scenario {
            name: "DELTA teaching English: scope words match",
            claims: &["DELTA"],
            work_field: "英语语言课程教学",
            basic: CONFIRMED,
            verdict: Recognized,
            highest: Some(Intermediate),
            conditions: &[(FIELD, YES)],
            ..BASE
        },
        Scenario {
            name: "IEEE Fellow",
            claims: &["IEEE Fellow"],
            verdict: RecognizedWithConditions,
            highest: Some(AssociateSenior),
            ..BASE
        },
        Scenario {
            name: "IEEE Fellow targeting 正高级",
            claims: &["IEEE会士"],
            target: Some(Senior),
            verdict: NotRecognized,
            highest: Some(AssociateSenior),
            conditions: &[(EXCEEDS, NO)],
            absent: &[ACCOUNTING],
            ..BASE
        },
        Scenario {
            name: "Huawei HCIE-Datacom typed with the brand",
            claims: &["华为 HCIE-Datacom"],
            verdict: RecognizedWithConditions,
            highest: Some(Intermediate),
            ..BASE
        },
        Scenario {
            name: "bare CPA is ambiguous",
            claims: &["CPA"],
            verdict: NeedsConfirmation,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "精算师 is ambiguous",
            claims: &["精算师"],
            verdict: NeedsConfirmation,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "ACM Member is not a listed grade but close: confirm",
            claims: &["ACM Member"],
            verdict: NeedsConfirmation,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "misspelt IEEE Fellow: confirm",
            claims: &["IEEE Felow"],
            verdict: NeedsConfirmation,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "PMP is not on the list",
            claims: &["PMP"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "a US CPA is not on the list",
            claims: &["US CPA"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "LEED Green Associate is not on the list",
            claims: &["LEED Green Associate"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "HCIP is not on the list",
            claims: &["HCIP-Datacom"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "CFA Level II candidate is not a charterholder",
            claims: &["CFA Level II"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "CELTA is not DELTA",
            claims: &["CELTA"],
            verdict: NotRecognized,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "CICE is mutually recognised with CIBEP: confirm",
            claims: &["CICE"],
            verdict: NeedsConfirmation,
            highest: None,
            ..BASE
        },
        Scenario {
            name: "highest of several claims wins",
            claims: &["CFA", "FCCA"],
            verdict: RecognizedWithConditions,
            highest: Some(AssociateSenior),
            ..BASE
        },
        Scenario {
            name: "a resolved claim beside an unknown one",
            claims: &["CFA", "PMP"],
            basic: CONFIRMED,
            work_field: "金融",
            verdict: Recognized,
            highest: Some(Intermediate),
            ..BASE
        },
        Scenario {
            name: "an ambiguous claim that could reach higher needs confirmation",
            claims: &["CFA", "IEEE"],
            verdict: NeedsConfirmation,
            highest: Some(Intermediate),
            ..BASE
        },
        Scenario {
            name: "an ambiguous claim that cannot change the outcome does not block",
            claims: &["FCCA", "精算师"],
            verdict: RecognizedWithConditions,
            highest: Some(AssociateSenior),
            ..BASE
        },
    ]
}

#[test]
fn applicant_scenarios() {
    let catalog = catalog();
    let scenarios = scenarios();
    assert!(scenarios.len() >= 30);
    let mut failures = Vec::new();
    for s in &scenarios {
        let claims: Vec<Claim> = s
            .claims
            .iter()
            .map(|c| Claim::Text(QueryText::parse(c).unwrap()))
            .collect();
        let applicant = Applicant {
            work_field: Some(s.work_field.to_owned()).filter(|w| !w.is_empty()),
            target: s.target,
            basic_conditions: s.basic,
            domestic_qualifications: s.domestic.to_vec(),
            intends_cpa_practice_in_beijing: s.cpa_practice,
        };
        let result = evaluate(&catalog, &claims, &applicant).unwrap();
        let mut problems = Vec::new();
        if result.verdict != s.verdict {
            problems.push(format!(
                "verdict {:?}, expected {:?}",
                result.verdict, s.verdict
            ));
        }
        if result.highest_level != s.highest {
            problems.push(format!(
                "highest {:?}, expected {:?}",
                result.highest_level, s.highest
            ));
        }
        for (code, status) in s.conditions {
            if !result
                .conditions
                .iter()
                .any(|c| c.code == *code && c.status == *status)
            {
                problems.push(format!("missing {code} = {status:?}"));
            }
        }
        for code in s.absent {
            if result.conditions.iter().any(|c| c.code == *code) {
                problems.push(format!("unexpected {code}"));
            }
        }
        for c in &result.conditions {
            let cert = &catalog.certificates()[c.cert];
            let quoted = c.quote.text(cert);
            if quoted.is_empty() || !cert.remark.contains(quoted) {
                problems.push(format!("{} quotes {quoted:?}, not in the remark", c.code));
            }
        }
        if result.explanation_zh.is_empty() || result.explanation_en.is_empty() {
            problems.push("empty explanation".into());
        }
        if !problems.is_empty() {
            failures.push(format!("{}: {}", s.name, problems.join("; ")));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

#[test]
fn claims_resolve_only_on_sure_hits_or_ids() {
    let catalog = catalog();
    let evaluate_one = |claim: Claim| {
        evaluate(&catalog, &[claim], &Applicant::default())
            .unwrap()
            .claims
            .remove(0)
    };
    let by_id = evaluate_one(Claim::CertificateId("fcca".into()));
    assert_eq!(by_id.resolution, Resolution::Resolved);
    let cpa = evaluate_one(Claim::Text(QueryText::parse("CPA").unwrap()));
    assert_eq!(cpa.resolution, Resolution::Ambiguous);
    let ids: Vec<&str> = cpa
        .candidates
        .iter()
        .map(|c| catalog.certificates()[c.cert].id.as_str())
        .collect();
    assert!(ids.contains(&"cpa-australia"), "{ids:?}");
    let pmp = evaluate_one(Claim::Text(QueryText::parse("PMP").unwrap()));
    assert_eq!(pmp.resolution, Resolution::Unresolved);
    assert!(pmp.candidates.is_empty());
}

#[test]
fn unknown_certificate_id_is_an_error() {
    let catalog = catalog();
    let result = evaluate(
        &catalog,
        &[Claim::CertificateId("nope".into())],
        &Applicant::default(),
    );
    assert!(result.is_err());
}

#[test]
fn notes_cite_exemptions_and_mutual_recognition() {
    let catalog = catalog();
    let acca = evaluate(
        &catalog,
        &[Claim::Text(QueryText::parse("ACCA").unwrap())],
        &Applicant::default(),
    )
    .unwrap();
    assert!(
        acca.notes
            .iter()
            .any(|n| n.code == "CICPA_EXAM_EXEMPTION" && n.text_zh.contains("9门"))
    );
    let cpa = evaluate(
        &catalog,
        &[Claim::Text(QueryText::parse("CPA Australia").unwrap())],
        &Applicant::default(),
    )
    .unwrap();
    assert!(
        cpa.notes
            .iter()
            .any(|n| n.code == "CICPA_EXAM_EXEMPTION" && n.text_zh.contains("8门"))
    );
    let cice = evaluate(
        &catalog,
        &[Claim::Text(QueryText::parse("CICS").unwrap())],
        &Applicant::default(),
    )
    .unwrap();
    assert!(
        cice.notes
            .iter()
            .any(|n| n.code == "MUTUAL_RECOGNITION" && n.text_zh.contains("互认"))
    );
    assert_ne!(cice.verdict, Verdict::Recognized);
}

#[test]
fn explanation_names_the_certificate_level_and_conditions() {
    let catalog = catalog();
    let result = evaluate(
        &catalog,
        &[Claim::Text(QueryText::parse("FCCA").unwrap())],
        &Applicant {
            target: Some(Senior),
            ..Applicant::default()
        },
    )
    .unwrap();
    assert!(
        result.explanation_zh.contains("ACCA资深会员证书（Fcca）"),
        "{}",
        result.explanation_zh
    );
    assert!(result.explanation_zh.contains("副高级"));
    assert!(result.explanation_zh.contains("高级会计专业技术资格"));
    assert!(
        result.explanation_en.contains("associate senior"),
        "{}",
        result.explanation_en
    );
}

/// Each entry whose remark asks for a domestic accounting qualification to apply higher, with
/// the qualifications an applicant holds: (entry, held, status of the condition, whether the
/// explanation says a higher qualification was counted). A higher qualification of the series
/// meets a requirement of a lower one (高级 presupposes 中级); a lower one never meets a higher.
#[test]
fn each_accounting_entry_counts_a_higher_domestic_qualification() {
    let catalog = catalog();
    let rows: &[(&str, &[DomesticQualification], ConditionStatus, bool)] = &[
        ("fcca", &[SeniorAccounting], YES, false),
        ("fcca", &[IntermediateAccounting], NO, false),
        ("fcca", &[], NO, false),
        ("acca", &[IntermediateAccounting], YES, false),
        ("acca", &[SeniorAccounting], YES, true),
        (
            "acca",
            &[SeniorAccounting, IntermediateAccounting],
            YES,
            false,
        ),
        ("acca", &[CicpaExam], NO, false),
        ("cpa-australia", &[IntermediateAccounting], YES, false),
        ("cpa-australia", &[SeniorAccounting], YES, true),
        ("cpa-australia", &[], NO, false),
    ];
    let with_rule: Vec<&str> = catalog
        .certificates()
        .iter()
        .filter(|c| {
            c.rules.iter().any(|r| {
                matches!(
                    r,
                    certequiv_domain::rules::Rule::DomesticAccountingForHigherTitle { .. }
                )
            })
        })
        .map(|c| c.id.as_str())
        .collect();
    for id in &with_rule {
        assert!(rows.iter().any(|(r, ..)| r == id), "no row for {id}");
    }
    for &(id, held, status, higher) in rows {
        let cert = catalog.certificates().iter().find(|c| c.id == id).unwrap();
        let applicant = Applicant {
            work_field: Some("会计".into()),
            target: Some(if cert.title_level == Intermediate {
                AssociateSenior
            } else {
                Senior
            }),
            basic_conditions: CONFIRMED,
            domestic_qualifications: held.to_vec(),
            intends_cpa_practice_in_beijing: false,
        };
        let result = evaluate(&catalog, &[Claim::CertificateId(id.into())], &applicant).unwrap();
        let condition = result
            .conditions
            .iter()
            .find(|c| c.code == ACCOUNTING)
            .unwrap_or_else(|| panic!("{id}: no {ACCOUNTING}"));
        assert_eq!(condition.status, status, "{id} holding {held:?}");
        assert_eq!(
            condition.description_zh.contains("高于所要求的"),
            higher,
            "{id} holding {held:?}: {}",
            condition.description_zh
        );
        assert_eq!(
            condition.description_en.contains("is above"),
            higher,
            "{id}"
        );
        let quoted = condition.quote.text(cert);
        assert!(
            cert.remark.contains(quoted) && quoted.contains("会计专业技术资格"),
            "{id}"
        );
    }
}
