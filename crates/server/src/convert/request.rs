//! Wire requests into parsed requests: each RPC's request message becomes a typed request of
//! validated domain values (`TryFrom`), or every invalid field as [`Violations`].
//!
//! Parse, don't validate: handlers and the domain never see an unchecked string, an unknown
//! enum number or a negative page size.

use certequiv_api::server::v1 as pb;
use certequiv_domain::equivalence::{self, Applicant, BasicConditions, Claim};
use certequiv_domain::rules::DomesticQualification;
use certequiv_domain::{CertificateFilter, QueryText, TitleLevel};
use certequiv_storage::Selector;
use jiff::civil::Date;

use crate::error::Violations;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const DEFAULT_SEARCH_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;
/// Longest catalog or certificate id accepted before lookup.
const MAX_ID_CHARS: usize = 128;
/// Longest free-text applicant field accepted.
const MAX_TEXT_CHARS: usize = 256;

/// `GetCertificate`: one entry of the chosen catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct GetCertificate {
    pub catalog: Selector,
    /// Not blank; looked up as sent.
    pub id: String,
}

impl TryFrom<pb::GetCertificateRequest> for GetCertificate {
    type Error = Violations;

    fn try_from(raw: pb::GetCertificateRequest) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let catalog = violations.check(selector(&raw.catalog_id, &raw.as_of));
        if raw.id.trim().is_empty() {
            violations.push("id", "must not be empty");
        }
        let Some(catalog) = catalog else {
            return Err(violations);
        };
        violations.into_result(GetCertificate {
            catalog,
            id: raw.id,
        })
    }
}

/// `ListCertificates`: a page of the chosen catalog's entries that pass a filter.
#[derive(Debug, Clone, PartialEq)]
pub struct ListCertificates {
    pub catalog: Selector,
    pub filter: CertificateFilter,
    /// 1 to [`MAX_PAGE_SIZE`].
    pub page_size: usize,
    /// As sent: a token is bound to one catalog version and filter, so it is checked once the
    /// catalog is chosen ([`crate::page_token::resume`]).
    pub page_token: String,
}

impl TryFrom<pb::ListCertificatesRequest> for ListCertificates {
    type Error = Violations;

    fn try_from(raw: pb::ListCertificatesRequest) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let catalog = violations.check(selector(&raw.catalog_id, &raw.as_of));
        let filter = violations.check(filter(raw.filter.as_ref()));
        let page_size = violations.check(page_size(raw.page_size, DEFAULT_PAGE_SIZE));
        let (Some(catalog), Some(filter), Some(page_size)) = (catalog, filter, page_size) else {
            return Err(violations);
        };
        violations.into_result(ListCertificates {
            catalog,
            filter,
            page_size,
            page_token: raw.page_token,
        })
    }
}

/// `SearchCertificates`: the best matches of a query among the chosen catalog's entries.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchCertificates {
    pub query: QueryText,
    pub catalog: Selector,
    pub filter: CertificateFilter,
    /// Most results wanted: 1 to [`MAX_PAGE_SIZE`].
    pub limit: usize,
    pub view: View,
}

/// How much of each certificate a search answer carries (`CertificateView`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    /// The fields a type-ahead list shows: id, names, abbreviations, level, section and item.
    Basic,
    /// Every field, as GetCertificate gives it.
    Full,
}

impl TryFrom<pb::SearchCertificatesRequest> for SearchCertificates {
    type Error = Violations;

    fn try_from(raw: pb::SearchCertificatesRequest) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let query = violations.check(query("query", &raw.query));
        let catalog = violations.check(selector(&raw.catalog_id, &raw.as_of));
        let filter = violations.check(filter(raw.filter.as_ref()));
        let limit = violations.check(page_size(raw.page_size, DEFAULT_SEARCH_SIZE));
        let view = violations.check(view(raw.view));
        let (Some(query), Some(catalog), Some(filter), Some(limit), Some(view)) =
            (query, catalog, filter, limit, view)
        else {
            return Err(violations);
        };
        violations.into_result(SearchCertificates {
            query,
            catalog,
            filter,
            limit,
            view,
        })
    }
}

/// `GetCatalog`: one catalog, by id.
#[derive(Debug, Clone, PartialEq)]
pub struct GetCatalog {
    /// Always [`Selector::Id`].
    pub catalog: Selector,
}

impl TryFrom<pb::GetCatalogRequest> for GetCatalog {
    type Error = Violations;

    fn try_from(raw: pb::GetCatalogRequest) -> Result<Self, Violations> {
        if raw.id.trim().is_empty() {
            return Err(Violations::one("id", "must not be empty"));
        }
        Ok(GetCatalog {
            catalog: Selector::Id(raw.id),
        })
    }
}

/// `EvaluateEquivalence` (and each request of a batch): the claims and what HR knows about the
/// applicant, for the chosen catalog.
///
/// Parsed from a borrowed request: the answer echoes the request's claims and correlation id.
#[derive(Debug, Clone, PartialEq)]
pub struct EvaluateEquivalence {
    pub catalog: Selector,
    /// 1 to [`equivalence::MAX_CLAIMS`], in request order.
    pub claims: Vec<Claim>,
    pub applicant: Applicant,
}

impl TryFrom<&pb::EvaluateEquivalenceRequest> for EvaluateEquivalence {
    type Error = Violations;

    fn try_from(raw: &pb::EvaluateEquivalenceRequest) -> Result<Self, Violations> {
        let mut violations = Violations::new();
        let catalog = violations.check(selector(&raw.catalog_id, &raw.as_of));
        if raw.claims.is_empty() {
            violations.push("claims", "must hold at least one claim");
        }
        if raw.claims.len() > equivalence::MAX_CLAIMS {
            // Not one violation per claim of a request too long to read.
            violations.push(
                "claims",
                format!(
                    "must hold at most {} claims, got {}",
                    equivalence::MAX_CLAIMS,
                    raw.claims.len()
                ),
            );
            return Err(violations);
        }
        if raw.correlation_id.chars().count() > MAX_ID_CHARS {
            violations.push(
                "correlation_id",
                format!("must be at most {MAX_ID_CHARS} characters"),
            );
        }
        let mut claims = Vec::with_capacity(raw.claims.len());
        for (i, raw) in raw.claims.iter().enumerate() {
            claims.extend(violations.check(claim(i, raw)));
        }
        let applicant = violations.check(applicant(raw.applicant.as_ref()));
        let (Some(catalog), Some(applicant)) = (catalog, applicant) else {
            return Err(violations);
        };
        // A claim that did not parse is missing from `claims` and named in `violations`.
        violations.into_result(EvaluateEquivalence {
            catalog,
            claims,
            applicant,
        })
    }
}

/// `catalog_id` wins over `as_of`; neither means the catalog in force today.
fn selector(catalog_id: &str, as_of: &str) -> Result<Selector, Violations> {
    if !catalog_id.is_empty() {
        if catalog_id.chars().count() > MAX_ID_CHARS {
            return Err(Violations::one(
                "catalog_id",
                format!("must be at most {MAX_ID_CHARS} characters"),
            ));
        }
        return Ok(Selector::Id(catalog_id.to_owned()));
    }
    if as_of.is_empty() {
        return Ok(Selector::Default);
    }
    parse_date(as_of).map(Selector::AsOf).ok_or_else(|| {
        Violations::one(
            "as_of",
            format!("{:?} is not a calendar date YYYY-MM-DD", truncate(as_of)),
        )
    })
}

/// A strict `YYYY-MM-DD` calendar date (jiff alone also takes other shapes).
fn parse_date(text: &str) -> Option<Date> {
    let bytes = text.as_bytes();
    let shaped = bytes.len() == 10
        && bytes[4] == b'-'
        && bytes[7] == b'-'
        && bytes
            .iter()
            .enumerate()
            .all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
    if !shaped {
        return None;
    }
    text.parse().ok()
}

/// A client's text, shortened to quote it in a violation.
fn truncate(text: &str) -> String {
    text.chars().take(32).collect()
}

fn query(field: &str, raw: &str) -> Result<QueryText, Violations> {
    QueryText::parse(raw).map_err(|e| Violations::one(field, e.to_string()))
}

/// An optional level on the wire: UNSPECIFIED is `None`, an unknown number is refused.
fn title_level(field: &str, raw: i32) -> Result<Option<TitleLevel>, Violations> {
    match pb::TitleLevel::try_from(raw) {
        Ok(pb::TitleLevel::Unspecified) => Ok(None),
        Ok(pb::TitleLevel::Elementary) => Ok(Some(TitleLevel::Elementary)),
        Ok(pb::TitleLevel::Assistant) => Ok(Some(TitleLevel::Assistant)),
        Ok(pb::TitleLevel::Intermediate) => Ok(Some(TitleLevel::Intermediate)),
        Ok(pb::TitleLevel::AssociateSenior) => Ok(Some(TitleLevel::AssociateSenior)),
        Ok(pb::TitleLevel::Senior) => Ok(Some(TitleLevel::Senior)),
        Err(_) => Err(Violations::one(field, format!("unknown title level {raw}"))),
    }
}

/// UNSPECIFIED is FULL, the whole entry (AIP-157); an unknown number is refused.
fn view(raw: i32) -> Result<View, Violations> {
    match pb::CertificateView::try_from(raw) {
        Ok(pb::CertificateView::Basic) => Ok(View::Basic),
        Ok(pb::CertificateView::Full | pb::CertificateView::Unspecified) => Ok(View::Full),
        Err(_) => Err(Violations::one("view", format!("unknown view {raw}"))),
    }
}

/// No filter is the empty filter; blank texts filter nothing.
fn filter(raw: Option<&pb::CertificateFilter>) -> Result<CertificateFilter, Violations> {
    let Some(raw) = raw else {
        return Ok(CertificateFilter::default());
    };
    let mut violations = Violations::new();
    if raw.section_number < 0 {
        violations.push("filter.section_number", "must not be negative");
    }
    let title_level = violations
        .check(title_level("filter.title_level", raw.title_level))
        .flatten();
    let mut text = |name: &str, value: &str| {
        if value.chars().count() > MAX_TEXT_CHARS {
            violations.push(
                format!("filter.{name}"),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            );
        }
        (!value.trim().is_empty()).then(|| value.trim().to_owned())
    };
    let parsed = CertificateFilter {
        section: (raw.section_number > 0).then_some(raw.section_number as u32),
        title_level,
        field: text("field", &raw.field),
        country_or_region: text("country_or_region", &raw.country_or_region),
        issuer: text("issuer", &raw.issuer),
    };
    violations.into_result(parsed)
}

/// AIP-158: 0 means the default, above the maximum is coerced, negative is an error.
fn page_size(raw: i32, default: usize) -> Result<usize, Violations> {
    match raw {
        n if n < 0 => Err(Violations::one("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok((n as usize).min(MAX_PAGE_SIZE)),
    }
}

/// The `i`th claim of an evaluation.
fn claim(i: usize, raw: &pb::CertificateClaim) -> Result<Claim, Violations> {
    use pb::certificate_claim::Claim as Raw;
    match &raw.claim {
        Some(Raw::CertificateId(id)) if id.trim().is_empty() => Err(Violations::one(
            format!("claims[{i}].certificate_id"),
            "must not be empty",
        )),
        Some(Raw::CertificateId(id)) if id.chars().count() > MAX_ID_CHARS => Err(Violations::one(
            format!("claims[{i}].certificate_id"),
            format!("must be at most {MAX_ID_CHARS} characters"),
        )),
        Some(Raw::CertificateId(id)) => Ok(Claim::CertificateId(id.trim().to_owned())),
        Some(Raw::Text(text)) => QueryText::parse(text)
            .map(Claim::Text)
            .map_err(|e| Violations::one(format!("claims[{i}].text"), e.to_string())),
        None => Err(Violations::one(
            format!("claims[{i}]"),
            "must set certificate_id or text",
        )),
    }
}

/// No applicant context is an applicant of whom nothing is known.
fn applicant(raw: Option<&pb::ApplicantContext>) -> Result<Applicant, Violations> {
    let default_applicant = pb::ApplicantContext::default();
    let raw = raw.unwrap_or(&default_applicant);
    let mut violations = Violations::new();
    if raw.reference.chars().count() > MAX_ID_CHARS {
        violations.push(
            "applicant.reference",
            format!("must be at most {MAX_ID_CHARS} characters"),
        );
    }
    if raw.work_field.chars().count() > MAX_TEXT_CHARS {
        violations.push(
            "applicant.work_field",
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        );
    }
    if raw.work_field.chars().any(char::is_control) {
        violations.push(
            "applicant.work_field",
            "must not contain control characters",
        );
    }
    let target = violations
        .check(title_level(
            "applicant.target_title_level",
            raw.target_title_level,
        ))
        .flatten();
    let basic_conditions = match pb::BasicConditions::try_from(raw.basic_conditions) {
        Ok(pb::BasicConditions::Unspecified) => BasicConditions::Unknown,
        Ok(pb::BasicConditions::Confirmed) => BasicConditions::Confirmed,
        Ok(pb::BasicConditions::NotMet) => BasicConditions::NotMet,
        Err(_) => {
            violations.push(
                "applicant.basic_conditions",
                format!("unknown value {}", raw.basic_conditions),
            );
            BasicConditions::Unknown
        }
    };
    let mut domestic_qualifications = Vec::new();
    for (i, &q) in raw.domestic_qualifications.iter().enumerate() {
        match domestic_qualification(q) {
            Some(q) if !domestic_qualifications.contains(&q) => domestic_qualifications.push(q),
            Some(_) => {}
            None => violations.push(
                format!("applicant.domestic_qualifications[{i}]"),
                format!("unknown or unspecified value {q}"),
            ),
        }
    }
    violations.into_result(Applicant {
        work_field: Some(raw.work_field.trim().to_owned()).filter(|w| !w.is_empty()),
        target,
        basic_conditions,
        domestic_qualifications,
        intends_cpa_practice_in_beijing: raw.intends_cpa_practice_in_beijing,
    })
}

/// A qualification on the wire; UNSPECIFIED and unknown numbers are none.
fn domestic_qualification(raw: i32) -> Option<DomesticQualification> {
    match pb::DomesticQualification::try_from(raw) {
        Ok(pb::DomesticQualification::IntermediateAccounting) => {
            Some(DomesticQualification::IntermediateAccounting)
        }
        Ok(pb::DomesticQualification::SeniorAccounting) => {
            Some(DomesticQualification::SeniorAccounting)
        }
        Ok(pb::DomesticQualification::CicpaExam) => Some(DomesticQualification::CicpaExam),
        Ok(pb::DomesticQualification::BicpaRegistration) => {
            Some(DomesticQualification::BicpaRegistration)
        }
        Ok(pb::DomesticQualification::Unspecified) | Err(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The (field, description) pairs a request is refused with, or none when it parses.
    fn refusal<T>(parsed: Result<T, Violations>) -> Vec<(String, String)> {
        parsed
            .err()
            .map_or_else(Vec::new, |v| v.as_slice().to_vec())
    }

    fn pairs(expected: &[(&str, &str)]) -> Vec<(String, String)> {
        expected
            .iter()
            .map(|(f, d)| ((*f).to_owned(), (*d).to_owned()))
            .collect()
    }

    fn id_claim(id: &str) -> pb::CertificateClaim {
        pb::CertificateClaim {
            claim: Some(pb::certificate_claim::Claim::CertificateId(id.to_owned())),
        }
    }

    fn text_claim(text: &str) -> pb::CertificateClaim {
        pb::CertificateClaim {
            claim: Some(pb::certificate_claim::Claim::Text(text.to_owned())),
        }
    }

    #[test]
    fn page_size_follows_aip_158() {
        assert_eq!(page_size(0, 20).ok(), Some(20));
        assert_eq!(page_size(5, 20).ok(), Some(5));
        assert_eq!(page_size(1000, 20).ok(), Some(MAX_PAGE_SIZE));
        assert!(page_size(-1, 20).is_err());
    }

    #[test]
    fn dates_must_be_strict_calendar_dates() {
        assert!(parse_date("2025-01-31").is_some());
        for bad in [
            "2025-1-31",
            "2025-02-30",
            "20250131",
            "2025-01-31T00:00",
            "tomorrow",
            "",
        ] {
            assert!(parse_date(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn catalog_id_wins_over_as_of_and_neither_is_today() {
        let long_id = "c".repeat(129);
        let table = [
            ("", "", Ok(Selector::Default)),
            ("x", "garbage", Ok(Selector::Id("x".into()))),
            (
                "",
                "2025-06-30",
                Ok(Selector::AsOf(jiff::civil::date(2025, 6, 30))),
            ),
            (
                "",
                "2025-13-01",
                Err(pairs(&[(
                    "as_of",
                    "\"2025-13-01\" is not a calendar date YYYY-MM-DD",
                )])),
            ),
            (
                long_id.as_str(),
                "",
                Err(pairs(&[("catalog_id", "must be at most 128 characters")])),
            ),
        ];
        for (catalog_id, as_of, expected) in table {
            let got = selector(catalog_id, as_of).map_err(|v| v.as_slice().to_vec());
            assert_eq!(got, expected, "{catalog_id:?} {as_of:?}");
        }
    }

    #[test]
    fn unknown_enum_numbers_are_refused() {
        assert!(title_level("f", 99).is_err());
        assert_eq!(
            view(7).map_err(|v| v.as_slice().to_vec()),
            Err(pairs(&[("view", "unknown view 7")]))
        );
        assert_eq!(view(0).ok(), Some(View::Full));
        assert_eq!(
            view(pb::CertificateView::Basic as i32).ok(),
            Some(View::Basic)
        );
        assert_eq!(title_level("f", 0).ok(), Some(None));
        assert_eq!(
            title_level("f", pb::TitleLevel::Senior as i32).ok(),
            Some(Some(TitleLevel::Senior))
        );
    }

    #[test]
    fn get_certificate_requests() {
        let table = [
            (("", "", "cfa"), vec![]),
            (("", "", "  "), pairs(&[("id", "must not be empty")])),
            (
                ("", "someday", ""),
                pairs(&[
                    ("as_of", "\"someday\" is not a calendar date YYYY-MM-DD"),
                    ("id", "must not be empty"),
                ]),
            ),
        ];
        for ((catalog_id, as_of, id), expected) in table {
            let raw = pb::GetCertificateRequest {
                catalog_id: catalog_id.into(),
                as_of: as_of.into(),
                id: id.into(),
            };
            assert_eq!(
                refusal(GetCertificate::try_from(raw.clone())),
                expected,
                "{raw:?}"
            );
        }
        let parsed = GetCertificate::try_from(pb::GetCertificateRequest {
            id: " cfa".into(),
            ..Default::default()
        });
        assert_eq!(
            parsed,
            Ok(GetCertificate {
                catalog: Selector::Default,
                id: " cfa".into()
            })
        );
    }

    #[test]
    fn list_requests_report_every_invalid_field() {
        let raw = pb::ListCertificatesRequest {
            catalog_id: "c".repeat(200),
            page_size: -1,
            filter: Some(pb::CertificateFilter {
                section_number: -2,
                title_level: 42,
                issuer: "i".repeat(300),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert_eq!(
            refusal(ListCertificates::try_from(raw)),
            pairs(&[
                ("catalog_id", "must be at most 128 characters"),
                ("filter.section_number", "must not be negative"),
                ("filter.title_level", "unknown title level 42"),
                ("filter.issuer", "must be at most 256 characters"),
                ("page_size", "must not be negative"),
            ])
        );
        let parsed = ListCertificates::try_from(pb::ListCertificatesRequest {
            page_size: 500,
            page_token: "abc".into(),
            filter: Some(pb::CertificateFilter {
                section_number: 2,
                field: "  金融 ".into(),
                country_or_region: " ".into(),
                ..Default::default()
            }),
            ..Default::default()
        });
        assert_eq!(
            parsed,
            Ok(ListCertificates {
                catalog: Selector::Default,
                filter: CertificateFilter {
                    section: Some(2),
                    field: Some("金融".into()),
                    ..CertificateFilter::default()
                },
                page_size: MAX_PAGE_SIZE,
                page_token: "abc".into(),
            })
        );
    }

    /// What the domain says about a query text (the server passes it on, under the field).
    fn query_error(text: &str) -> String {
        QueryText::parse(text)
            .err()
            .map(|e| e.to_string())
            .unwrap_or_default()
    }

    #[test]
    fn search_requests() {
        let (empty, control) = (query_error(""), query_error("a\u{7}b"));
        let table = [
            ("CFA", 0, "", vec![]),
            ("", 0, "", pairs(&[("query", &empty)])),
            (
                "a\u{7}b",
                -3,
                "1999-02-29",
                pairs(&[
                    ("query", &control),
                    ("as_of", "\"1999-02-29\" is not a calendar date YYYY-MM-DD"),
                    ("page_size", "must not be negative"),
                ]),
            ),
        ];
        for (query, page_size, as_of, expected) in table {
            let raw = pb::SearchCertificatesRequest {
                query: query.into(),
                page_size,
                as_of: as_of.into(),
                ..Default::default()
            };
            assert_eq!(
                refusal(SearchCertificates::try_from(raw)),
                expected,
                "{query:?}"
            );
        }
        let parsed = SearchCertificates::try_from(pb::SearchCertificatesRequest {
            query: " CFA ".into(),
            ..Default::default()
        })
        .map(|s| (s.query.as_str().to_owned(), s.limit, s.view));
        assert_eq!(
            parsed,
            Ok(("CFA".to_owned(), DEFAULT_SEARCH_SIZE, View::Full))
        );
    }

    #[test]
    fn get_catalog_requests() {
        let parsed = GetCatalog::try_from(pb::GetCatalogRequest { id: "bj".into() });
        assert_eq!(
            parsed,
            Ok(GetCatalog {
                catalog: Selector::Id("bj".into())
            })
        );
        assert_eq!(
            refusal(GetCatalog::try_from(pb::GetCatalogRequest {
                id: " ".into()
            })),
            pairs(&[("id", "must not be empty")])
        );
    }

    #[test]
    fn evaluation_requests() {
        let empty_text = query_error("");
        let evaluation =
            |claims: Vec<pb::CertificateClaim>, applicant| pb::EvaluateEquivalenceRequest {
                claims,
                applicant,
                ..Default::default()
            };
        let table = [
            (evaluation(vec![id_claim("cfa")], None), vec![]),
            (
                evaluation(vec![], None),
                pairs(&[("claims", "must hold at least one claim")]),
            ),
            (
                evaluation((0..51).map(|_| text_claim("")).collect(), None),
                pairs(&[("claims", "must hold at most 50 claims, got 51")]),
            ),
            (
                evaluation(
                    vec![
                        id_claim(" "),
                        text_claim(""),
                        pb::CertificateClaim { claim: None },
                        id_claim(&"x".repeat(129)),
                        id_claim("cfa"),
                    ],
                    None,
                ),
                pairs(&[
                    ("claims[0].certificate_id", "must not be empty"),
                    ("claims[1].text", &empty_text),
                    ("claims[2]", "must set certificate_id or text"),
                    ("claims[3].certificate_id", "must be at most 128 characters"),
                ]),
            ),
            (
                evaluation(
                    vec![id_claim("cfa")],
                    Some(pb::ApplicantContext {
                        reference: "r".repeat(129),
                        work_field: "会计\n".into(),
                        target_title_level: 9,
                        basic_conditions: 7,
                        domestic_qualifications: vec![
                            pb::DomesticQualification::CicpaExam as i32,
                            0,
                            99,
                        ],
                        ..Default::default()
                    }),
                ),
                pairs(&[
                    ("applicant.reference", "must be at most 128 characters"),
                    (
                        "applicant.work_field",
                        "must not contain control characters",
                    ),
                    ("applicant.target_title_level", "unknown title level 9"),
                    ("applicant.basic_conditions", "unknown value 7"),
                    (
                        "applicant.domestic_qualifications[1]",
                        "unknown or unspecified value 0",
                    ),
                    (
                        "applicant.domestic_qualifications[2]",
                        "unknown or unspecified value 99",
                    ),
                ]),
            ),
        ];
        for (raw, expected) in table {
            assert_eq!(
                refusal(EvaluateEquivalence::try_from(&raw)),
                expected,
                "{raw:?}"
            );
        }
        let mut raw = evaluation(vec![id_claim("x")], None);
        raw.as_of = "2025-02-30".into();
        raw.correlation_id = "c".repeat(129);
        assert_eq!(
            refusal(EvaluateEquivalence::try_from(&raw)),
            pairs(&[
                ("as_of", "\"2025-02-30\" is not a calendar date YYYY-MM-DD"),
                ("correlation_id", "must be at most 128 characters"),
            ])
        );
    }

    #[test]
    fn an_evaluation_parses_into_domain_values() {
        let raw = pb::EvaluateEquivalenceRequest {
            catalog_id: "bj".into(),
            claims: vec![id_claim(" cfa "), text_claim("ACCA member")],
            applicant: Some(pb::ApplicantContext {
                work_field: " 会计 ".into(),
                target_title_level: pb::TitleLevel::Senior as i32,
                basic_conditions: pb::BasicConditions::Confirmed as i32,
                domestic_qualifications: vec![
                    pb::DomesticQualification::SeniorAccounting as i32,
                    pb::DomesticQualification::SeniorAccounting as i32,
                ],
                intends_cpa_practice_in_beijing: true,
                ..Default::default()
            }),
            ..Default::default()
        };
        let parsed = EvaluateEquivalence::try_from(&raw).map_err(|v| v.to_string());
        let text = QueryText::parse("ACCA member").map_err(|e| e.to_string());
        assert_eq!(
            parsed,
            text.map(|text| EvaluateEquivalence {
                catalog: Selector::Id("bj".into()),
                claims: vec![Claim::CertificateId("cfa".into()), Claim::Text(text)],
                applicant: Applicant {
                    work_field: Some("会计".into()),
                    target: Some(TitleLevel::Senior),
                    basic_conditions: BasicConditions::Confirmed,
                    domestic_qualifications: vec![DomesticQualification::SeniorAccounting],
                    intends_cpa_practice_in_beijing: true,
                },
            })
        );
    }
}
