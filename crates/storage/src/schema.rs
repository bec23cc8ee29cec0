//! The schema of a catalog file: the serde types both file formats (TOML and JSON Lines) read
//! a catalog with, and the JSON Schema generated from them for editors and `taplo`.

use std::borrow::Cow;
use std::fmt;

use certequiv_domain::TitleLevel;
use certequiv_domain::rules::DomesticQualification;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A catalog file: one published list of certificates recognised as equivalent to Chinese
/// professional title levels. Reference: docs/catalog-format.md.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "certequiv catalog file")]
pub(crate) struct FileCatalog<'a> {
    pub(crate) catalog: FileMeta,
    /// The sub-lists of the catalog, at least one.
    #[schemars(length(min = 1))]
    pub(crate) sections: Vec<FileSection>,
    /// The entries of the list, one table per row of the published table.
    #[serde(default, borrow)]
    pub(crate) certificates: Vec<FileCertificate<'a>>,
    /// Real certificates that are NOT on the list, so look-alikes are refused plainly.
    #[serde(default)]
    pub(crate) not_listed: Vec<FileNotListed>,
}

/// Metadata of the whole catalog (one per file).
#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Catalog")]
pub(crate) struct FileMeta {
    /// Stable id: a-z, 0-9 and '-', starting with a letter, at most 63 characters; unique
    /// across all loaded files.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,62}$"))]
    pub(crate) id: String,
    /// The list's title, verbatim.
    #[schemars(length(min = 1))]
    pub(crate) title: String,
    /// Whose list it is, e.g. 北京市.
    #[schemars(length(min = 1))]
    pub(crate) jurisdiction: String,
    /// Where the list comes from, e.g. 附件5; leave out what the source does not state.
    #[serde(default)]
    pub(crate) source: String,
    /// First day in force, "YYYY-MM-DD"; absent: in force since always.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub(crate) effective_from: Option<String>,
    /// Last day in force (inclusive), "YYYY-MM-DD"; absent: open-ended.
    #[serde(default)]
    #[schemars(with = "String", regex(pattern = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"))]
    pub(crate) effective_until: Option<String>,
}

/// A section (sub-list) of the catalog.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Section")]
pub(crate) struct FileSection {
    /// 1-based, unique.
    #[schemars(range(min = 1))]
    pub(crate) number: u32,
    /// As printed, e.g. （一）.
    #[serde(default)]
    pub(crate) ordinal: String,
    /// The heading verbatim, without the ordinal.
    #[schemars(length(min = 1))]
    pub(crate) title: String,
}

/// One entry of the list.
// The strings of a certificate table are borrowed from the file's text (see `Text`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Certificate")]
pub(crate) struct FileCertificate<'a> {
    /// Stable id: a-z, 0-9 and '-', starting with a letter, at most 63 characters; unique in
    /// the file.
    #[serde(borrow)]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,62}$"))]
    pub(crate) id: Text<'a>,
    /// The number of the section the entry is in.
    #[schemars(range(min = 1))]
    pub(crate) section: u32,
    /// The entry's number (序号) in its section; unique within the section.
    #[schemars(range(min = 1))]
    pub(crate) item: u32,
    /// The certificate's name, verbatim.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    pub(crate) name_zh: Text<'a>,
    /// The credential's English name.
    #[serde(default, borrow)]
    pub(crate) name_en: Text<'a>,
    /// Abbreviations; each must name this entry only.
    #[serde(default, borrow)]
    pub(crate) abbreviations: Vec<Text<'a>>,
    /// Other forms applicants type; each must name this entry only.
    #[serde(default, borrow)]
    pub(crate) aliases: Vec<Text<'a>>,
    /// Country or region verbatim; "" where the source leaves it empty.
    #[serde(default, borrow)]
    pub(crate) country_or_region: Text<'a>,
    /// The 领域 column split on 、
    #[serde(default, borrow)]
    pub(crate) fields: Vec<Text<'a>>,
    /// The 从事…相关工作 sentence, verbatim; must occur in `remark`.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    pub(crate) work_scope: Text<'a>,
    /// The title level the certificate corresponds to (初级 is read as 助理级).
    #[serde(borrow)]
    #[schemars(schema_with = "title_level_labels")]
    pub(crate) title_level: Text<'a>,
    /// The 备注 cell, verbatim.
    #[serde(borrow)]
    #[schemars(length(min = 1))]
    pub(crate) remark: Text<'a>,
    /// The issuing bodies, in source order; at least one.
    #[serde(default, borrow)]
    #[schemars(length(min = 1))]
    pub(crate) issuers: Vec<FileIssuer<'a>>,
    /// Rules beyond the basic series requirements, each quoting the remark sentence it rests
    /// on.
    #[serde(default)]
    pub(crate) rules: Vec<FileRule>,
    /// The entry of an earlier catalog this entry replaces, "catalog-id/entry-id".
    #[serde(default, borrow)]
    #[schemars(
        with = "String",
        regex(pattern = r"^[a-z][a-z0-9-]{0,62}/[a-z][a-z0-9-]{0,62}$")
    )]
    pub(crate) supersedes: Option<Text<'a>>,
}

/// An issuing body as the source names it; at least one of the names.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Issuer")]
pub(crate) struct FileIssuer<'a> {
    /// The Chinese name; "" when the source gives none.
    #[serde(default, borrow)]
    pub(crate) name_zh: Text<'a>,
    /// The English name; "" when the source gives none.
    #[serde(default, borrow)]
    pub(crate) name_en: Text<'a>,
}

/// A string of the file, borrowed from its text unless it has escapes. Parsing allocates
/// nothing for it: the catalog's own copy is made when the certificate is translated, and
/// texts that many entries repeat (remarks, issuers, fields) are made once and shared (see
/// `translate::Texts`). Accepts what a `String` field accepts, with the same error message.
#[derive(Debug, Default)]
pub(crate) struct Text<'a>(Cow<'a, str>);

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
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }

    pub(crate) fn into_string(self) -> String {
        self.0.into_owned()
    }
}

/// A rule of an entry. DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE (with `requires`),
/// CICPA_FOR_BEIJING_PRACTICE, MUTUAL_RECOGNITION (with `names` and `note_en`), or any other
/// code for an informational note (with `note_en`).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Rule")]
pub(crate) struct FileRule {
    /// The rule's code, UPPER_SNAKE_CASE.
    #[schemars(regex(pattern = r"^[A-Z0-9_]+$"))]
    pub(crate) code: String,
    /// The remark sentence the rule rests on, verbatim (it must occur in the remark).
    #[schemars(length(min = 1))]
    pub(crate) quote: String,
    /// DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE: the domestic qualifications needed
    /// to apply for a level above the certificate's.
    #[serde(default)]
    #[schemars(schema_with = "qualification_labels")]
    pub(crate) requires: Vec<String>,
    /// MUTUAL_RECOGNITION: the certifications recognised, each as written in `quote`.
    #[serde(default)]
    pub(crate) names: Vec<String>,
    /// The note in English, for notes and mutual recognitions.
    #[serde(default)]
    pub(crate) note_en: String,
}

/// A real certificate that is not on the list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "NotListed")]
pub(crate) struct FileNotListed {
    /// Forms to match: a claim containing every word of one of them is refused with the note.
    #[schemars(length(min = 1))]
    pub(crate) names: Vec<String>,
    /// Why, in Chinese, shown to HR.
    #[serde(default)]
    pub(crate) note_zh: String,
    /// Why, in English, shown to HR.
    #[serde(default)]
    pub(crate) note_en: String,
}

/// The JSON Schema of a TOML catalog file, generated from the types the loader reads the file
/// with (draft 7, which taplo and editors read; no `null`, which TOML lacks).
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
