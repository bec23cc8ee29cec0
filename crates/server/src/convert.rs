//! Conversions between `certequiv.v1` wire types and the domain, one place per type.
//!
//! Wire input becomes validated domain values here (parse, don't validate), so handlers and
//! the domain never see an unchecked string, an unknown enum number or a negative page size.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use certequiv_api::server::v1 as pb;
use certequiv_api::v1;
use certequiv_api::{CitedEntry, EncodedCertificate, EncodedCitation, Quoted};
use certequiv_domain::equivalence::{
    self, Applicant, BasicConditions, Claim, ConditionStatus, Evaluation, Quote, Resolution,
    Verdict,
};
use certequiv_domain::rules::DomesticQualification;
use certequiv_domain::search::{MatchKind, SearchHit, SearchOutcome};
use certequiv_domain::{Catalog, Certificate, CertificateFilter, QueryText, TitleLevel};
use certequiv_storage::{History, LoadedCatalog, Selector, Version};
use jiff::civil::Date;
use sha2::{Digest, Sha256};

use crate::error::ApiError;

pub const DEFAULT_PAGE_SIZE: usize = 20;
pub const DEFAULT_SEARCH_SIZE: usize = 10;
pub const MAX_PAGE_SIZE: usize = 100;
/// Longest catalog or certificate id accepted before lookup.
const MAX_ID_CHARS: usize = 128;
/// Longest free-text applicant field accepted.
const MAX_TEXT_CHARS: usize = 256;

pub fn title_level(level: TitleLevel) -> pb::TitleLevel {
    match level {
        TitleLevel::Elementary => pb::TitleLevel::Elementary,
        TitleLevel::Assistant => pb::TitleLevel::Assistant,
        TitleLevel::Intermediate => pb::TitleLevel::Intermediate,
        TitleLevel::AssociateSenior => pb::TitleLevel::AssociateSenior,
        TitleLevel::Senior => pb::TitleLevel::Senior,
    }
}

/// An optional level on the wire: UNSPECIFIED is `None`, an unknown number is refused.
pub fn parse_title_level(field: &str, raw: i32) -> Result<Option<TitleLevel>, ApiError> {
    match pb::TitleLevel::try_from(raw) {
        Ok(pb::TitleLevel::Unspecified) => Ok(None),
        Ok(pb::TitleLevel::Elementary) => Ok(Some(TitleLevel::Elementary)),
        Ok(pb::TitleLevel::Assistant) => Ok(Some(TitleLevel::Assistant)),
        Ok(pb::TitleLevel::Intermediate) => Ok(Some(TitleLevel::Intermediate)),
        Ok(pb::TitleLevel::AssociateSenior) => Ok(Some(TitleLevel::AssociateSenior)),
        Ok(pb::TitleLevel::Senior) => Ok(Some(TitleLevel::Senior)),
        Err(_) => Err(ApiError::invalid(
            field,
            format!("unknown title level {raw}"),
        )),
    }
}

pub fn match_kind(kind: MatchKind) -> pb::MatchKind {
    match kind {
        MatchKind::Exact => pb::MatchKind::Exact,
        MatchKind::Abbreviation => pb::MatchKind::Abbreviation,
        MatchKind::Alias => pb::MatchKind::Alias,
        MatchKind::Partial => pb::MatchKind::Partial,
        MatchKind::Fuzzy => pb::MatchKind::Fuzzy,
    }
}

fn source_ref(cert: &Certificate, catalog: &Catalog) -> pb::SourceRef {
    pb::SourceRef {
        catalog_id: catalog.id().to_owned(),
        section_number: cert.section as i32,
        section_title: catalog
            .section(cert.section)
            .map(|s| s.title.clone())
            .unwrap_or_default(),
        item_number: cert.item as i32,
        catalog_etag: catalog.etag().to_owned(),
        catalog_source: catalog.meta().source.clone(),
    }
}

fn version(version: &Version) -> v1::CertificateVersion {
    let details = version.details.as_ref();
    let day = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    v1::CertificateVersion {
        catalog_id: version.entry.catalog_id.clone(),
        certificate_id: version.entry.certificate_id.clone(),
        loaded: details.is_some(),
        name_zh: details.map(|d| d.name_zh.clone()).unwrap_or_default(),
        title_level: details.map_or(pb::TitleLevel::Unspecified, |d| title_level(d.title_level))
            as i32,
        catalog_effective_from: day(details.and_then(|d| d.effective_from)),
        catalog_effective_until: day(details.and_then(|d| d.effective_until)),
    }
}

/// The wire form of a catalog entry (`certequiv.v1.Certificate`), with its history across the
/// editions loaded.
fn certificate_message(
    cert: &Certificate,
    catalog: &Catalog,
    history: Option<&History>,
) -> v1::Certificate {
    let mut issuers = cert.issuers.iter().map(|i| v1::Issuer {
        name_zh: i.name_zh.to_string(),
        name_en: i.name_en.to_string(),
    });
    v1::Certificate {
        id: cert.id.clone(),
        name_zh: cert.name_zh.clone(),
        name_en: cert.name_en.clone(),
        abbreviations: cert.abbreviations.clone(),
        aliases: cert.aliases.clone(),
        issuer: issuers.next(),
        additional_issuers: issuers.collect(),
        country_or_region: cert.country_or_region.to_string(),
        fields: cert.fields.iter().map(|f| f.to_string()).collect(),
        work_scope: cert.work_scope.to_string(),
        title_level: title_level(cert.title_level) as i32,
        remark: cert.remark.to_string(),
        source: Some(source_ref(cert, catalog)),
        supersedes: history.map_or(Vec::new(), |h| h.supersedes.iter().map(version).collect()),
        superseded_by: history.map_or(Vec::new(), |h| {
            h.superseded_by.iter().map(version).collect()
        }),
    }
}

/// The certificate at `position` of the loaded catalog, encoded once per catalog load.
pub fn certificate(loaded: &LoadedCatalog, position: usize) -> Option<EncodedCertificate> {
    let cert = loaded.catalog.certificates().get(position)?;
    Some(EncodedCertificate(loaded.encoded(position, || {
        let history = loaded.history(position);
        EncodedCertificate::new(&certificate_message(cert, &loaded.catalog, history)).0
    })))
}

pub fn catalog(loaded: &LoadedCatalog) -> pb::Catalog {
    let catalog = &loaded.catalog;
    let meta = catalog.meta();
    pb::Catalog {
        id: meta.id.clone(),
        title: meta.title.clone(),
        jurisdiction: meta.jurisdiction.clone(),
        source: meta.source.clone(),
        sections: catalog
            .sections()
            .iter()
            .map(|s| pb::SectionSummary {
                number: s.number as i32,
                ordinal: s.ordinal.clone(),
                title: s.title.clone(),
                certificate_count: catalog.section_count(s.number) as i32,
            })
            .collect(),
        certificate_count: catalog.certificates().len() as i32,
        etag: catalog.etag().to_owned(),
        effective_from: meta
            .effective_from
            .map(|d| d.to_string())
            .unwrap_or_default(),
        effective_until: meta
            .effective_until
            .map(|d| d.to_string())
            .unwrap_or_default(),
        origin: loaded.origin.clone(),
    }
}

/// The answer to a search of `loaded`: its hits, in rank order.
pub fn search_response(
    outcome: &SearchOutcome,
    loaded: &LoadedCatalog,
) -> pb::SearchCertificatesResponse {
    pb::SearchCertificatesResponse {
        results: outcome
            .hits
            .iter()
            .map(|hit| search_result(hit, loaded))
            .collect(),
        ambiguous: outcome.ambiguous,
        catalog_id: loaded.catalog.id().to_owned(),
        catalog_etag: loaded.catalog.etag().to_owned(),
    }
}

fn search_result(hit: &SearchHit, loaded: &LoadedCatalog) -> pb::SearchResult {
    let cert = &loaded.catalog.certificates()[hit.cert];
    pb::SearchResult {
        certificate: certificate(loaded, hit.cert),
        score: hit.score,
        match_kind: match_kind(hit.kind) as i32,
        matched_field: hit.field.as_str().to_owned(),
        matched_text: hit.field.text(cert).to_owned(),
        highlights: hit
            .highlights
            .iter()
            .map(|&(start, end)| pb::TextSpan {
                start: start as i32,
                end: end as i32,
            })
            .collect(),
    }
}

/// `catalog_id` wins over `as_of`; neither means the catalog in force today.
pub fn selector(catalog_id: &str, as_of: &str, prefix: &str) -> Result<Selector, ApiError> {
    if !catalog_id.is_empty() {
        if catalog_id.chars().count() > MAX_ID_CHARS {
            return Err(ApiError::invalid(
                format!("{prefix}catalog_id"),
                format!("must be at most {MAX_ID_CHARS} characters"),
            ));
        }
        return Ok(Selector::Id(catalog_id.to_owned()));
    }
    if as_of.is_empty() {
        return Ok(Selector::Default);
    }
    parse_date(as_of).map(Selector::AsOf).ok_or_else(|| {
        ApiError::invalid(
            format!("{prefix}as_of"),
            format!("{:?} is not a calendar date YYYY-MM-DD", truncate(as_of)),
        )
    })
}

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

fn truncate(text: &str) -> String {
    text.chars().take(32).collect()
}

pub fn filter(raw: Option<&pb::CertificateFilter>) -> Result<CertificateFilter, ApiError> {
    let Some(raw) = raw else {
        return Ok(CertificateFilter::default());
    };
    let mut violations = Vec::new();
    if raw.section_number < 0 {
        violations.push((
            "filter.section_number".to_owned(),
            "must not be negative".to_owned(),
        ));
    }
    let title_level = match parse_title_level("filter.title_level", raw.title_level) {
        Ok(level) => level,
        Err(e) => {
            violations.extend(e.field_violations().iter().cloned());
            None
        }
    };
    let text = |name: &str, value: &str, violations: &mut Vec<(String, String)>| {
        if value.chars().count() > MAX_TEXT_CHARS {
            violations.push((
                format!("filter.{name}"),
                format!("must be at most {MAX_TEXT_CHARS} characters"),
            ));
        }
        (!value.trim().is_empty()).then(|| value.trim().to_owned())
    };
    let parsed = CertificateFilter {
        section: (raw.section_number > 0).then_some(raw.section_number as u32),
        title_level,
        field: text("field", &raw.field, &mut violations),
        country_or_region: text("country_or_region", &raw.country_or_region, &mut violations),
        issuer: text("issuer", &raw.issuer, &mut violations),
    };
    if violations.is_empty() {
        Ok(parsed)
    } else {
        Err(ApiError::InvalidArgument(violations))
    }
}

/// AIP-158: 0 means the default, above the maximum is coerced, negative is an error.
pub fn page_size(raw: i32, default: usize) -> Result<usize, ApiError> {
    match raw {
        n if n < 0 => Err(ApiError::invalid("page_size", "must not be negative")),
        0 => Ok(default),
        n => Ok((n as usize).min(MAX_PAGE_SIZE)),
    }
}

/// Page tokens bind the position to the catalog version and filter they were issued for, so a
/// token replayed against other data is refused instead of silently skipping entries.
pub fn page_token(catalog: &Catalog, filter: &CertificateFilter, offset: usize) -> String {
    let raw = format!(
        "v1|{}|{}|{}|{offset}",
        catalog.id(),
        catalog.etag(),
        filter_hash(filter)
    );
    URL_SAFE_NO_PAD.encode(raw)
}

pub fn parse_page_token(
    token: &str,
    catalog: &Catalog,
    filter: &CertificateFilter,
) -> Result<usize, ApiError> {
    if token.is_empty() {
        return Ok(0);
    }
    let invalid = |why: &str| ApiError::invalid("page_token", why.to_owned());
    let bytes = URL_SAFE_NO_PAD
        .decode(token.as_bytes())
        .map_err(|_| invalid("is not a token issued by this service"))?;
    let text =
        String::from_utf8(bytes).map_err(|_| invalid("is not a token issued by this service"))?;
    let parts: Vec<&str> = text.split('|').collect();
    let [version, catalog_id, etag, hash, offset] = parts.as_slice() else {
        return Err(invalid("is not a token issued by this service"));
    };
    if *version != "v1" {
        return Err(invalid("is not a token issued by this service"));
    }
    if *catalog_id != catalog.id() || *etag != catalog.etag() {
        return Err(invalid(
            "was issued for another catalog or catalog version; start from the first page",
        ));
    }
    if *hash != filter_hash(filter) {
        return Err(invalid(
            "was issued for another filter; keep the filter unchanged between pages",
        ));
    }
    offset
        .parse::<usize>()
        .ok()
        .filter(|&o| o <= catalog.certificates().len())
        .ok_or_else(|| invalid("is not a token issued by this service"))
}

fn filter_hash(filter: &CertificateFilter) -> String {
    let digest = Sha256::digest(format!("{filter:?}").as_bytes());
    digest[..6].iter().map(|b| format!("{b:02x}")).collect()
}

pub fn query(raw: &str, field: &str) -> Result<QueryText, ApiError> {
    QueryText::parse(raw).map_err(|e| ApiError::invalid(field, e.to_string()))
}

/// Validates an evaluation request into the domain's claims and applicant.
pub fn evaluation_input(
    request: &pb::EvaluateEquivalenceRequest,
) -> Result<(Vec<Claim>, Applicant), ApiError> {
    let mut violations: Vec<(String, String)> = Vec::new();
    if request.claims.is_empty() {
        violations.push(("claims".into(), "must hold at least one claim".into()));
    }
    if request.claims.len() > equivalence::MAX_CLAIMS {
        violations.push((
            "claims".into(),
            format!(
                "must hold at most {} claims, got {}",
                equivalence::MAX_CLAIMS,
                request.claims.len()
            ),
        ));
        return Err(ApiError::InvalidArgument(violations));
    }
    if request.correlation_id.chars().count() > MAX_ID_CHARS {
        violations.push((
            "correlation_id".into(),
            format!("must be at most {MAX_ID_CHARS} characters"),
        ));
    }
    let mut claims = Vec::with_capacity(request.claims.len());
    for (i, claim) in request.claims.iter().enumerate() {
        match &claim.claim {
            Some(pb::certificate_claim::Claim::CertificateId(id)) if !id.trim().is_empty() => {
                if id.chars().count() > MAX_ID_CHARS {
                    violations.push((
                        format!("claims[{i}].certificate_id"),
                        format!("must be at most {MAX_ID_CHARS} characters"),
                    ));
                } else {
                    claims.push(Claim::CertificateId(id.trim().to_owned()));
                }
            }
            Some(pb::certificate_claim::Claim::CertificateId(_)) => violations.push((
                format!("claims[{i}].certificate_id"),
                "must not be empty".into(),
            )),
            Some(pb::certificate_claim::Claim::Text(text)) => match QueryText::parse(text) {
                Ok(text) => claims.push(Claim::Text(text)),
                Err(e) => violations.push((format!("claims[{i}].text"), e.to_string())),
            },
            None => violations.push((
                format!("claims[{i}]"),
                "must set certificate_id or text".into(),
            )),
        }
    }
    let default_applicant = pb::ApplicantContext::default();
    let raw = request.applicant.as_ref().unwrap_or(&default_applicant);
    if raw.reference.chars().count() > MAX_ID_CHARS {
        violations.push((
            "applicant.reference".into(),
            format!("must be at most {MAX_ID_CHARS} characters"),
        ));
    }
    if raw.work_field.chars().count() > MAX_TEXT_CHARS {
        violations.push((
            "applicant.work_field".into(),
            format!("must be at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    if raw.work_field.chars().any(char::is_control) {
        violations.push((
            "applicant.work_field".into(),
            "must not contain control characters".into(),
        ));
    }
    let target = parse_title_level("applicant.target_title_level", raw.target_title_level)
        .unwrap_or_else(|e| {
            violations.extend(e.field_violations().iter().cloned());
            None
        });
    let basic_conditions = match pb::BasicConditions::try_from(raw.basic_conditions) {
        Ok(pb::BasicConditions::Unspecified) => BasicConditions::Unknown,
        Ok(pb::BasicConditions::Confirmed) => BasicConditions::Confirmed,
        Ok(pb::BasicConditions::NotMet) => BasicConditions::NotMet,
        Err(_) => {
            violations.push((
                "applicant.basic_conditions".into(),
                format!("unknown value {}", raw.basic_conditions),
            ));
            BasicConditions::Unknown
        }
    };
    let mut domestic_qualifications = Vec::new();
    for (i, &q) in raw.domestic_qualifications.iter().enumerate() {
        let parsed = match pb::DomesticQualification::try_from(q) {
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
        };
        match parsed {
            Some(q) if !domestic_qualifications.contains(&q) => domestic_qualifications.push(q),
            Some(_) => {}
            None => violations.push((
                format!("applicant.domestic_qualifications[{i}]"),
                format!("unknown or unspecified value {q}"),
            )),
        }
    }
    if !violations.is_empty() {
        return Err(ApiError::InvalidArgument(violations));
    }
    let applicant = Applicant {
        work_field: Some(raw.work_field.trim().to_owned()).filter(|w| !w.is_empty()),
        target,
        basic_conditions,
        domestic_qualifications,
        intends_cpa_practice_in_beijing: raw.intends_cpa_practice_in_beijing,
    };
    Ok((claims, applicant))
}

fn verdict(verdict: Verdict) -> pb::Verdict {
    match verdict {
        Verdict::Recognized => pb::Verdict::Recognized,
        Verdict::RecognizedWithConditions => pb::Verdict::RecognizedWithConditions,
        Verdict::NeedsConfirmation => pb::Verdict::NeedsConfirmation,
        Verdict::NotRecognized => pb::Verdict::NotRecognized,
    }
}

fn condition_status(status: ConditionStatus) -> pb::ConditionStatus {
    match status {
        ConditionStatus::Satisfied => pb::ConditionStatus::Satisfied,
        ConditionStatus::NotSatisfied => pb::ConditionStatus::NotSatisfied,
        ConditionStatus::ToVerify => pb::ConditionStatus::ToVerify,
    }
}

fn resolution(resolution: Resolution) -> pb::ClaimResolution {
    match resolution {
        Resolution::Resolved => pb::ClaimResolution::Resolved,
        Resolution::Ambiguous => pb::ClaimResolution::Ambiguous,
        Resolution::Unresolved => pb::ClaimResolution::Unresolved,
    }
}

/// The wire form of what a citation quotes.
fn quoted(quote: &Quote) -> Quoted<'static> {
    match quote {
        Quote::WorkScope => Quoted::WorkScope,
        Quote::Remark(range) => Quoted::Remark(range.clone()),
    }
}

/// Citations for one answer, sliced from the encoded bytes of the entries they cite. Conditions
/// and notes come grouped by entry, so the last entry's parts are kept.
struct Citations<'l> {
    loaded: &'l LoadedCatalog,
    last: Option<(usize, CitedEntry)>,
}

impl<'l> Citations<'l> {
    fn new(loaded: &'l LoadedCatalog) -> Citations<'l> {
        Citations { loaded, last: None }
    }

    /// A citation of `quote` from the entry at `position`.
    fn of(&mut self, position: usize, quote: &Quote) -> EncodedCitation {
        let catalog = &self.loaded.catalog;
        let cert = &catalog.certificates()[position];
        if self.last.as_ref().is_none_or(|(at, _)| *at != position) {
            // `quoted` gives offsets into `cert.remark`: use the encoded parts only when they
            // are that very text (a memcmp once per entry), so an offset cannot land elsewhere.
            self.last = certificate(self.loaded, position)
                .and_then(|encoded| encoded.cited())
                .filter(|cited| {
                    cited.remark() == cert.remark.as_bytes()
                        && cited.work_scope() == cert.work_scope.as_bytes()
                })
                .map(|cited| (position, cited));
        }
        self.last
            .as_ref()
            .and_then(|(_, cited)| cited.citation(quoted(quote)))
            .unwrap_or_else(|| {
                EncodedCitation::new(&v1::Citation {
                    source: Some(source_ref(cert, catalog)),
                    remark: cert.remark.to_string(),
                    quoted: quote.text(cert).to_owned(),
                })
            })
    }
}

pub fn evaluation(
    request: pb::EvaluateEquivalenceRequest,
    evaluation: Evaluation,
    loaded: &LoadedCatalog,
    decision_id: String,
) -> pb::EvaluateEquivalenceResponse {
    let catalog = &loaded.catalog;
    let certs = catalog.certificates();
    let claims = request
        .claims
        .into_iter()
        .zip(evaluation.claims)
        .map(|(claim, outcome)| {
            let cert = outcome.cert.map(|i| &certs[i]);
            pb::ClaimResult {
                claim: Some(claim),
                resolution: resolution(outcome.resolution) as i32,
                certificate: outcome.cert.and_then(|i| certificate(loaded, i)),
                match_kind: outcome.kind.map_or(pb::MatchKind::Unspecified, match_kind) as i32,
                score: outcome.score,
                candidates: outcome
                    .candidates
                    .iter()
                    .map(|c| {
                        let cert = &certs[c.cert];
                        pb::Candidate {
                            certificate_id: cert.id.clone(),
                            name_zh: cert.name_zh.clone(),
                            name_en: cert.name_en.clone(),
                            score: c.score,
                            match_kind: match_kind(c.kind) as i32,
                            title_level: title_level(cert.title_level) as i32,
                        }
                    })
                    .collect(),
                title_level: cert
                    .map_or(pb::TitleLevel::Unspecified, |c| title_level(c.title_level))
                    as i32,
                reason_zh: outcome.reason_zh,
                reason_en: outcome.reason_en,
            }
        })
        .collect();
    let mut citations = Citations::new(loaded);
    pb::EvaluateEquivalenceResponse {
        correlation_id: request.correlation_id,
        decision_id,
        catalog_id: catalog.id().to_owned(),
        catalog_etag: catalog.etag().to_owned(),
        verdict: verdict(evaluation.verdict) as i32,
        highest_title_level: evaluation
            .highest_level
            .map_or(pb::TitleLevel::Unspecified, title_level) as i32,
        claims,
        conditions: evaluation
            .conditions
            .into_iter()
            .map(|c| {
                let cert = &certs[c.cert];
                pb::Condition {
                    code: c.code.to_owned(),
                    description_zh: c.description_zh,
                    description_en: c.description_en,
                    status: condition_status(c.status) as i32,
                    certificate_id: cert.id.clone(),
                    source: Some(citations.of(c.cert, &c.quote)),
                    blocking: c.blocking,
                }
            })
            .collect(),
        notes: evaluation
            .notes
            .into_iter()
            .map(|n| {
                let cert = &certs[n.cert];
                pb::Note {
                    code: n.code.to_owned(),
                    text_zh: n.text_zh.to_owned(),
                    text_en: n.text_en.to_owned(),
                    certificate_id: cert.id.clone(),
                    source: Some(citations.of(n.cert, &n.quote)),
                }
            })
            .collect(),
        explanation_zh: evaluation.explanation_zh,
        explanation_en: evaluation.explanation_en,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded catalog, and requests for it: each entry claimed alone, each next to the
    /// entry after it (and itself again), and a claim that is only mutually recognised with an
    /// entry; each with a plain applicant and one that triggers the entries' rules.
    fn embedded_requests() -> (LoadedCatalog, Vec<pb::EvaluateEquivalenceRequest>) {
        let loaded = certequiv_storage::load_text("embedded", certequiv_storage::EMBEDDED_CATALOG)
            .expect("the embedded catalog loads");
        let applicants = [
            v1::ApplicantContext::default(),
            v1::ApplicantContext {
                work_field: "会计".into(),
                target_title_level: v1::TitleLevel::Senior as i32,
                intends_cpa_practice_in_beijing: true,
                ..Default::default()
            },
        ];
        let id = |id: &str| v1::CertificateClaim {
            claim: Some(v1::certificate_claim::Claim::CertificateId(id.to_owned())),
        };
        let text = |text: &str| v1::CertificateClaim {
            claim: Some(v1::certificate_claim::Claim::Text(text.to_owned())),
        };
        let certs = loaded.catalog.certificates();
        let mut claim_sets: Vec<Vec<v1::CertificateClaim>> =
            certs.iter().map(|c| vec![id(&c.id)]).collect();
        claim_sets.extend(
            certs
                .windows(2)
                .map(|pair| vec![id(&pair[0].id), id(&pair[1].id), id(&pair[0].id)]),
        );
        claim_sets.push(vec![text("CICE"), id(&certs[0].id)]);
        let requests = claim_sets
            .iter()
            .flat_map(|claims| {
                applicants
                    .iter()
                    .map(|applicant| pb::EvaluateEquivalenceRequest {
                        claims: claims.clone(),
                        applicant: Some(applicant.clone()),
                        ..Default::default()
                    })
            })
            .collect();
        (loaded, requests)
    }

    #[test]
    fn citations_sliced_from_encoded_entries_carry_the_domain_quotes() {
        let mut cited = 0;
        let mut kinds = std::collections::HashSet::<std::mem::Discriminant<Quote>>::new();
        let mut citing_several = 0;
        let (loaded, requests) = embedded_requests();
        let catalog = &loaded.catalog;
        for request in requests {
            let (claims, applicant) = evaluation_input(&request).expect("valid request");
            let evaluation =
                equivalence::evaluate(catalog, &claims, &applicant).expect("the entry exists");
            let expected: Vec<v1::Citation> = evaluation
                .conditions
                .iter()
                .map(|c| (c.cert, &c.quote))
                .chain(evaluation.notes.iter().map(|n| (n.cert, &n.quote)))
                .map(|(i, quote)| {
                    let cert = &catalog.certificates()[i];
                    kinds.insert(std::mem::discriminant(quote));
                    v1::Citation {
                        source: Some(source_ref(cert, catalog)),
                        remark: cert.remark.to_string(),
                        quoted: quote.text(cert).to_owned(),
                    }
                })
                .collect();
            let answer = super::evaluation(request, evaluation, &loaded, "decision".into());
            let wire = prost::Message::encode_to_vec(&answer);
            let answer =
                <v1::EvaluateEquivalenceResponse as prost::Message>::decode(wire.as_slice())
                    .expect("the answer decodes");
            // The bytes are what the client's own types would have sent.
            assert_eq!(prost::Message::encode_to_vec(&answer), wire);
            let got: Vec<v1::Citation> = answer
                .conditions
                .into_iter()
                .map(|c| c.source.unwrap_or_default())
                .chain(
                    answer
                        .notes
                        .into_iter()
                        .map(|n| n.source.unwrap_or_default()),
                )
                .collect();
            assert_eq!(got, expected);
            cited += got.len();
            let entries: std::collections::HashSet<_> = got
                .iter()
                .map(|c| c.source.as_ref().map(|s| (s.section_number, s.item_number)))
                .collect();
            citing_several += usize::from(entries.len() > 1);
        }
        // Basic and work-field conditions for each of 33 entries and 2 applicants, and more.
        assert!(cited > 4 * 33, "only {cited} citations checked");
        assert!(
            citing_several > 32,
            "only {citing_several} answers cite several entries"
        );
        assert_eq!(kinds.len(), 2, "remark slices and work scopes both cited");
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
        assert!(matches!(
            selector("", "2025-13-01", ""),
            Err(ApiError::InvalidArgument(_))
        ));
        assert_eq!(
            selector("x", "garbage", "").ok(),
            Some(Selector::Id("x".into()))
        );
    }

    #[test]
    fn unknown_enum_numbers_are_refused() {
        assert!(parse_title_level("f", 99).is_err());
        assert_eq!(parse_title_level("f", 0).ok(), Some(None));
    }
}
