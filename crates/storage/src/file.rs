//! The catalog file format (TOML) and its translation into domain parts.
//!
//! Parsing reports syntax errors with their line, and domain violations with the line of the
//! table they concern, so an operator can fix a file from the message alone.

use certequiv_domain::rules::{DomesticQualification, Rule};
use certequiv_domain::{
    CatalogMeta, CatalogParts, Certificate, Issuer, NotListed, Section, TitleLevel, Violation,
};
use jiff::civil::Date;
use serde::Deserialize;
use sha2::{Digest, Sha256};

use crate::FileError;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCatalog {
    catalog: FileMeta,
    sections: Vec<FileSection>,
    #[serde(default)]
    certificates: Vec<FileCertificate>,
    #[serde(default)]
    not_listed: Vec<FileNotListed>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileMeta {
    id: String,
    title: String,
    jurisdiction: String,
    #[serde(default)]
    source: String,
    #[serde(default)]
    effective_from: Option<String>,
    #[serde(default)]
    effective_until: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSection {
    number: u32,
    #[serde(default)]
    ordinal: String,
    title: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileCertificate {
    id: String,
    section: u32,
    item: u32,
    name_zh: String,
    #[serde(default)]
    name_en: String,
    #[serde(default)]
    abbreviations: Vec<String>,
    #[serde(default)]
    aliases: Vec<String>,
    #[serde(default)]
    country_or_region: String,
    #[serde(default)]
    fields: Vec<String>,
    work_scope: String,
    title_level: String,
    remark: String,
    #[serde(default)]
    issuers: Vec<FileIssuer>,
    #[serde(default)]
    rules: Vec<FileRule>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIssuer {
    #[serde(default)]
    name_zh: String,
    #[serde(default)]
    name_en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileRule {
    code: String,
    quote: String,
    #[serde(default)]
    requires: Vec<String>,
    #[serde(default)]
    names: Vec<String>,
    #[serde(default)]
    note_en: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileNotListed {
    names: Vec<String>,
    #[serde(default)]
    note_zh: String,
    #[serde(default)]
    note_en: String,
}

/// Content hash of catalog bytes: the etag clients see.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses one catalog file. `origin` names it in errors (a file name or "embedded").
pub fn parse(origin: &str, text: &str) -> Result<CatalogParts, Vec<FileError>> {
    let file: FileCatalog = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| line_of_offset(text, span.start));
        vec![FileError {
            origin: origin.to_owned(),
            line,
            field: String::new(),
            message: e.message().to_owned(),
        }]
    })?;
    let mut violations = Vec::new();
    let parts = into_parts(file, text, &mut violations);
    if violations.is_empty() {
        Ok(parts)
    } else {
        Err(violations
            .into_iter()
            .map(|v| locate(origin, text, v))
            .collect())
    }
}

fn into_parts(file: FileCatalog, text: &str, violations: &mut Vec<Violation>) -> CatalogParts {
    let mut date = |field: &str, value: Option<String>| -> Option<Date> {
        let value = value?;
        match value.parse::<Date>() {
            Ok(d) if value.len() == 10 => Some(d),
            _ => {
                violations.push(Violation {
                    path: format!("catalog.{field}"),
                    message: format!("{value:?} is not a calendar date YYYY-MM-DD"),
                });
                None
            }
        }
    };
    let meta = CatalogMeta {
        effective_from: date("effective_from", file.catalog.effective_from),
        effective_until: date("effective_until", file.catalog.effective_until),
        id: file.catalog.id,
        title: file.catalog.title,
        jurisdiction: file.catalog.jurisdiction,
        source: file.catalog.source,
    };
    let sections = file
        .sections
        .into_iter()
        .map(|s| Section {
            number: s.number,
            ordinal: s.ordinal,
            title: s.title,
        })
        .collect();
    let certificates = file
        .certificates
        .into_iter()
        .enumerate()
        .map(|(i, c)| certificate(i, c, violations))
        .collect();
    let not_listed = file
        .not_listed
        .into_iter()
        .map(|n| NotListed {
            names: n.names,
            note_zh: n.note_zh,
            note_en: n.note_en,
        })
        .collect();
    CatalogParts {
        meta,
        sections,
        certificates,
        not_listed,
        etag: etag_of(text.as_bytes()),
    }
}

fn certificate(i: usize, c: FileCertificate, violations: &mut Vec<Violation>) -> Certificate {
    let title_level = TitleLevel::from_label_zh(&c.title_level).unwrap_or_else(|| {
        violations.push(Violation {
            path: format!("certificates[{i}].title_level"),
            message: format!(
                "unknown title level {:?}; expected one of 员级, 助理级, 中级, 副高级, 正高级",
                c.title_level
            ),
        });
        TitleLevel::Elementary
    });
    let rules = c
        .rules
        .into_iter()
        .enumerate()
        .filter_map(|(j, r)| {
            rule(r)
                .map_err(|message| {
                    violations.push(Violation {
                        path: format!("certificates[{i}].rules[{j}]"),
                        message,
                    })
                })
                .ok()
        })
        .collect();
    Certificate {
        id: c.id,
        section: c.section,
        item: c.item,
        name_zh: c.name_zh,
        name_en: c.name_en,
        abbreviations: c.abbreviations,
        aliases: c.aliases,
        issuers: c
            .issuers
            .into_iter()
            .map(|i| Issuer {
                name_zh: i.name_zh,
                name_en: i.name_en,
            })
            .collect(),
        country_or_region: c.country_or_region,
        fields: c.fields,
        work_scope: c.work_scope,
        title_level,
        remark: c.remark,
        rules,
    }
}

fn rule(r: FileRule) -> Result<Rule, String> {
    match r.code.as_str() {
        "DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE" => {
            let requires = r
                .requires
                .iter()
                .map(|label| {
                    DomesticQualification::from_label_zh(label)
                        .ok_or_else(|| format!("unknown domestic qualification {label:?}"))
                })
                .collect::<Result<Vec<_>, _>>()?;
            if requires.is_empty() {
                return Err("`requires` must name at least one domestic qualification".into());
            }
            Ok(Rule::DomesticAccountingForHigherTitle {
                requires,
                quote: r.quote,
            })
        }
        "CICPA_FOR_BEIJING_PRACTICE" => Ok(Rule::CicpaForBeijingPractice { quote: r.quote }),
        "MUTUAL_RECOGNITION" => {
            if r.names.is_empty() {
                return Err("`names` must list the mutually recognised certifications".into());
            }
            if let Some(name) = r.names.iter().find(|n| !r.quote.contains(n.as_str())) {
                return Err(format!("name {name:?} does not appear in the quote"));
            }
            Ok(Rule::MutualRecognition {
                names: r.names,
                quote: r.quote,
                note_en: r.note_en,
            })
        }
        code if !code.is_empty()
            && code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b == b'_' || b.is_ascii_digit()) =>
        {
            Ok(Rule::Note {
                code: r.code,
                quote: r.quote,
                note_en: r.note_en,
            })
        }
        code => Err(format!("rule code {code:?} must be UPPER_SNAKE_CASE")),
    }
}

/// Adds the line of the table a violation concerns.
pub(crate) fn locate(origin: &str, text: &str, v: Violation) -> FileError {
    let line = table_line(text, &v.path);
    FileError {
        origin: origin.to_owned(),
        line,
        field: v.path,
        message: v.message,
    }
}

fn table_line(text: &str, path: &str) -> Option<usize> {
    let (header, nth) = if let Some(rest) = path.strip_prefix("certificates[") {
        (
            "[[certificates]]",
            rest.split(']').next()?.parse::<usize>().ok()?,
        )
    } else if let Some(rest) = path.strip_prefix("sections[") {
        (
            "[[sections]]",
            rest.split(']').next()?.parse::<usize>().ok()?,
        )
    } else if let Some(rest) = path.strip_prefix("not_listed[") {
        (
            "[[not_listed]]",
            rest.split(']').next()?.parse::<usize>().ok()?,
        )
    } else if path.starts_with("catalog") {
        ("[catalog]", 0)
    } else {
        return None;
    };
    text.lines()
        .enumerate()
        .filter(|(_, line)| line.trim() == header)
        .nth(nth)
        .map(|(n, _)| n + 1)
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[catalog]
id = "t"
title = "T"
jurisdiction = "北京市"

[[sections]]
number = 1
title = "一"

[[certificates]]
id = "a"
section = 1
item = 1
name_zh = "甲"
work_scope = "从事甲。"
title_level = "中级"
remark = "从事甲。"

[[certificates.issuers]]
name_zh = "甲会"
"#;

    #[test]
    fn minimal_file_parses() {
        let parts = parse("t.toml", MINIMAL).unwrap();
        assert_eq!(parts.certificates.len(), 1);
        assert_eq!(parts.certificates[0].title_level, TitleLevel::Intermediate);
        assert_eq!(parts.etag, etag_of(MINIMAL.as_bytes()));
    }

    #[test]
    fn syntax_error_names_file_and_line() {
        let broken = MINIMAL.replace("title = \"一\"", "title = ");
        let errors = parse("t.toml", &broken).unwrap_err();
        assert_eq!(errors[0].origin, "t.toml");
        assert_eq!(errors[0].line, Some(9));
    }

    #[test]
    fn unknown_title_level_names_the_field_and_its_table_line() {
        let broken = MINIMAL.replace("\"中级\"", "\"高级\"");
        let errors = parse("t.toml", &broken).unwrap_err();
        assert_eq!(errors[0].field, "certificates[0].title_level");
        assert_eq!(errors[0].line, Some(11));
        assert!(errors[0].message.contains("高级"));
    }

    #[test]
    fn unknown_keys_are_refused() {
        let broken = MINIMAL.replace("item = 1", "item = 1\nitme = 2");
        assert!(parse("t.toml", &broken).is_err());
    }

    #[test]
    fn malformed_dates_are_refused() {
        let broken = MINIMAL.replace(
            "jurisdiction = \"北京市\"",
            "jurisdiction = \"北京市\"\neffective_from = \"2025-13-01\"",
        );
        let errors = parse("t.toml", &broken).unwrap_err();
        assert_eq!(errors[0].field, "catalog.effective_from");
    }

    #[test]
    fn etag_changes_with_content() {
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a").len(), 24);
    }
}
