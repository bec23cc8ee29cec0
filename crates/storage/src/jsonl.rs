//! JSON Lines catalog files (`NAME.jsonl`), for large generated catalogs: serde_json reads
//! them several times faster than `toml` reads the same catalog, in a fraction of the memory.
//! TOML stays the format people write and review (docs/catalog-format.md).
//!
//! The first line is a header object with every table but the certificates,
//! `{"catalog": {…}, "sections": […], "not_listed": […]}`, and each further line one
//! certificate object, with the keys and types of the TOML format. Each line is read into the
//! same serde types as a TOML file and translated by the same code (`translate`), so the two
//! formats cannot drift apart. Lines holding only whitespace are skipped wherever they are;
//! lines end with LF or CRLF. Errors and violations name the file line, as for TOML.

use certequiv_domain::CatalogParts;
use serde::Deserialize;

use crate::FileError;
use crate::schema::{FileCertificate, FileMeta, FileNotListed, FileSection};
use crate::translate::{Certificates, Header, TableLines, into_parts, locate};

/// The first line of a file: the catalog's tables but its certificates.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileHeader {
    catalog: FileMeta,
    sections: Vec<FileSection>,
    #[serde(default)]
    not_listed: Vec<FileNotListed>,
}

/// What the first line must be, for error messages.
const HEADER_SHAPE: &str = r#"the first line must be the header {"catalog": {…}, "sections": […]}"#;

/// Bad lines reported before reading stops: a generator that writes one line wrong usually
/// writes every line wrong, and an operator needs the first few, not 100,000.
pub const MAX_LINE_ERRORS: usize = 20;

/// Whitespace as JSON has it.
const JSON_SPACE: [char; 4] = [' ', '\t', '\r', '\n'];

/// Parses one JSON Lines catalog file. `origin` names it in errors.
pub fn parse(origin: &str, text: &str) -> Result<CatalogParts, Vec<FileError>> {
    parse_located(origin, text).map(|(parts, _)| parts)
}

/// [`parse`], with the lines of the file's tables for locating later violations.
pub(crate) fn parse_located(
    origin: &str,
    text: &str,
) -> Result<(CatalogParts, TableLines), Vec<FileError>> {
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(n, line)| (n + 1, line))
        .filter(|(_, line)| !line.trim_matches(JSON_SPACE).is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Err(vec![FileError::whole(
            origin,
            format!("no lines: {HEADER_SHAPE}"),
        )]);
    };
    let header: FileHeader = read_line(header).map_err(|error| {
        let mut error = line_error(origin, header_line, String::new(), header, &error);
        error.message = format!("{HEADER_SHAPE}: {}", error.message);
        vec![error]
    })?;
    // An upper bound of the certificates, so that their vector is allocated once.
    let capacity = text.bytes().filter(|&b| b == b'\n').count();
    let mut certificates = Certificates::with_capacity(capacity);
    let mut certificate_lines = Vec::with_capacity(capacity);
    let mut errors = Vec::new();
    for (line, json) in lines {
        let i = certificate_lines.len();
        certificate_lines.push(line);
        match read_line::<FileCertificate<'_>>(json) {
            // After a bad line the file is refused: the rest is only read for errors.
            Ok(table) if errors.is_empty() => certificates.push(table),
            Ok(_) => {}
            Err(error) => {
                let field = format!("certificates[{i}]");
                errors.push(line_error(origin, line, field, json, &error));
                if errors.len() == MAX_LINE_ERRORS {
                    errors.push(FileError::whole(
                        origin,
                        format!("stopped reading after {MAX_LINE_ERRORS} bad lines"),
                    ));
                    break;
                }
            }
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    let table_lines = TableLines {
        catalog: vec![header_line],
        sections: vec![header_line; header.sections.len()],
        certificates: certificate_lines,
        not_listed: vec![header_line; header.not_listed.len()],
    };
    let header = Header {
        catalog: header.catalog,
        sections: header.sections,
        not_listed: header.not_listed,
    };
    match into_parts(header, certificates, text) {
        Ok(parts) => Ok((parts, table_lines)),
        Err(violations) => Err(violations
            .into_iter()
            .map(|v| locate(origin, &table_lines, v))
            .collect()),
    }
}

/// What went wrong reading one line.
enum LineError {
    /// The line is JSON but not an object (serde would read an array as a struct, by position).
    NotAnObject,
    Json(serde_json::Error),
}

/// Reads one line, which must hold one JSON object.
fn read_line<'a, T>(json: &'a str) -> Result<T, LineError>
where
    T: Deserialize<'a>,
{
    if !json.trim_start_matches(JSON_SPACE).starts_with('{') {
        return Err(LineError::NotAnObject);
    }
    serde_json::from_str(json).map_err(LineError::Json)
}

/// An error of file line `line` (`json` its text), at the column an editor shows.
fn line_error(
    origin: &str,
    line: usize,
    field: String,
    json: &str,
    error: &LineError,
) -> FileError {
    let message = match error {
        LineError::NotAnObject => "not a JSON object".to_owned(),
        LineError::Json(error) => {
            // serde_json counts bytes on its one line; editors count characters.
            let column = json
                .char_indices()
                .take_while(|&(at, _)| at < error.column())
                .count();
            let text = error.to_string();
            let position = format!(" at line {} column {}", error.line(), error.column());
            let text = text.strip_suffix(&position).unwrap_or(&text);
            let hint = if error.is_eof() {
                "; each object must be on one line"
            } else {
                ""
            };
            format!("{text} (column {column}){hint}")
        }
    };
    FileError {
        origin: origin.to_owned(),
        line: Some(line),
        field,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = r#"{"catalog": {"id": "t", "title": "T", "jurisdiction": "北京市"}, "sections": [{"number": 1, "title": "一"}]}"#;
    const FIRST: &str = r#"{"id": "a", "section": 1, "item": 1, "name_zh": "甲", "work_scope": "从事甲。", "title_level": "中级", "remark": "从事甲。", "issuers": [{"name_zh": "甲会"}]}"#;
    const SECOND: &str = r#"{"id": "b", "section": 1, "item": 2, "name_zh": "乙", "work_scope": "从事乙。", "title_level": "副高级", "remark": "从事乙。", "issuers": [{"name_en": "B Society"}]}"#;

    fn file(lines: &[&str]) -> String {
        lines.iter().map(|line| format!("{line}\n")).collect()
    }

    /// A TOML catalog written as JSON Lines, as a converter would.
    fn as_jsonl(toml_text: &str) -> String {
        let mut tables: toml::Table = toml::from_str(toml_text).unwrap();
        let certificates = tables.remove("certificates").unwrap();
        let mut out = serde_json::to_string(&tables).unwrap() + "\n";
        for certificate in certificates.as_array().unwrap() {
            out += &(serde_json::to_string(certificate).unwrap() + "\n");
        }
        out
    }

    /// Parts in a form two parses can be compared by, the etag (a hash of the text) left out.
    fn comparable(mut parts: CatalogParts) -> String {
        parts.etag.clear();
        format!("{parts:?}")
    }

    #[test]
    fn a_catalog_reads_the_same_from_jsonl_as_from_toml() {
        let toml_text = crate::EMBEDDED_CATALOG;
        let jsonl_text = as_jsonl(toml_text);
        assert_eq!(
            jsonl_text.lines().count(),
            34,
            "a header and 33 certificates"
        );
        let from_toml = crate::file::parse("bj.toml", toml_text).unwrap();
        let from_jsonl = parse("bj.jsonl", &jsonl_text).unwrap();
        assert_eq!(from_jsonl.etag, crate::file::etag_of(jsonl_text.as_bytes()));
        assert_eq!(comparable(from_jsonl), comparable(from_toml));
        // Validation and indexing take it as they take the TOML file.
        let loaded = crate::load_text_as(crate::Format::Jsonl, "bj.jsonl", &jsonl_text).unwrap();
        assert_eq!(loaded.catalog.certificates().len(), 33);
    }

    #[test]
    fn a_minimal_file_parses_with_escapes_read() {
        let escaped = FIRST.replace(
            "从事甲。\", \"title_level",
            "从事\\u7532。\", \"title_level",
        );
        let parts = parse("t.jsonl", &file(&[HEADER, &escaped, SECOND])).unwrap();
        assert_eq!(parts.certificates.len(), 2);
        assert_eq!(&*parts.certificates[0].work_scope, "从事甲。");
        assert_eq!(parts.certificates[1].id, "b");
        assert_eq!(parts.meta.id, "t");
    }

    #[test]
    fn a_bad_or_missing_header_is_refused_on_its_line() {
        let table: [(String, Option<usize>, &str); 8] = [
            (
                String::new(),
                None,
                "no lines: the first line must be the header",
            ),
            ("\n \r\n\t\n".into(), None, "no lines"),
            (
                file(&[FIRST, SECOND]),
                Some(1),
                "the first line must be the header {\"catalog\": {…}, \"sections\": […]}: unknown field `id`, expected one of `catalog`, `sections`, `not_listed` (column 5)",
            ),
            (
                file(&[
                    "",
                    HEADER
                        .replace(", \"sections\": [{\"number\": 1, \"title\": \"一\"}]", "")
                        .as_str(),
                    FIRST,
                ]),
                Some(2),
                "missing field `sections`",
            ),
            (
                file(&[&HEADER.replace("}]}", "}], \"certificates\": []}"), FIRST]),
                Some(1),
                "unknown field `certificates`",
            ),
            (
                file(&[&HEADER.replace("\"t\"", "7"), FIRST]),
                Some(1),
                "invalid type: integer `7`, expected a string",
            ),
            (file(&["[1]", FIRST]), Some(1), "not a JSON object"),
            (
                file(&["{", "  \"catalog\": {}", "}"]),
                Some(1),
                "EOF while parsing an object (column 1); each object must be on one line",
            ),
        ];
        for (text, line, message) in table {
            let errors = parse("t.jsonl", &text).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].line, line, "{text:?}");
            assert!(errors[0].message.contains(message), "{text:?}: {errors:?}");
            assert_eq!(errors[0].field, "");
        }
    }

    #[test]
    fn a_bad_certificate_line_is_reported_with_its_line_and_number() {
        let table = [
            (
                SECOND.replace("\"乙\"", "5"),
                "invalid type: integer `5`, expected a string (column 49)",
            ),
            (
                SECOND.replace("\"item\": 2", "\"item\": 2, \"itme\": 3"),
                "unknown field `itme`, expected one of",
            ),
            (
                SECOND.replace("\"item\": 2", "\"item\": 2, \"item\": 3"),
                "duplicate field `item`",
            ),
            (
                SECOND.replace(", \"remark\": \"从事乙。\"", ""),
                "missing field `remark`",
            ),
            (
                SECOND.replace("\"item\": 2", "\"item\": 2.0"),
                "invalid type: floating point `2.0`, expected u32",
            ),
            (
                SECOND.replace("\"item\": 2", "\"item\": -2"),
                "invalid value: integer `-2`, expected u32",
            ),
            (SECOND.replace("}]}", "}]},"), "trailing characters"),
            (SECOND.replace("}]}", "}]"), "EOF while parsing an object"),
            ("\"b\"".to_owned(), "not a JSON object"),
        ];
        for (line, message) in table {
            let text = file(&[HEADER, FIRST, "", &line]);
            let errors = parse("t.jsonl", &text).unwrap_err();
            assert_eq!(errors.len(), 1, "{errors:?}");
            assert_eq!(errors[0].line, Some(4), "{line}");
            assert_eq!(errors[0].field, "certificates[1]");
            assert!(errors[0].message.contains(message), "{line}: {errors:?}");
            assert_eq!(
                errors[0].to_string(),
                format!("t.jsonl:4: certificates[1]: {}", errors[0].message)
            );
        }
    }

    #[test]
    fn columns_count_characters_as_editors_do() {
        let line = SECOND.replace("\"副高级\"", "7");
        let column = line.chars().position(|c| c == '7').unwrap() + 1;
        assert!(
            line.find('7').unwrap() + 1 > column,
            "Chinese text before the error"
        );
        let errors = parse("t.jsonl", &file(&[HEADER, &line])).unwrap_err();
        assert!(
            errors[0].message.ends_with(&format!("(column {column})")),
            "{errors:?}"
        );
    }

    #[test]
    fn violations_name_the_line_of_their_certificate_or_of_the_header() {
        let broken = SECOND.replace("副高级", "高级");
        let text = file(&[HEADER, "", FIRST, "", "", &broken, ""]);
        let errors = parse("t.jsonl", &text).unwrap_err();
        assert_eq!(errors[0].field, "certificates[1].title_level");
        assert_eq!(errors[0].line, Some(6));
        let dated = HEADER.replace(
            "\"北京市\"",
            "\"北京市\", \"effective_from\": \"2025-13-01\"",
        );
        let errors = parse("t.jsonl", &file(&["", &dated, FIRST])).unwrap_err();
        assert_eq!(errors[0].field, "catalog.effective_from");
        assert_eq!(errors[0].line, Some(2));
        // What only validation finds (`Catalog::new`) is located the same way.
        let twice = SECOND.replace("\"id\": \"b\"", "\"id\": \"a\"");
        let text = file(&[HEADER, FIRST, "", &twice]);
        let errors = crate::load_text_as(crate::Format::Jsonl, "t.jsonl", &text).unwrap_err();
        assert!(errors[0].message.contains("duplicate id"), "{errors:?}");
        assert_eq!(errors[0].line, Some(4));
    }

    #[test]
    fn blank_lines_and_line_ends_are_allowed() {
        let expected = comparable(parse("t.jsonl", &file(&[HEADER, FIRST, SECOND])).unwrap());
        let texts = [
            file(&["", HEADER, "", "", FIRST, " \t", SECOND, "", ""]),
            format!("{HEADER}\r\n{FIRST}\r\n\r\n{SECOND}"),
            format!("{HEADER}\n{FIRST}\n{SECOND}"),
            format!("  {HEADER}\t\n{FIRST} \n\t{SECOND}\r\n"),
        ];
        for text in texts {
            let parts = parse("t.jsonl", &text).unwrap_or_else(|e| panic!("{text:?}: {e:?}"));
            assert_eq!(comparable(parts), expected, "{text:?}");
        }
    }

    #[test]
    fn reading_stops_after_a_bounded_number_of_bad_lines() {
        let bad = FIRST.replace("\"甲\"", "1");
        let mut lines = vec![HEADER];
        lines.extend(std::iter::repeat_n(bad.as_str(), 1000));
        let errors = parse("t.jsonl", &file(&lines)).unwrap_err();
        assert_eq!(errors.len(), MAX_LINE_ERRORS + 1);
        assert_eq!(errors[MAX_LINE_ERRORS - 1].line, Some(MAX_LINE_ERRORS + 1));
        assert_eq!(errors[MAX_LINE_ERRORS].line, None);
        assert!(errors[MAX_LINE_ERRORS].message.contains("stopped reading"));
    }
}
