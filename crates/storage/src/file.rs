//! The catalog file format (TOML) and its translation into domain parts.
//!
//! Parsing reports syntax errors with their line, and domain violations with the line of the
//! table they concern, so an operator can fix a file from the message alone.

use certequiv_domain::rules::{DomesticQualification, Rule};
use certequiv_domain::{
    CatalogMeta, CatalogParts, Certificate, EntryRef, Issuer, NotListed, Section, TitleLevel,
    Violation,
};
use jiff::civil::Date;
use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use sha2::{Digest, Sha256};

use crate::FileError;

/// A catalog file: one published list of certificates recognised as equivalent to Chinese
/// professional title levels. Reference: docs/catalog-format.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "certequiv catalog file")]
struct FileCatalog<'a> {
    catalog: FileMeta,
    /// The sub-lists of the catalog, at least one.
    #[schemars(length(min = 1))]
    sections: Vec<FileSection>,
    /// The entries of the list, one table per row of the published table.
    #[serde(default, borrow)]
    certificates: Vec<FileCertificate<'a>>,
    /// Real certificates that are NOT on the list, so look-alikes are refused plainly.
    #[serde(default)]
    not_listed: Vec<FileNotListed>,
}

/// Metadata of the whole catalog (one per file).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Catalog")]
struct FileMeta {
    /// Stable id: a-z, 0-9 and '-', starting with a letter, at most 63 characters; unique
    /// across all loaded files.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,62}$"))]
    id: String,
    /// The list's title, verbatim.
    #[schemars(length(min = 1))]
    title: String,
    /// Whose list it is, e.g. 北京市.
    #[schemars(length(min = 1))]
    jurisdiction: String,
    /// Where the list comes from, e.g. 附件5; leave out what the source does not state.
    #[serde(default)]
    source: String,
    /// First day in force, "YYYY-MM-DD"; absent: in force since always.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    effective_from: Option<String>,
    /// Last day in force (inclusive), "YYYY-MM-DD"; absent: open-ended.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    effective_until: Option<String>,
}

/// A section (sub-list) of the catalog.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Section")]
struct FileSection {
    /// 1-based, unique.
    #[schemars(range(min = 1))]
    number: u32,
    /// As printed, e.g. （一）.
    #[serde(default)]
    ordinal: String,
    /// The heading verbatim, without the ordinal.
    #[schemars(length(min = 1))]
    title: String,
}

/// One entry of the list.
// The strings of a certificate table are borrowed from the file's text (see `Text`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Certificate")]
struct FileCertificate<'a> {
    /// Stable id: a-z, 0-9 and '-', starting with a letter, at most 63 characters; unique in
    /// the file.
    #[serde(borrow)]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,62}$"))]
    id: Text<'a>,
    /// The number of the section the entry is in.
    #[schemars(range(min = 1))]
    section: u32,
    /// The entry's number (序号) in its section; unique within the section.
    #[schemars(range(min = 1))]
    item: u32,
    /// The certificate's name, verbatim.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    name_zh: Text<'a>,
    /// The credential's English name.
    #[serde(default, borrow)]
    name_en: Text<'a>,
    /// Abbreviations; each must name this entry only.
    #[serde(default, borrow)]
    abbreviations: Vec<Text<'a>>,
    /// Other forms applicants type; each must name this entry only.
    #[serde(default, borrow)]
    aliases: Vec<Text<'a>>,
    /// Country or region verbatim; "" where the source leaves it empty.
    #[serde(default, borrow)]
    country_or_region: Text<'a>,
    /// The 领域 column split on 、
    #[serde(default, borrow)]
    fields: Vec<Text<'a>>,
    /// The 从事…相关工作 sentence, verbatim; must occur in `remark`.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    work_scope: Text<'a>,
    /// The title level the certificate corresponds to (初级 is read as 助理级).
    #[serde(borrow)]
    #[schemars(schema_with = "title_level_labels")]
    title_level: Text<'a>,
    /// The 备注 cell, verbatim.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    remark: Text<'a>,
    /// The issuing bodies, in source order; at least one.
    #[serde(default, borrow)]
    #[schemars(length(min = 1))]
    issuers: Vec<FileIssuer<'a>>,
    /// Rules beyond the basic series requirements, each quoting the remark sentence it rests
    /// on.
    #[serde(default)]
    rules: Vec<FileRule>,
    /// The entry of an earlier catalog this entry replaces, "catalog-id/entry-id".
    #[serde(default, borrow)]
    #[schemars(
        with = "String",
        regex(pattern = r"^[a-z][a-z0-9-]{0,62}/[a-z][a-z0-9-]{0,62}$")
    )]
    supersedes: Option<Text<'a>>,
}

/// An issuing body as the source names it; at least one of the names.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Issuer")]
struct FileIssuer<'a> {
    /// The Chinese name; "" when the source gives none.
    #[serde(default, borrow)]
    name_zh: Text<'a>,
    /// The English name; "" when the source gives none.
    #[serde(default, borrow)]
    name_en: Text<'a>,
}

/// A string of the file, borrowed from its text unless it has escapes. Parsing allocates
/// nothing for it: the catalog's own copy is made once the whole file is parsed, on the
/// calling thread, and texts that many entries repeat (remarks, issuers, fields) are made
/// once and shared (see [`Texts`]). Accepts what a `String` field accepts, with the same
/// error message.
#[derive(Debug, Default)]
struct Text<'a>(Cow<'a, str>);

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct TextVisitor;
        impl<'de> Visitor<'de> for TextVisitor {
            type Value = Cow<'de, str>;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }

            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(Cow::Borrowed(v))
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v.to_owned()))
            }

            fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
                Ok(Cow::Owned(v))
            }
        }
        deserializer.deserialize_string(TextVisitor).map(Text)
    }
}

/// The labels a `title_level` may take: the domain's, and 初级 (read as 助理级).
fn title_level_labels(_: &mut SchemaGenerator) -> Schema {
    let mut labels: Vec<&str> = TitleLevel::ALL.iter().map(|l| l.label_zh()).collect();
    labels.insert(2, "初级");
    json_schema!({ "type": "string", "enum": labels })
}

/// The domestic qualifications a rule's `requires` may name.
fn qualification_labels(_: &mut SchemaGenerator) -> Schema {
    let labels: Vec<&str> = DomesticQualification::ALL
        .iter()
        .map(|q| q.label_zh())
        .collect();
    json_schema!({ "type": "array", "items": { "type": "string", "enum": labels } })
}

/// A [`Text`] is a string in the file.
impl JsonSchema for Text<'_> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Text".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "string" })
    }
}

impl Text<'_> {
    fn as_str(&self) -> &str {
        &self.0
    }

    fn into_string(self) -> String {
        self.0.into_owned()
    }
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

/// A rule of an entry. DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE (with `requires`),
/// CICPA_FOR_BEIJING_PRACTICE, MUTUAL_RECOGNITION (with `names` and `note_en`), or any other
/// code for an informational note (with `note_en`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
struct FileRule {
    /// The rule's code, UPPER_SNAKE_CASE.
    #[schemars(regex(pattern = r"^[A-Z0-9_]+$"))]
    code: String,
    /// The remark sentence the rule rests on, verbatim (it must occur in the remark).
    #[schemars(length(min = 1))]
    quote: String,
    /// DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE: the domestic qualifications needed
    /// to apply for a level above the certificate's.
    #[serde(default)]
    #[schemars(schema_with = "qualification_labels")]
    requires: Vec<String>,
    /// MUTUAL_RECOGNITION: the certifications recognised, each as written in `quote`.
    #[serde(default)]
    names: Vec<String>,
    /// The note in English, for notes and mutual recognitions.
    #[serde(default)]
    note_en: String,
}

/// A real certificate that is not on the list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NotListed")]
struct FileNotListed {
    /// Forms to match: a claim containing every word of one of them is refused with the note.
    #[schemars(length(min = 1))]
    names: Vec<String>,
    /// Why, in Chinese, shown to HR.
    #[serde(default)]
    note_zh: String,
    /// Why, in English, shown to HR.
    #[serde(default)]
    note_en: String,
}

/// The JSON Schema of a catalog file, generated from the types the loader reads the file with
/// (draft 7, which taplo and editors read; no `null`, which TOML lacks).
pub fn catalog_schema() -> String {
    schema_text::<FileCatalog<'static>>()
}

/// A schema as committed: pretty JSON with a final newline. A key absent from the file has no
/// value in TOML, so no `"default": null` is written (an editor would offer to insert it).
pub fn schema_text<T: JsonSchema>() -> String {
    let mut settings = schemars::generate::SchemaSettings::draft07();
    settings
        .transforms
        .push(Box::new(schemars::transform::RecursiveTransform(
            |schema: &mut Schema| {
                if schema
                    .get("default")
                    .is_some_and(serde_json::Value::is_null)
                {
                    schema.remove("default");
                }
            },
        )));
    let generator = settings.into_generator();
    let schema = generator.into_root_schema_for::<T>();
    let mut text = serde_json::to_string_pretty(&schema).unwrap_or_default();
    text.push('\n');
    text
}

/// Content hash of catalog bytes: the etag clients see.
pub fn etag_of(bytes: &[u8]) -> String {
    let digest = Sha256::digest(bytes);
    digest[..12].iter().map(|b| format!("{b:02x}")).collect()
}

/// Parses one catalog file. `origin` names it in errors (a file name or "embedded").
pub fn parse(origin: &str, text: &str) -> Result<CatalogParts, Vec<FileError>> {
    let pieces = (text.len() >= PIECES_FROM_BYTES)
        .then(|| parse_by_pieces(text, PIECE_BYTES))
        .flatten();
    let tables = match pieces {
        Some(tables) => tables,
        None => {
            let file: FileCatalog<'_> = toml::from_str(text).map_err(|e| {
                let line = e.span().map(|span| line_of_offset(text, span.start));
                vec![FileError {
                    origin: origin.to_owned(),
                    line,
                    field: String::new(),
                    message: e.message().to_owned(),
                }]
            })?;
            Tables::of_file(file)
        }
    };
    let mut violations = Vec::new();
    let parts = into_parts(tables, text, &mut violations);
    if violations.is_empty() {
        Ok(parts)
    } else {
        let lines = TableLines::of(text);
        Err(violations
            .into_iter()
            .map(|v| locate(origin, &lines, v))
            .collect())
    }
}

/// One piece of a catalog file: the file cut before a `[[certificates]]` line is a TOML
/// document of its own, with the tables of that stretch of the file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct FilePiece<'a> {
    #[serde(default)]
    catalog: Option<FileMeta>,
    #[serde(default)]
    sections: Vec<FileSection>,
    #[serde(default, borrow)]
    certificates: Vec<FileCertificate<'a>>,
    #[serde(default)]
    not_listed: Vec<FileNotListed>,
}

/// A file's tables with its certificates converted to domain values, and what converting
/// them found wrong (in certificate order).
#[derive(Debug, Default)]
struct Tables {
    catalog: Option<FileMeta>,
    sections: Vec<FileSection>,
    certificates: Vec<Certificate>,
    not_listed: Vec<FileNotListed>,
    violations: Vec<Violation>,
}

impl Tables {
    fn of_file(file: FileCatalog<'_>) -> Tables {
        let mut tables = Tables {
            catalog: Some(file.catalog),
            sections: file.sections,
            certificates: Vec::with_capacity(file.certificates.len()),
            not_listed: file.not_listed,
            violations: Vec::new(),
        };
        tables.convert(0, file.certificates, &mut Texts::default());
        tables
    }

    /// Converts certificate tables, the first of them the file's certificate number `first`.
    fn convert(&mut self, first: usize, tables: Vec<FileCertificate<'_>>, texts: &mut Texts) {
        for (i, table) in tables.into_iter().enumerate() {
            let cert = certificate(first + i, table, texts, &mut self.violations);
            self.certificates.push(cert);
        }
    }
}

/// Text per piece: large enough that the parser's setup does not count, small enough that
/// its token list and value tree stay in the cache and never add up to a copy of the file.
const PIECE_BYTES: usize = 64 * 1024;
/// Files smaller than this are parsed whole; cutting them gains nothing.
const PIECES_FROM_BYTES: usize = 4 * PIECE_BYTES;

/// Parses a large file piece by piece, on every available core, so that memory holds the
/// parsed values of the whole file but the parser's token list and value tree of one piece per
/// thread only (parsed whole, a 78 MB file took 1.1 GB).
///
/// Returns `None` whenever the result might differ from parsing the file whole, and the caller
/// then does exactly that; so errors (and their lines) always come from the whole-file parse.
/// The result is the same because: no key stands before the first table header (so every
/// top-level value comes from a header); each cut is at a line that is exactly
/// `[[certificates]]`, and the piece before it parsed as a complete document, so the cut is at
/// the top level of the file, not inside a string or an array; a piece starts with a header,
/// so its keys belong to the same table as in the whole file; and across pieces the arrays of
/// tables (`[[sections]]`, `[[certificates]]`, `[[not_listed]]`) append in file order as the
/// whole file's do, while `[catalog]`, the one table that may be defined only once, must come
/// from exactly one piece. Any other mix of tables (a table where an array is expected, an
/// unknown table) fails in its piece.
fn parse_by_pieces(text: &str, piece_bytes: usize) -> Option<Tables> {
    let before_first_table = text
        .lines()
        .map(str::trim)
        .take_while(|line| !line.starts_with('['));
    for line in before_first_table {
        if !line.is_empty() && !line.starts_with('#') {
            return None;
        }
    }
    let pieces = pieces(text, piece_bytes);
    if pieces.len() < 2 {
        return None;
    }
    let threads = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(pieces.len());
    let per_thread = pieces.len().div_ceil(threads);
    // Each share of pieces starts at the certificate its pieces' header lines say; a share
    // that finds another number of certificates than header lines is refused below.
    let mut shares = Vec::with_capacity(threads);
    let mut first = 0;
    for share in pieces.chunks(per_thread) {
        let count: usize = share.iter().map(|piece| piece.certificates).sum();
        shares.push((first, count, share));
        first += count;
    }
    let total = first;
    // The first share is parsed on this thread: memory its parsing frees is reused by what is
    // built next here, while what other threads free stays with their allocator arenas.
    let mut shares = shares.into_iter();
    let (start, count, share) = shares.next()?;
    let converted: Vec<Option<Tables>> = std::thread::scope(|scope| {
        let others: Vec<_> = shares
            .map(|(start, count, share)| scope.spawn(move || parse_share(start, count, share)))
            .collect();
        std::iter::once(parse_share(start, count, share))
            .chain(others.into_iter().map(|other| other.join().ok().flatten()))
            .collect()
    });
    let mut tables = Tables::default();
    tables.certificates.reserve_exact(total);
    for share in converted {
        let share = share?;
        if share.catalog.is_some() && tables.catalog.is_some() {
            return None;
        }
        tables.catalog = tables.catalog.or(share.catalog);
        tables.sections.extend(share.sections);
        tables.certificates.extend(share.certificates);
        tables.not_listed.extend(share.not_listed);
        tables.violations.extend(share.violations);
    }
    if tables.catalog.is_none() || tables.sections.is_empty() {
        return None;
    }
    Some(tables)
}

/// Parses a share of the pieces and converts its certificates as they come, so that only the
/// converted values outlive a piece. `None` when a piece fails, has `[catalog]` twice
/// (between them) or the share holds another number of certificates than `count`.
fn parse_share(first: usize, count: usize, share: &[Piece<'_>]) -> Option<Tables> {
    let mut tables = Tables {
        certificates: Vec::with_capacity(count),
        ..Tables::default()
    };
    let mut texts = Texts::default();
    for piece in share {
        if let Some(certificates) = plain_certificates(piece.text) {
            let next = first + tables.certificates.len();
            tables.convert(next, certificates, &mut texts);
            continue;
        }
        let piece: FilePiece<'_> = toml::from_str(piece.text).ok()?;
        if piece.catalog.is_some() && tables.catalog.is_some() {
            return None;
        }
        tables.catalog = tables.catalog.or(piece.catalog);
        tables.sections.extend(piece.sections);
        tables.not_listed.extend(piece.not_listed);
        let next = first + tables.certificates.len();
        tables.convert(next, piece.certificates, &mut texts);
    }
    (tables.certificates.len() == count).then_some(tables)
}

/// Reads a piece of certificate tables written the way catalog files are written, without
/// `toml`'s token list, value tree and serde layer (three quarters of a large file's parse):
/// `[[certificates]]` and `[[certificates.issuers]]` header lines, one `key = value` a line,
/// each value an integer, a string without escapes or a one-line array of such strings.
///
/// `None` for anything else (comments, escapes, other tables or spellings, duplicate, unknown
/// or missing keys, wrong types), and the caller parses the piece with `toml` instead. So what
/// this accepts is a strict subset of TOML, read the way `toml::from_str::<FilePiece>` reads
/// it; the test `plain_pieces_read_as_toml_reads_them` checks that on edited pieces.
fn plain_certificates(text: &str) -> Option<Vec<FileCertificate<'_>>> {
    let mut certificates = Vec::new();
    let mut current: Option<PlainCertificate<'_>> = None;
    for line in text.split_inclusive('\n') {
        // TOML ends a line with LF or CRLF; a CR alone is an error.
        let line = match line.strip_suffix('\n') {
            Some(line) => line.strip_suffix('\r').unwrap_or(line),
            None => line,
        };
        let line = line.trim_matches(TOML_SPACE);
        if line.is_empty() {
            continue;
        }
        if line == "[[certificates]]" {
            if let Some(done) = current.take() {
                certificates.push(done.finish()?);
            }
            current = Some(PlainCertificate::default());
            continue;
        }
        let cert = current.as_mut()?;
        if line == "[[certificates.issuers]]" {
            cert.issuers.push(PlainIssuer::default());
            continue;
        }
        let (key, value) = line.split_once('=')?;
        let key = key.trim_end_matches(TOML_SPACE);
        let value = plain_value(value.trim_start_matches(TOML_SPACE))?;
        match cert.issuers.last_mut() {
            Some(issuer) => issuer.set(key, value)?,
            None => cert.set(key, value)?,
        }
    }
    certificates.push(current?.finish()?);
    Some(certificates)
}

/// The whitespace of TOML: space and tab, nothing else.
const TOML_SPACE: [char; 2] = [' ', '\t'];

/// A value [`plain_certificates`] reads.
enum PlainValue<'a> {
    Integer(u32),
    Text(&'a str),
    Texts(Vec<Text<'a>>),
}

/// `value` (the rest of a line after `=`, trimmed) if it is an integer in `u32` without sign,
/// separators or leading zeros, a string without escapes, or a one-line array of those strings.
fn plain_value(value: &str) -> Option<PlainValue<'_>> {
    if let Some(rest) = value.strip_prefix('[') {
        let mut texts = Vec::new();
        let mut rest = rest.trim_start_matches(TOML_SPACE);
        loop {
            if rest == "]" {
                return Some(PlainValue::Texts(texts));
            }
            let (text, after) = plain_string(rest)?;
            texts.push(Text(Cow::Borrowed(text)));
            rest = after.trim_start_matches(TOML_SPACE);
            if let Some(after) = rest.strip_prefix(',') {
                rest = after.trim_start_matches(TOML_SPACE);
            } else if rest != "]" {
                return None;
            }
        }
    }
    if value.starts_with('"') {
        let (text, rest) = plain_string(value)?;
        return rest.is_empty().then_some(PlainValue::Text(text));
    }
    let digits = value.bytes().all(|b| b.is_ascii_digit());
    if !digits || value.is_empty() || (value.len() > 1 && value.starts_with('0')) {
        return None;
    }
    value.parse().ok().map(PlainValue::Integer)
}

/// The text of the basic string `text` starts with, and what follows it; `None` unless it is
/// closed and holds only the bytes TOML allows unescaped (tab, visible ASCII but `"` and `\`,
/// and any byte of a non-ASCII character).
fn plain_string(text: &str) -> Option<(&str, &str)> {
    let body = text.strip_prefix('"')?;
    let end = body.bytes().position(|b| !UNESCAPED[usize::from(b)])?;
    (body.as_bytes()[end] == b'"').then(|| (&body[..end], &body[end + 1..]))
}

/// The bytes a TOML basic string holds as they are (see [`plain_string`]).
const UNESCAPED: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = b == 0x09 || (b >= 0x20 && b <= 0x7e && b != 0x22 && b != 0x5c) || b >= 0x80;
        b += 1;
    }
    table
};

/// Stores a value once: a key given twice is a TOML error.
fn set_once<T>(slot: &mut Option<T>, value: T) -> Option<()> {
    if slot.is_some() {
        return None;
    }
    *slot = Some(value);
    Some(())
}

/// A certificate table as [`plain_certificates`] reads it, before its required keys are known
/// to be there.
#[derive(Default)]
struct PlainCertificate<'a> {
    id: Option<&'a str>,
    section: Option<u32>,
    item: Option<u32>,
    name_zh: Option<&'a str>,
    name_en: Option<&'a str>,
    abbreviations: Option<Vec<Text<'a>>>,
    aliases: Option<Vec<Text<'a>>>,
    country_or_region: Option<&'a str>,
    fields: Option<Vec<Text<'a>>>,
    work_scope: Option<&'a str>,
    title_level: Option<&'a str>,
    remark: Option<&'a str>,
    supersedes: Option<&'a str>,
    issuers: Vec<PlainIssuer<'a>>,
}

impl<'a> PlainCertificate<'a> {
    fn set(&mut self, key: &str, value: PlainValue<'a>) -> Option<()> {
        match (key, value) {
            ("id", PlainValue::Text(v)) => set_once(&mut self.id, v),
            ("section", PlainValue::Integer(v)) => set_once(&mut self.section, v),
            ("item", PlainValue::Integer(v)) => set_once(&mut self.item, v),
            ("name_zh", PlainValue::Text(v)) => set_once(&mut self.name_zh, v),
            ("name_en", PlainValue::Text(v)) => set_once(&mut self.name_en, v),
            ("abbreviations", PlainValue::Texts(v)) => set_once(&mut self.abbreviations, v),
            ("aliases", PlainValue::Texts(v)) => set_once(&mut self.aliases, v),
            ("country_or_region", PlainValue::Text(v)) => set_once(&mut self.country_or_region, v),
            ("fields", PlainValue::Texts(v)) => set_once(&mut self.fields, v),
            ("work_scope", PlainValue::Text(v)) => set_once(&mut self.work_scope, v),
            ("title_level", PlainValue::Text(v)) => set_once(&mut self.title_level, v),
            ("remark", PlainValue::Text(v)) => set_once(&mut self.remark, v),
            ("supersedes", PlainValue::Text(v)) => set_once(&mut self.supersedes, v),
            _ => None,
        }
    }

    /// The table as `toml` reads it: `None` when a required key is missing.
    fn finish(self) -> Option<FileCertificate<'a>> {
        let text = |v: &'a str| Text(Cow::Borrowed(v));
        Some(FileCertificate {
            id: text(self.id?),
            section: self.section?,
            item: self.item?,
            name_zh: text(self.name_zh?),
            name_en: self.name_en.map(text).unwrap_or_default(),
            abbreviations: self.abbreviations.unwrap_or_default(),
            aliases: self.aliases.unwrap_or_default(),
            country_or_region: self.country_or_region.map(text).unwrap_or_default(),
            fields: self.fields.unwrap_or_default(),
            work_scope: text(self.work_scope?),
            title_level: text(self.title_level?),
            remark: text(self.remark?),
            issuers: self.issuers.into_iter().map(PlainIssuer::finish).collect(),
            rules: Vec::new(),
            supersedes: self.supersedes.map(text),
        })
    }
}

/// An issuer table as [`plain_certificates`] reads it.
#[derive(Default)]
struct PlainIssuer<'a> {
    name_zh: Option<&'a str>,
    name_en: Option<&'a str>,
}

impl<'a> PlainIssuer<'a> {
    fn set(&mut self, key: &str, value: PlainValue<'a>) -> Option<()> {
        match (key, value) {
            ("name_zh", PlainValue::Text(v)) => set_once(&mut self.name_zh, v),
            ("name_en", PlainValue::Text(v)) => set_once(&mut self.name_en, v),
            _ => None,
        }
    }

    fn finish(self) -> FileIssuer<'a> {
        let text = |v: Option<&'a str>| Text(Cow::Borrowed(v.unwrap_or_default()));
        FileIssuer {
            name_zh: text(self.name_zh),
            name_en: text(self.name_en),
        }
    }
}

/// A piece of a file, and how many of its lines are `[[certificates]]`.
#[derive(Debug, Clone, Copy)]
struct Piece<'a> {
    text: &'a str,
    certificates: usize,
}

/// Cuts `text` before lines that are exactly `[[certificates]]`, into pieces of at least
/// `piece_bytes` (the last may be shorter).
fn pieces(text: &str, piece_bytes: usize) -> Vec<Piece<'_>> {
    let mut pieces = Vec::with_capacity(text.len() / piece_bytes.max(1) + 1);
    const HEADER: &str = "[[certificates]]";
    let mut start = 0;
    let mut certificates = 0;
    // Searching for the header skips through the text; going line by line took longer.
    for (offset, _) in text.match_indices(HEADER) {
        let rest = &text[offset + HEADER.len()..];
        let rest_of_line = rest.split('\n').next().unwrap_or_default();
        let starts_line = offset == 0 || text.as_bytes()[offset - 1] == b'\n';
        if !starts_line || !rest_of_line.trim_end().is_empty() {
            continue;
        }
        if offset - start >= piece_bytes {
            pieces.push(Piece {
                text: &text[start..offset],
                certificates,
            });
            start = offset;
            certificates = 0;
        }
        certificates += 1;
    }
    pieces.push(Piece {
        text: &text[start..],
        certificates,
    });
    pieces
}

fn into_parts(tables: Tables, text: &str, violations: &mut Vec<Violation>) -> CatalogParts {
    let Tables {
        catalog,
        sections,
        certificates,
        not_listed,
        violations: certificate_violations,
    } = tables;
    let catalog = catalog.unwrap_or_default();
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
    violations.extend(certificate_violations);
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
    CatalogParts {
        meta,
        sections,
        certificates,
        not_listed,
        etag: etag_of(text.as_bytes()),
    }
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

/// The lines of a file's table headers, so that violations found after its text is gone
/// (`Catalog::new` runs once the text is freed, see `store::load_files`) still name the line
/// of the table they concern. A header line is one whose trimmed text is the header.
#[derive(Debug, Default)]
pub(crate) struct TableLines {
    catalog: Vec<usize>,
    sections: Vec<usize>,
    certificates: Vec<usize>,
    not_listed: Vec<usize>,
}

impl TableLines {
    pub(crate) fn of(text: &str) -> TableLines {
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

    /// The parsed file, in a form two parses can be compared by.
    fn whole(text: &str) -> String {
        let file = toml::from_str::<FileCatalog>(text).unwrap();
        format!("{:?}", Tables::of_file(file))
    }

    #[test]
    fn a_file_parsed_by_pieces_is_the_file_parsed_whole() {
        let text = crate::synthetic::catalog_toml(300, 7);
        for piece_bytes in [1, 700, 5_000, 50_000] {
            assert!(pieces(&text, piece_bytes).len() > 1);
            let by_pieces = parse_by_pieces(&text, piece_bytes).unwrap();
            assert_eq!(format!("{by_pieces:?}"), whole(&text), "{piece_bytes}");
        }
        let embedded = crate::EMBEDDED_CATALOG;
        let by_pieces = parse_by_pieces(embedded, 1).unwrap();
        assert_eq!(format!("{by_pieces:?}"), whole(embedded));
        // Violations found while converting keep their file-wide certificate numbers.
        let broken = text
            .replacen("title_level = \"中级\"", "title_level = \"高级\"", 1)
            .replace("id = \"syn-000200\"\n", "id = \"syn-000200\"\nxx = 1\n")
            .replacen("title_level = \"副高级\"", "title_level = \"特级\"", 3);
        let by_pieces = format!("{:?}", parse_by_pieces(&broken, 5_000));
        assert_eq!(by_pieces, "None", "an unknown key fails its piece");
        let mut broken = broken.replace("xx = 1\n", "");
        let last = broken.rfind("title_level = \"").unwrap() + "title_level = \"".len();
        broken.insert(last, '末');
        let by_pieces = parse_by_pieces(&broken, 5_000).unwrap();
        assert_eq!(by_pieces.violations.len(), 5);
        assert!(
            by_pieces.violations[4]
                .path
                .starts_with("certificates[299]")
        );
        assert_eq!(format!("{by_pieces:?}"), whole(&broken));
    }

    /// The certificates of a piece as `toml` reads them, if it does.
    fn toml_certificates(piece: &str) -> Option<String> {
        let piece = toml::from_str::<FilePiece>(piece).ok()?;
        let only_certificates =
            piece.catalog.is_none() && piece.sections.is_empty() && piece.not_listed.is_empty();
        only_certificates.then(|| format!("{:?}", piece.certificates))
    }

    #[test]
    fn plain_pieces_read_as_toml_reads_them() {
        let text = crate::synthetic::catalog_toml(40, 7);
        let all = pieces(&text, 600);
        // The synthetic file's certificate pieces take the plain path and read the same.
        for piece in &all[1..] {
            let plain = plain_certificates(piece.text).map(|c| format!("{c:?}"));
            assert!(plain.is_some(), "{}", piece.text);
            assert_eq!(plain, toml_certificates(piece.text));
        }
        // Edited pieces: whatever the plain reader accepts, `toml` reads the same way (it may
        // refuse more than `toml` does, never less).
        let piece = all[1].text;
        let edits = [
            "",
            " ",
            "\t",
            "\r",
            "\n",
            "\r\n",
            "\"",
            "\\",
            "\\n",
            "#",
            "# c",
            "=",
            ",",
            "[",
            "]",
            "[[",
            "]]",
            "'",
            "0",
            "01",
            "+",
            "_",
            "-",
            ".",
            "x",
            "é",
            "\u{3000}",
            "\u{7f}",
            "\u{0}",
            "\u{feff}",
            "\"\"",
            "\"\"\"",
            "[]",
            "name_en = \"y\"\n",
            "supersedes = \"old/x\"\n",
            "id = \"z\"\n",
            "[[certificates]]\n",
            "[[certificates.issuers]]\n",
            "[certificates]\n",
            "[[certificates.rules]]\ncode = \"X\"\nquote = \"y\"\n",
            "issuers = []\n",
            "4294967296",
            "99999999999999999999",
            "1e3",
            "true",
        ];
        let boundaries: Vec<usize> = (0..=piece.len())
            .filter(|&i| piece.is_char_boundary(i))
            .collect();
        let mut accepted = 0;
        for (n, &at) in boundaries.iter().enumerate() {
            let next = boundaries.get(n + 1).copied().unwrap_or(at);
            for edit in edits {
                // Insert the edit at `at`, and put it in place of the character there.
                for end in [at, next] {
                    let edited = format!("{}{edit}{}", &piece[..at], &piece[end..]);
                    let Some(plain) = plain_certificates(&edited) else {
                        continue;
                    };
                    accepted += 1;
                    assert_eq!(
                        Some(format!("{plain:?}")),
                        toml_certificates(&edited),
                        "{edited}"
                    );
                }
            }
        }
        assert!(accepted > boundaries.len(), "{accepted}");
    }

    #[test]
    fn plain_reader_refuses_what_it_cannot_read_like_toml() {
        let piece = "[[certificates]]\nid = \"a\"\nsection = 1\nitem = 2\nname_zh = \"甲\"\n\
                     work_scope = \"从事甲。\"\ntitle_level = \"中级\"\nremark = \"从事甲。\"\n\
                     \n[[certificates.issuers]]\nname_zh = \"甲会\"\n";
        assert!(plain_certificates(piece).is_some());
        let refused = [
            // TOML, but not read here: escapes, comments, other spellings and tables
            piece.replace("甲会", "\\u7532会"),
            piece.replace("item = 2", "item = 2 # two"),
            piece.replace("item = 2", "item = +2"),
            piece.replace("item = 2", "item = 1_2"),
            piece.replace("name_zh = \"甲\"", "name_zh = '甲'"),
            piece.replace("[[certificates]]", "[[ certificates ]]"),
            format!("{piece}[[certificates.rules]]\ncode = \"X\"\nquote = \"甲\"\n"),
            // not TOML, or not a certificate: missing, duplicate, unknown keys, wrong types
            piece.replace("remark = \"从事甲。\"\n", ""),
            piece.replace("item = 2", "item = 2\nitem = 3"),
            piece.replace("item = 2", "item = 2\nitme = 3"),
            piece.replace("item = 2", "item = \"2\""),
            piece.replace("item = 2", "item = 02"),
            piece.replace("item = 2", "item = 4294967296"),
            piece.replace("甲会", "甲\u{7f}会"),
            piece.replace("\n", "\r"),
        ];
        for (i, case) in refused.iter().enumerate() {
            assert!(plain_certificates(case).is_none(), "case {i}");
        }
        let crlf = piece.replace('\n', "\r\n");
        let plain = plain_certificates(&crlf).map(|c| format!("{c:?}"));
        assert_eq!(plain, toml_certificates(&crlf));
    }

    #[test]
    fn pieces_cut_only_before_certificate_tables_and_keep_every_byte() {
        let text = crate::synthetic::catalog_toml(50, 7);
        let pieces = pieces(&text, 1);
        assert_eq!(pieces.iter().map(|p| p.text).collect::<String>(), text);
        assert_eq!(pieces.len(), 51);
        assert_eq!(pieces[0].certificates, 0);
        assert!(
            pieces[1..]
                .iter()
                .all(|p| p.text.starts_with("[[certificates]]\n") && p.certificates == 1)
        );
    }

    #[test]
    fn pieces_find_the_header_lines_a_line_by_line_reading_finds() {
        /// The cut points and header counts of the first implementation, line by line.
        fn reference(text: &str, piece_bytes: usize) -> Vec<(usize, usize)> {
            let (mut cuts, mut start, mut offset, mut certificates) = (Vec::new(), 0, 0, 0);
            for line in text.split_inclusive('\n') {
                let header = line.trim_end() == "[[certificates]]";
                if header && offset - start >= piece_bytes {
                    cuts.push((offset, certificates));
                    (start, certificates) = (offset, 0);
                }
                certificates += usize::from(header);
                offset += line.len();
            }
            cuts.push((text.len(), certificates));
            cuts
        }
        let text = crate::synthetic::catalog_toml(30, 7)
            .replacen("\n[[certificates]]\n", "\n[[certificates]]  \r\n", 2)
            .replacen("\n[[certificates]]\n", "\n[[certificates]]\u{3000}\n", 1)
            .replacen("\n[[certificates]]\n", "\n [[certificates]]\n", 1)
            .replacen("\n[[certificates]]\n", "\n[[certificates]] x\n", 1)
            .replacen("remark = \"", "remark = \"[[certificates]]", 1)
            + "[[certificates]]";
        for piece_bytes in [1, 300, 2_000] {
            let cuts: Vec<(usize, usize)> = pieces(&text, piece_bytes)
                .iter()
                .map(|p| {
                    (
                        p.text.as_ptr() as usize - text.as_ptr() as usize + p.text.len(),
                        p.certificates,
                    )
                })
                .collect();
            assert_eq!(cuts, reference(&text, piece_bytes), "{piece_bytes}");
        }
    }

    /// `text` less its `[[sections]]` tables (each ends at a blank line).
    fn without_sections(text: &str) -> String {
        let mut skipping = false;
        let mut out = String::new();
        for line in text.lines() {
            skipping = (skipping || line == "[[sections]]") && !line.is_empty();
            if !skipping {
                out.push_str(line);
                out.push('\n');
            }
        }
        assert!(!out.contains("[[sections]]") && out.contains("[[certificates]]"));
        out
    }

    #[test]
    fn what_pieces_cannot_decide_is_left_to_the_whole_file_parse() {
        let text = crate::synthetic::catalog_toml(20, 7);
        let cases = [
            // a key before the first table
            format!("title = \"x\"\n{text}"),
            // [catalog] defined twice, in two pieces
            format!("{text}\n[catalog]\nid = \"b\"\ntitle = \"B\"\njurisdiction = \"J\"\n"),
            // a table where the file has an array of tables
            format!("{text}\n[sections]\nnumber = 9\ntitle = \"x\"\n"),
            // a [[certificates]] line inside a multi-line string
            text.replacen("remark = \"", "remark = \"\"\"\n[[certificates]]\n", 1)
                .replacen("条件。\"\n", "条件。\"\"\"\n", 1),
            // no sections at all
            without_sections(&text),
            // a certificate header written with spaces: the piece holds two certificates
            text.replacen("\n[[certificates]]\n", "\n[[ certificates ]]\n", 3),
        ];
        for (i, case) in cases.iter().enumerate() {
            assert!(parse_by_pieces(case, 1).is_none(), "case {i}");
            // Only the multi-line string is valid TOML; the whole-file parse reads it right.
            assert_eq!(
                toml::from_str::<FileCatalog>(case).is_ok(),
                i == 3 || i == 5,
                "case {i}"
            );
        }
    }

    #[test]
    fn etag_changes_with_content() {
        assert_ne!(etag_of(b"a"), etag_of(b"b"));
        assert_eq!(etag_of(b"a").len(), 24);
    }
}
