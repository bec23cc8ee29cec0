//! Domain results into wire answers: plain mappings, one place per type. Catalog entries are
//! encoded once per catalog load ([`certificate`]) and citations are slices of those bytes.

use certequiv_api::server::v1 as pb;
use certequiv_api::v1;
use certequiv_api::{CitedEntry, EncodedCertificate, EncodedCitation, Quoted};
use certequiv_domain::equivalence::{ConditionStatus, Evaluation, Quote, Resolution, Verdict};
use certequiv_domain::search::{MatchKind, SearchHit, SearchOutcome};
use certequiv_domain::{Catalog, Certificate, CertificateFilter, TitleLevel};
use certequiv_storage::{CatalogSet, History, LoadedCatalog, ReloadStatus, Version};
use jiff::civil::Date;

use crate::convert::request::View;
use crate::page_token;

pub fn title_level(level: TitleLevel) -> pb::TitleLevel {
    match level {
        TitleLevel::Elementary => pb::TitleLevel::Elementary,
        TitleLevel::Assistant => pb::TitleLevel::Assistant,
        TitleLevel::Intermediate => pb::TitleLevel::Intermediate,
        TitleLevel::AssociateSenior => pb::TitleLevel::AssociateSenior,
        TitleLevel::Senior => pb::TitleLevel::Senior,
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

/// The BASIC view of an entry (`CERTIFICATE_VIEW_BASIC`): what a type-ahead list shows and
/// picks by; encoded per answer, it is a few dozen bytes.
fn basic_certificate(cert: &Certificate) -> v1::Certificate {
    v1::Certificate {
        id: cert.id.clone(),
        name_zh: cert.name_zh.clone(),
        name_en: cert.name_en.clone(),
        abbreviations: cert.abbreviations.clone(),
        title_level: title_level(cert.title_level) as i32,
        source: Some(pb::SourceRef {
            section_number: cert.section as i32,
            item_number: cert.item as i32,
            ..Default::default()
        }),
        ..Default::default()
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

/// A page of the entries of `loaded` that pass `filter`, with the token of the next page.
pub fn certificate_page(
    loaded: &LoadedCatalog,
    filter: &CertificateFilter,
    page: Vec<usize>,
    next: Option<usize>,
) -> pb::ListCertificatesResponse {
    let catalog = &loaded.catalog;
    pb::ListCertificatesResponse {
        certificates: page
            .into_iter()
            .filter_map(|i| certificate(loaded, i))
            .collect(),
        next_page_token: next
            .map(|offset| page_token::issue(catalog, filter, offset))
            .unwrap_or_default(),
        catalog_id: catalog.id().to_owned(),
        catalog_etag: catalog.etag().to_owned(),
    }
}

/// The catalogs loaded, which one answers requests that name none, and how the last reload
/// went.
pub fn catalogs(
    set: &CatalogSet,
    default: Option<&LoadedCatalog>,
    status: ReloadStatus,
) -> pb::ListCatalogsResponse {
    pb::ListCatalogsResponse {
        catalogs: set.catalogs().iter().map(|c| catalog(c)).collect(),
        default_catalog_id: default
            .map(|c| c.catalog.id().to_owned())
            .unwrap_or_default(),
        last_reload: Some(pb::ReloadStatus {
            ok: status.ok,
            attempted_at: status
                .attempted_at
                .map(|t| t.to_string())
                .unwrap_or_default(),
            error: status.error,
            failures_total: status.failures_total as i64,
        }),
    }
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
    view: View,
) -> pb::SearchCertificatesResponse {
    pb::SearchCertificatesResponse {
        results: outcome
            .hits
            .iter()
            .map(|hit| search_result(hit, loaded, view))
            .collect(),
        ambiguous: outcome.ambiguous,
        catalog_id: loaded.catalog.id().to_owned(),
        catalog_etag: loaded.catalog.etag().to_owned(),
    }
}

fn search_result(hit: &SearchHit, loaded: &LoadedCatalog, view: View) -> pb::SearchResult {
    let cert = &loaded.catalog.certificates()[hit.cert];
    pb::SearchResult {
        certificate: match view {
            View::Full => certificate(loaded, hit.cert),
            View::Basic => Some(EncodedCertificate::new(&basic_certificate(cert))),
        },
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
    use certequiv_domain::equivalence;

    use super::*;
    use crate::convert::request::EvaluateEquivalence;

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
            let parsed = EvaluateEquivalence::try_from(&request).expect("valid request");
            let evaluation = equivalence::evaluate(catalog, &parsed.claims, &parsed.applicant)
                .expect("the entry exists");
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
}
