//! The translation of a catalog file's tables into domain parts, one for both file formats
//! (TOML and JSON Lines), and the file lines that locate what translation and validation find
//! wrong, so an operator can fix a file from the message alone.

use std::collections::HashSet;
use std::sync::Arc;

use certequiv_domain::rules::{DomesticQualification, Rule};
use certequiv_domain::{
    CatalogMeta, CatalogParts, Certificate, EntryRef, Issuer, NotListed, Section, TitleLevel,
    Violation,
};
use jiff::civil::Date;
use sha2::{Digest, Sha256};

use crate::FileError;
use crate::schema::{FileCertificate, FileMeta, FileNotListed, FileRule, FileSection, Text};

/// Content hash of catalog bytes: the etag clients see.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// One shared copy of each distinct text: a large catalog repeats its remarks, work scopes,
/// issuers, countries and fields over many entries.
#[derive(Debug, Default)]
struct Texts(HashSet<Arc<str>>);

impl Texts {
    fn share(&mut self, text: &Text<'_>) -> Arc<str> {
        if let Some(shared) = self.0.get(text.as_str()) {
            return Arc::clone(shared);
        }
        let shared: Arc<str> = text.as_str().into();
        self.0.insert(Arc::clone(&shared));
        shared
    }
}

/// A file's certificates converted to domain values as the reader hands them over, so that
/// only the converted values outlive a certificate's table; and what converting them found
/// wrong, in file order.
#[derive(Debug, Default)]
pub(crate) struct Certificates {
    converted: Vec<Certificate>,
    violations: Vec<Violation>,
    texts: Texts,
}

impl Certificates {
    pub(crate) fn with_capacity(capacity: usize) -> Certificates {
        Certificates {
            converted: Vec::with_capacity(capacity),
            ..Certificates::default()
        }
    }

    /// Converts the file's next certificate (its number in violation paths is its position).
    pub(crate) fn push(&mut self, table: FileCertificate<'_>) {
        let i = self.converted.len();
        let converted = certificate(i, table, &mut self.texts, &mut self.violations);
        self.converted.push(converted);
    }
}

/// The tables of a catalog file other than its certificates.
#[derive(Debug)]
pub(crate) struct Header {
    pub(crate) catalog: FileMeta,
    pub(crate) sections: Vec<FileSection>,
    pub(crate) not_listed: Vec<FileNotListed>,
}

/// The parts of a catalog file whose text is `text`, or every violation translating it found:
/// the catalog's dates first, then the certificates'.
pub(crate) fn into_parts(
    header: Header,
    certificates: Certificates,
    text: &str,
) -> Result<CatalogParts, Vec<Violation>> {
    let Header {
        catalog,
        sections,
        not_listed,
    } = header;
    let mut violations = Vec::new();
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
        effective_from: date("effective_from", catalog.effective_from),
        effective_until: date("effective_until", catalog.effective_until),
        id: catalog.id,
        title: catalog.title,
        jurisdiction: catalog.jurisdiction,
        source: catalog.source,
    };
    violations.extend(certificates.violations);
    if !violations.is_empty() {
        return Err(violations);
    }
    let sections = sections
        .into_iter()
        .map(|s| Section {
            number: s.number,
            ordinal: s.ordinal,
            title: s.title,
        })
        .collect();
    let not_listed = not_listed
        .into_iter()
        .map(|n| NotListed {
            names: n.names,
            note_zh: n.note_zh,
            note_en: n.note_en,
        })
        .collect();
    Ok(CatalogParts {
        meta,
        sections,
        certificates: certificates.converted,
        not_listed,
        etag: etag_of(text.as_bytes()),
    })
}

fn certificate(
    i: usize,
    c: FileCertificate<'_>,
    texts: &mut Texts,
    violations: &mut Vec<Violation>,
) -> Certificate {
    let title_level = TitleLevel::from_label_zh(c.title_level.as_str()).unwrap_or_else(|| {
        violations.push(Violation {
            path: format!("certificates[{i}].title_level"),
            message: format!(
                "unknown title level {:?}; expected one of 员级, 助理级, 中级, 副高级, 正高级",
                c.title_level.as_str()
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
    let supersedes = c.supersedes.and_then(|text| {
        EntryRef::parse(text.as_str())
            .map_err(|message| {
                violations.push(Violation {
                    path: format!("certificates[{i}].supersedes"),
                    message,
                })
            })
            .ok()
            .map(Box::new)
    });
    Certificate {
        id: c.id.into_string(),
        section: c.section,
        item: c.item,
        name_zh: c.name_zh.into_string(),
        name_en: c.name_en.into_string(),
        abbreviations: c.abbreviations.into_iter().map(Text::into_string).collect(),
        aliases: c.aliases.into_iter().map(Text::into_string).collect(),
        issuers: c
            .issuers
            .iter()
            .map(|i| Issuer {
                name_zh: texts.share(&i.name_zh),
                name_en: texts.share(&i.name_en),
            })
            .collect(),
        country_or_region: texts.share(&c.country_or_region),
        fields: c.fields.iter().map(|f| texts.share(f)).collect(),
        work_scope: texts.share(&c.work_scope),
        title_level,
        remark: texts.share(&c.remark),
        rules,
        supersedes,
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

/// The file lines of a catalog's tables, so that violations found after its text is gone
/// (`Catalog::new` runs once the text is freed, see `store::load_file`) still name the line of
/// the table they concern. Each format fills it its own way.
#[derive(Debug, Default)]
pub(crate) struct TableLines {
    pub(crate) catalog: Vec<usize>,
    pub(crate) sections: Vec<usize>,
    pub(crate) certificates: Vec<usize>,
    pub(crate) not_listed: Vec<usize>,
}

impl TableLines {
    /// The line of the table `path` (e.g. `certificates[3].aliases`) is in.
    fn of_path(&self, path: &str) -> Option<usize> {
        let nth = |rest: &str| rest.split(']').next()?.parse::<usize>().ok();
        let (lines, nth) = if let Some(rest) = path.strip_prefix("certificates[") {
            (&self.certificates, nth(rest)?)
        } else if let Some(rest) = path.strip_prefix("sections[") {
            (&self.sections, nth(rest)?)
        } else if let Some(rest) = path.strip_prefix("not_listed[") {
            (&self.not_listed, nth(rest)?)
        } else if path.starts_with("catalog") {
            (&self.catalog, 0)
        } else {
            return None;
        };
        lines.get(nth).copied()
    }
}

/// Adds the line of the table a violation concerns.
pub(crate) fn locate(origin: &str, lines: &TableLines, v: Violation) -> FileError {
    FileError {
        origin: origin.to_owned(),
        line: lines.of_path(&v.path),
        field: v.path,
        message: v.message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn etag_changes_with_content() {
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a").len(), 24);
    }

    #[test]
    fn a_violation_is_located_at_the_line_of_its_table() {
        let lines = TableLines {
            catalog: vec![2],
            sections: vec![8, 12],
            certificates: vec![20, 40],
            not_listed: vec![60],
        };
        let cases = [
            ("catalog.effective_from", Some(2)),
            ("sections[1].title", Some(12)),
            ("certificates[0]", Some(20)),
            ("certificates[1].rules[0]", Some(40)),
            ("certificates[2].id", None),
            ("not_listed[0].names", Some(60)),
            ("certificates[x]", None),
            ("", None),
        ];
        for (path, line) in cases {
            let violation = Violation {
                path: path.to_owned(),
                message: "m".to_owned(),
            };
            assert_eq!(locate("f", &lines, violation).line, line, "{path}");
        }
    }
}
