//! Expected-verdict cases files: `NAME.cases.toml` beside the catalog file `NAME.toml` (or
//! `NAME.jsonl`) lists applicant scenarios and the answer the policy gives. A catalog whose
//! cases fail is not loaded (docs/catalog-format.md, "Expected-verdict cases").
//!
//! The cases live in a file of their own, not in the catalog file: the catalog stays the
//! transcription of the published list (its etag changes only when the list does), and the
//! cases are the policy office's reading of it, reviewed on their own.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use certequiv_domain::cases::{
    self, BASIC_CONDITION_NAMES, Case, Expectation, NO_LEVEL, STATUS_NAMES, VERDICT_NAMES,
};
use certequiv_domain::equivalence::{Applicant, Claim};
use certequiv_domain::rules::DomesticQualification;
use certequiv_domain::{Catalog, QueryText, TitleLevel};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use crate::{FileError, Format};

/// The end of a cases file's name; the rest is the name of its catalog file.
pub const CASES_SUFFIX: &str = ".cases.toml";

/// Expected-verdict cases for one catalog: the catalog file beside it with the same name
/// without `.cases`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "certequiv expected-verdict cases")]
struct FileCases {
    /// The `[catalog] id` of the catalog these cases are for.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,62}$"))]
    catalog: String,
    /// The cases, each an applicant scenario and the answer the policy gives.
    #[serde(default)]
    cases: Vec<FileCase>,
}

/// One applicant scenario and the answer the policy gives.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Case")]
struct FileCase {
    /// What the case is about, in words a policy officer recognises.
    #[schemars(length(min = 1))]
    name: String,
    /// The certificates the applicant claims, each `{ id = "entry-id" }` or
    /// `{ text = "as the applicant wrote it" }`.
    #[schemars(length(min = 1))]
    claims: Vec<FileClaim>,
    /// What HR knows about the applicant; every key is optional.
    #[serde(default)]
    applicant: FileApplicant,
    /// The answer the policy gives; only what is listed is checked.
    expect: FileExpect,
}

/// A claim: exactly one of `id` and `text`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Claim")]
struct FileClaim {
    /// A catalog entry id.
    #[serde(default)]
    #[schemars(with = "String")]
    id: Option<String>,
    /// The certificate as an applicant wrote it, resolved by search like an API claim.
    #[serde(default)]
    #[schemars(with = "String")]
    text: Option<String>,
}

/// What HR knows about the applicant (`certequiv.v1.ApplicantContext`).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Applicant")]
struct FileApplicant {
    /// The level applied for.
    #[serde(default)]
    #[schemars(schema_with = "level_labels")]
    target_title_level: Option<String>,
    /// Whether HR confirmed the series' education and years requirements.
    #[serde(default)]
    #[schemars(schema_with = "basic_condition_names")]
    basic_conditions: Option<String>,
    /// The applicant's field of work, e.g. 会计.
    #[serde(default)]
    #[schemars(with = "String")]
    work_field: Option<String>,
    /// Domestic qualifications the applicant holds.
    #[serde(default)]
    #[schemars(schema_with = "qualification_labels")]
    domestic_qualifications: Vec<String>,
    /// Whether the applicant intends to practise as a CPA in Beijing.
    #[serde(default)]
    intends_cpa_practice_in_beijing: bool,
}

/// The answer the policy gives. Only what is listed is checked.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Expect")]
struct FileExpect {
    /// The verdict.
    #[schemars(schema_with = "verdict_names")]
    verdict: String,
    /// The highest level the claims support, or "none".
    #[serde(default)]
    #[schemars(schema_with = "level_or_none")]
    highest_title_level: Option<String>,
    /// The entry ids the claims resolve to, in claim order, without repeats.
    #[serde(default)]
    #[schemars(with = "Vec<String>")]
    resolved: Option<Vec<String>>,
    /// Condition code = the status every condition of that code has, or ABSENT for none.
    #[serde(default)]
    #[schemars(schema_with = "condition_map")]
    conditions: BTreeMap<String, String>,
    /// Codes of notes the answer must carry, e.g. CICPA_EXAM_EXEMPTION, MUTUAL_RECOGNITION.
    #[serde(default)]
    notes: Vec<String>,
}

fn names<T>(table: &[(&'static str, T)]) -> Vec<&'static str> {
    table.iter().map(|(name, _)| *name).collect()
}

fn verdict_names(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": names(&VERDICT_NAMES) })
}

fn basic_condition_names(_: &mut SchemaGenerator) -> Schema {
    json_schema!({ "type": "string", "enum": names(&BASIC_CONDITION_NAMES) })
}

fn level_labels(_: &mut SchemaGenerator) -> Schema {
    let labels: Vec<&str> = TitleLevel::ALL.iter().map(|l| l.label_zh()).collect();
    json_schema!({ "type": "string", "enum": labels })
}

fn level_or_none(_: &mut SchemaGenerator) -> Schema {
    let mut labels: Vec<&str> = TitleLevel::ALL.iter().map(|l| l.label_zh()).collect();
    labels.push(NO_LEVEL);
    json_schema!({ "type": "string", "enum": labels })
}

fn qualification_labels(_: &mut SchemaGenerator) -> Schema {
    let labels: Vec<&str> = DomesticQualification::ALL
        .iter()
        .map(|q| q.label_zh())
        .collect();
    json_schema!({ "type": "array", "items": { "type": "string", "enum": labels } })
}

fn condition_map(_: &mut SchemaGenerator) -> Schema {
    let mut statuses = names(&STATUS_NAMES);
    statuses.push("ABSENT");
    json_schema!({
        "type": "object",
        "propertyNames": { "pattern": "^[A-Z0-9_]+$" },
        "additionalProperties": { "type": "string", "enum": statuses }
    })
}

/// The JSON Schema of a cases file, generated from the types the loader reads it with.
pub fn cases_schema() -> String {
    crate::file::schema_text::<FileCases>()
}

/// A parsed cases file.
#[derive(Debug, Clone)]
pub struct CaseFile {
    /// The file name, or "embedded".
    pub origin: String,
    /// The id of the catalog the cases are for.
    pub catalog_id: String,
    pub cases: Vec<Case>,
    /// The line of each case's `[[cases]]` header.
    lines: Vec<Option<usize>>,
}

impl CaseFile {
    /// Runs every case against `catalog`: one error per failing case, naming what was
    /// expected and what the engine answered.
    pub fn check(&self, catalog: &Catalog) -> Vec<FileError> {
        if self.catalog_id != catalog.id() {
            return vec![FileError::field(
                &self.origin,
                "catalog",
                format!(
                    "the cases are for catalog {:?}, the catalog file beside them holds {:?}",
                    self.catalog_id,
                    catalog.id()
                ),
            )];
        }
        let mut errors = Vec::new();
        for (i, case) in self.cases.iter().enumerate() {
            let outcome = cases::check(catalog, case);
            if outcome.passed() {
                continue;
            }
            let found: Vec<String> = outcome.mismatches.iter().map(|m| m.to_string()).collect();
            errors.push(FileError {
                origin: self.origin.clone(),
                line: self.line(i),
                field: format!("cases[{i}]"),
                message: format!("case {:?} fails: {}", case.name, found.join("; ")),
            });
        }
        errors
    }

    /// The line of case `i`'s table in its file.
    pub fn line(&self, i: usize) -> Option<usize> {
        self.lines.get(i).copied().flatten()
    }
}

/// The cases file of a catalog file: `NAME.cases.toml` for `NAME.toml` or `NAME.jsonl`.
pub fn cases_path(catalog: &Path) -> PathBuf {
    let stem = catalog
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    catalog.with_file_name(format!("{stem}{CASES_SUFFIX}"))
}

/// The catalog files a cases file may be for, one per format (`NAME.toml`, `NAME.jsonl`), or
/// `None` when `path` is not a cases file.
pub fn catalog_paths_of(path: &Path) -> Option<Vec<PathBuf>> {
    let name = path.file_name()?.to_str()?;
    let stem = name.strip_suffix(CASES_SUFFIX)?;
    let paths = Format::ALL
        .iter()
        .map(|format| path.with_file_name(format!("{stem}.{}", format.extension())))
        .collect();
    Some(paths)
}

/// Whether `path` names a cases file.
pub fn is_cases_file(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with(CASES_SUFFIX))
}

/// Parses a cases file. `origin` names it in errors.
pub fn parse_cases(origin: &str, text: &str) -> Result<CaseFile, Vec<FileError>> {
    let file: FileCases = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
        vec![FileError {
            origin: origin.to_owned(),
            line,
            field: String::new(),
            message: e.message().to_owned(),
        }]
    })?;
    let header_lines: Vec<usize> = text
        .lines()
        .enumerate()
        .filter(|(_, line)| line.trim() == "[[cases]]")
        .map(|(n, _)| n + 1)
        .collect();
    let lines: Vec<Option<usize>> = (0..file.cases.len())
        .map(|i| header_lines.get(i).copied())
        .collect();
    let mut errors = Vec::new();
    let mut parsed = Vec::with_capacity(file.cases.len());
    for (i, case) in file.cases.into_iter().enumerate() {
        let mut problem = |field: String, message: String| {
            errors.push(FileError {
                origin: origin.to_owned(),
                line: lines[i],
                field: format!("cases[{i}].{field}"),
                message,
            });
        };
        if let Some(case) = convert(case, &mut problem) {
            parsed.push(case);
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(CaseFile {
        origin: origin.to_owned(),
        catalog_id: file.catalog,
        cases: parsed,
        lines,
    })
}

/// A case as the domain checks it; `None` after reporting what is wrong with it.
fn convert(case: FileCase, problem: &mut impl FnMut(String, String)) -> Option<Case> {
    let mut ok = true;
    let mut fail = |field: String, message: String| {
        ok = false;
        problem(field, message);
    };
    if case.name.trim().is_empty() {
        fail("name".into(), "is required".into());
    }
    if case.claims.is_empty() {
        fail("claims".into(), "must hold at least one claim".into());
    }
    let mut claims = Vec::with_capacity(case.claims.len());
    for (j, claim) in case.claims.into_iter().enumerate() {
        match (claim.id, claim.text) {
            (Some(id), None) => claims.push(Claim::CertificateId(id)),
            (None, Some(text)) => match QueryText::parse(&text) {
                Ok(text) => claims.push(Claim::Text(text)),
                Err(e) => fail(format!("claims[{j}].text"), e.to_string()),
            },
            _ => fail(
                format!("claims[{j}]"),
                "must set exactly one of `id` and `text`".into(),
            ),
        }
    }
    let raw = case.applicant;
    let target = raw.target_title_level.as_deref().and_then(|label| {
        let level = TitleLevel::from_label_zh(label);
        if level.is_none() {
            fail(
                "applicant.target_title_level".into(),
                format!("unknown title level {label:?}; expected one of 员级, 助理级, 中级, 副高级, 正高级"),
            );
        }
        level
    });
    let basic_conditions = match raw.basic_conditions.as_deref() {
        None => Default::default(),
        Some(name) => cases::parse_basic_conditions(name).unwrap_or_else(|| {
            fail(
                "applicant.basic_conditions".into(),
                format!(
                    "{name:?} is not one of {}",
                    names(&BASIC_CONDITION_NAMES).join(", ")
                ),
            );
            Default::default()
        }),
    };
    let mut domestic_qualifications = Vec::new();
    for (j, label) in raw.domestic_qualifications.iter().enumerate() {
        match DomesticQualification::from_label_zh(label) {
            Some(q) => domestic_qualifications.push(q),
            None => fail(
                format!("applicant.domestic_qualifications[{j}]"),
                format!("unknown domestic qualification {label:?}"),
            ),
        }
    }
    let applicant = Applicant {
        work_field: raw
            .work_field
            .map(|w| w.trim().to_owned())
            .filter(|w| !w.is_empty()),
        target,
        basic_conditions,
        domestic_qualifications,
        intends_cpa_practice_in_beijing: raw.intends_cpa_practice_in_beijing,
    };
    let expect = case.expect;
    let verdict = cases::parse_verdict(&expect.verdict);
    if verdict.is_none() {
        fail(
            "expect.verdict".into(),
            format!(
                "{:?} is not one of {}",
                expect.verdict,
                names(&VERDICT_NAMES).join(", ")
            ),
        );
    }
    let highest_level = match expect.highest_title_level.as_deref() {
        None => None,
        Some(NO_LEVEL) => Some(None),
        Some(label) => match TitleLevel::from_label_zh(label) {
            Some(level) => Some(Some(level)),
            None => {
                fail(
                    "expect.highest_title_level".into(),
                    format!("unknown title level {label:?}; expected a level or \"{NO_LEVEL}\""),
                );
                None
            }
        },
    };
    let mut conditions = Vec::with_capacity(expect.conditions.len());
    for (code, status) in expect.conditions {
        match cases::parse_expected_condition(&status) {
            Some(expected) => conditions.push((code, expected)),
            None => fail(
                format!("expect.conditions.{code}"),
                format!(
                    "{status:?} is not one of {}, ABSENT",
                    names(&STATUS_NAMES).join(", ")
                ),
            ),
        }
    }
    ok.then_some(Case {
        name: case.name,
        claims,
        applicant,
        expect: Expectation {
            verdict,
            highest_level,
            resolved: expect.resolved,
            conditions,
            notes: expect.notes,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use certequiv_domain::cases::ExpectedCondition;
    use certequiv_domain::equivalence::{BasicConditions, ConditionStatus, Verdict};

    const CATALOG: &str = r#"
[catalog]
id = "t"
title = "T"
jurisdiction = "北京市"

[[sections]]
number = 1
title = "一"

[[certificates]]
id = "acca"
section = 1
item = 1
name_zh = "ACCA会计师证书"
abbreviations = ["ACCA"]
work_scope = "从事会计工作。"
title_level = "中级"
remark = "从事会计工作。对应中级职称需符合相应职称系列（专业）级别的学历、年限等基本标准条件。"

[[certificates.issuers]]
name_zh = "特许公认会计师公会"
"#;

    const CASES: &str = r#"
catalog = "t"

[[cases]]
name = "ACCA, basics confirmed, accountant"
claims = [{ text = "ACCA" }]
applicant = { basic_conditions = "CONFIRMED", work_field = "会计", target_title_level = "中级" }
expect = { verdict = "RECOGNIZED", highest_title_level = "中级", resolved = ["acca"], conditions = { BASIC_SERIES_REQUIREMENTS = "SATISFIED", CICPA_FOR_BEIJING_PRACTICE = "ABSENT" } }

[[cases]]
name = "ACCA by id, nothing known"
claims = [{ id = "acca" }]

[cases.expect]
verdict = "RECOGNIZED_WITH_CONDITIONS"
"#;

    fn catalog() -> Catalog {
        crate::load_text("t.toml", CATALOG).unwrap().catalog
    }

    #[test]
    fn a_cases_file_parses_into_domain_cases() {
        let file = parse_cases("t.cases.toml", CASES).unwrap();
        assert_eq!(file.catalog_id, "t");
        assert_eq!(file.cases.len(), 2);
        let first = &file.cases[0];
        assert_eq!(first.applicant.basic_conditions, BasicConditions::Confirmed);
        assert_eq!(first.applicant.target, Some(TitleLevel::Intermediate));
        assert_eq!(first.expect.verdict, Some(Verdict::Recognized));
        assert_eq!(
            first.expect.conditions,
            [
                (
                    "BASIC_SERIES_REQUIREMENTS".to_owned(),
                    ExpectedCondition::Status(ConditionStatus::Satisfied)
                ),
                (
                    "CICPA_FOR_BEIJING_PRACTICE".to_owned(),
                    ExpectedCondition::Absent
                ),
            ]
        );
        assert_eq!(file.line(0), Some(4));
        assert_eq!(file.line(1), Some(10));
        assert!(file.check(&catalog()).is_empty());
    }

    #[test]
    fn a_failing_case_names_its_line_and_what_differs() {
        let broken = CASES.replace("verdict = \"RECOGNIZED\"", "verdict = \"NOT_RECOGNIZED\"");
        let file = parse_cases("t.cases.toml", &broken).unwrap();
        let errors = file.check(&catalog());
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "t.cases.toml:4: cases[0]: case \"ACCA, basics confirmed, accountant\" fails: \
             verdict: expected NOT_RECOGNIZED, answered RECOGNIZED"
        );
    }

    #[test]
    fn cases_for_another_catalog_are_refused() {
        let file = parse_cases(
            "t.cases.toml",
            &CASES.replace("catalog = \"t\"", "catalog = \"u\""),
        )
        .unwrap();
        let errors = file.check(&catalog());
        assert_eq!(errors[0].field, "catalog");
    }

    #[test]
    fn malformed_cases_are_refused_with_their_field() {
        let table = [
            (
                CASES.replace("{ id = \"acca\" }", "{ id = \"acca\", text = \"ACCA\" }"),
                "cases[1].claims[0]",
            ),
            (
                CASES.replace("\"CONFIRMED\"", "\"YES\""),
                "cases[0].applicant.basic_conditions",
            ),
            (
                CASES.replace(
                    "target_title_level = \"中级\"",
                    "target_title_level = \"高级\"",
                ),
                "cases[0].applicant.target_title_level",
            ),
            (
                CASES.replace("= \"RECOGNIZED_WITH_CONDITIONS\"", "= \"OK\""),
                "cases[1].expect.verdict",
            ),
            (
                CASES.replace(
                    "highest_title_level = \"中级\"",
                    "highest_title_level = \"high\"",
                ),
                "cases[0].expect.highest_title_level",
            ),
            (
                CASES.replace("= \"ABSENT\"", "= \"GONE\""),
                "cases[0].expect.conditions.CICPA_FOR_BEIJING_PRACTICE",
            ),
            (
                CASES.replace("claims = [{ id = \"acca\" }]", "claims = []"),
                "cases[1].claims",
            ),
        ];
        for (text, field) in table {
            let errors = parse_cases("t.cases.toml", &text).unwrap_err();
            assert_eq!(errors[0].field, field, "{errors:?}");
        }
        let errors = parse_cases(
            "t.cases.toml",
            &CASES.replace("name = \"ACCA by id", "nmae = \"ACCA by id"),
        )
        .unwrap_err();
        assert!(errors[0].message.contains("nmae"), "{errors:?}");
        assert_eq!(errors[0].line, Some(11));
    }

    #[test]
    fn cases_files_pair_with_their_catalog_file() {
        let catalog = Path::new("dir/bj.toml");
        assert_eq!(cases_path(catalog), Path::new("dir/bj.cases.toml"));
        assert_eq!(
            cases_path(Path::new("dir/bj.jsonl")),
            Path::new("dir/bj.cases.toml")
        );
        assert_eq!(
            catalog_paths_of(Path::new("dir/bj.cases.toml")),
            Some(vec![
                PathBuf::from("dir/bj.toml"),
                PathBuf::from("dir/bj.jsonl")
            ])
        );
        assert_eq!(catalog_paths_of(catalog), None);
        assert!(is_cases_file(Path::new("bj.cases.toml")));
        assert!(!is_cases_file(catalog));
    }
}
