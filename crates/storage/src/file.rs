//! TOML catalog files (`NAME.toml`), the format people write and review: read whole with the
//! `toml` crate, then translated into domain parts as every catalog file is (`translate`).
//!
//! Syntax errors carry their line, and domain violations the line of the table they concern,
//! so an operator can fix a file from the message alone.

use certequiv_domain::CatalogParts;

use crate::FileError;
use crate::schema::FileCatalog;
use crate::translate::{Certificates, Header, TableLines, into_parts, locate};

pub use crate::schema::{catalog_schema, schema_text};
pub use crate::translate::etag_of;

/// Parses one TOML catalog file. `origin` names it in errors (a file name or "embedded").
pub fn parse(origin: &str, text: &str) -> Result<CatalogParts, Vec<FileError>> {
    let file: FileCatalog<'_> = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|span| line_of_offset(text, span.start));
        vec![FileError {
            origin: origin.to_owned(),
            line,
            field: String::new(),
            message: e.message().to_owned(),
        }]
    })?;
    let mut certificates = Certificates::with_capacity(file.certificates.len());
    for table in file.certificates {
        certificates.push(table);
    }
    let header = Header {
        catalog: file.catalog,
        sections: file.sections,
        not_listed: file.not_listed,
    };
    into_parts(header, certificates, text).map_err(|violations| {
        let lines = table_lines(text);
        violations
            .into_iter()
            .map(|v| locate(origin, &lines, v))
            .collect()
    })
}

/// The lines of a TOML file's table headers; a header line is one whose trimmed text is the
/// header.
pub(crate) fn table_lines(text: &str) -> TableLines {
    let mut lines = TableLines::default();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim_start();
        if !line.starts_with('[') {
            continue;
        }
        let list = match line.trim_end() {
            "[catalog]" => &mut lines.catalog,
            "[[sections]]" => &mut lines.sections,
            "[[certificates]]" => &mut lines.certificates,
            "[[not_listed]]" => &mut lines.not_listed,
            _ => continue,
        };
        list.push(n + 1);
    }
    lines
}

fn line_of_offset(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use certequiv_domain::TitleLevel;

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
    fn strings_with_escapes_and_wrong_types_read_as_before() {
        let escaped = MINIMAL.replace("从事甲。\"\ntitle_level", "从事\\u7532。\"\ntitle_level");
        let parts = parse("t.toml", &escaped).unwrap();
        assert_eq!(&*parts.certificates[0].work_scope, "从事甲。");
        let errors = parse(
            "t.toml",
            &MINIMAL.replace("remark = \"从事甲。\"", "remark = 5"),
        )
        .unwrap_err();
        assert_eq!(
            errors[0].message,
            "invalid type: integer `5`, expected a string"
        );
        assert_eq!(errors[0].line, Some(18));
        let errors = parse(
            "t.toml",
            &MINIMAL.replace("name_zh = \"甲会\"", "name_zh = [\"甲会\"]"),
        )
        .unwrap_err();
        assert_eq!(
            errors[0].message,
            "invalid type: sequence, expected a string"
        );
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
}
