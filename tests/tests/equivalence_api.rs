//! EquivalenceService with the embedded catalog: in process, but for the audit log (the binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use certequiv_api::v1::batch_evaluate_response::Outcome;
use certequiv_api::v1::certificate_claim::Claim;
use certequiv_api::v1::{
    ApplicantContext, BasicConditions, CertificateClaim, ClaimResolution, ConditionStatus,
    EvaluateEquivalenceRequest, EvaluateEquivalenceResponse, ListCatalogsRequest, TitleLevel,
    Verdict,
};
use common::process::spawn_app;
use common::{Running, in_process};
use tokio_stream::StreamExt;
use tonic::Code;
use tonic_types::StatusExt;

fn text(text: &str) -> CertificateClaim {
    CertificateClaim {
        claim: Some(Claim::Text(text.to_owned())),
    }
}

fn id(id: &str) -> CertificateClaim {
    CertificateClaim {
        claim: Some(Claim::CertificateId(id.to_owned())),
    }
}

fn request(claims: Vec<CertificateClaim>) -> EvaluateEquivalenceRequest {
    EvaluateEquivalenceRequest {
        claims,
        ..Default::default()
    }
}

/// Every citation quotes its remark verbatim.
fn assert_citations_quote_their_remarks(response: &EvaluateEquivalenceResponse) {
    for condition in &response.conditions {
        let source = condition
            .source
            .as_ref()
            .unwrap_or_else(|| panic!("condition {} has no citation", condition.code));
        assert!(
            !source.quoted.is_empty(),
            "condition {} quotes nothing",
            condition.code
        );
        assert!(
            source.remark.contains(&source.quoted),
            "condition {}: quoted {:?} is not in remark {:?}",
            condition.code,
            source.quoted,
            source.remark
        );
        assert!(
            source.source.is_some(),
            "condition {} has no source ref",
            condition.code
        );
    }
}

#[tokio::test]
async fn fcca_for_a_senior_title_is_not_recognized_with_its_conditions() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    let response = client
        .evaluate_equivalence(EvaluateEquivalenceRequest {
            claims: vec![text("FCCA")],
            applicant: Some(ApplicantContext {
                target_title_level: TitleLevel::Senior as i32,
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();

    assert_eq!(response.verdict(), Verdict::NotRecognized, "{response:#?}");
    assert_eq!(response.highest_title_level(), TitleLevel::AssociateSenior);
    assert_eq!(response.claims.len(), 1);
    assert_eq!(response.claims[0].resolution(), ClaimResolution::Resolved);
    assert_eq!(
        response.claims[0]
            .certificate
            .as_ref()
            .map(|c| c.id.as_str()),
        Some("fcca")
    );

    let find = |code: &str| {
        response
            .conditions
            .iter()
            .find(|c| c.code == code)
            .unwrap_or_else(|| panic!("no {code} condition in {:#?}", response.conditions))
    };
    let domestic = find("DOMESTIC_ACCOUNTING_QUALIFICATION_FOR_HIGHER_TITLE");
    assert_eq!(domestic.status(), ConditionStatus::NotSatisfied);
    assert_eq!(domestic.certificate_id, "fcca");
    let exceeds = find("TARGET_LEVEL_EXCEEDS_CATALOG");
    assert_eq!(exceeds.status(), ConditionStatus::NotSatisfied);
    assert!(
        response
            .conditions
            .iter()
            .any(|c| c.blocking && c.status() == ConditionStatus::NotSatisfied),
        "NOT_RECOGNIZED without a blocking unsatisfied condition"
    );
    assert_citations_quote_their_remarks(&response);
    assert!(!response.explanation_zh.is_empty());
    assert!(!response.explanation_en.is_empty());
}

#[tokio::test]
async fn cfa_with_confirmed_conditions_in_finance_is_recognized() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    let response = client
        .evaluate_equivalence(EvaluateEquivalenceRequest {
            claims: vec![text("CFA")],
            applicant: Some(ApplicantContext {
                basic_conditions: BasicConditions::Confirmed as i32,
                work_field: "金融".to_owned(),
                ..Default::default()
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.verdict(), Verdict::Recognized, "{response:#?}");
    assert_eq!(response.highest_title_level(), TitleLevel::Intermediate);
    assert_eq!(response.claims[0].resolution(), ClaimResolution::Resolved);
    assert_eq!(
        response.claims[0]
            .certificate
            .as_ref()
            .map(|c| c.id.as_str()),
        Some("cfa")
    );
    assert_eq!(response.claims[0].title_level(), TitleLevel::Intermediate);
    assert!(
        response
            .conditions
            .iter()
            .all(|c| c.status() == ConditionStatus::Satisfied),
        "RECOGNIZED with an unsatisfied condition: {:#?}",
        response.conditions
    );
    assert_citations_quote_their_remarks(&response);
}

#[tokio::test]
async fn an_ambiguous_claim_needs_confirmation_and_offers_candidates() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    let response = client
        .evaluate_equivalence(request(vec![text("CPA")]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        response.verdict(),
        Verdict::NeedsConfirmation,
        "{response:#?}"
    );
    let claim = &response.claims[0];
    assert_eq!(claim.resolution(), ClaimResolution::Ambiguous);
    assert!(claim.certificate.is_none());
    let candidates: Vec<&str> = claim
        .candidates
        .iter()
        .map(|c| c.certificate_id.as_str())
        .collect();
    assert!(
        candidates.contains(&"cpa-australia"),
        "candidates: {candidates:?}"
    );
    assert_eq!(response.highest_title_level(), TitleLevel::Unspecified);
}

#[tokio::test]
async fn an_unlisted_certificate_is_not_recognized() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    let response = client
        .evaluate_equivalence(request(vec![text("PMP")]))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.verdict(), Verdict::NotRecognized, "{response:#?}");
    assert_eq!(response.claims[0].resolution(), ClaimResolution::Unresolved);
    assert!(response.claims[0].certificate.is_none());
    assert_eq!(response.highest_title_level(), TitleLevel::Unspecified);
}

#[tokio::test]
async fn an_unknown_certificate_id_is_not_found() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    let status = client
        .evaluate_equivalence(request(vec![id("nope")]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
}

#[tokio::test]
async fn claims_are_required_and_limited_to_50() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;

    let status = client
        .evaluate_equivalence(request(vec![]))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = &details.bad_request().expect("BadRequest").field_violations;
    assert!(
        violations.iter().any(|v| v.field == "claims"),
        "{violations:?}"
    );

    let status = client
        .evaluate_equivalence(request((0..51).map(|_| id("cfa")).collect()))
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::InvalidArgument, "{status:?}");
    let details = status.get_error_details();
    let violations = &details.bad_request().expect("BadRequest").field_violations;
    let claims = violations
        .iter()
        .find(|v| v.field == "claims")
        .unwrap_or_else(|| panic!("no violation on claims: {violations:?}"));
    assert!(
        claims.description.contains("50"),
        "the description does not name the limit: {:?}",
        claims.description
    );

    // 50 is within the limit.
    let response = client
        .evaluate_equivalence(request((0..50).map(|_| id("cfa")).collect()))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.claims.len(), 50);
}

#[tokio::test]
async fn responses_carry_correlation_decision_and_catalog_version() {
    let app = spawn_app();
    let mut client = app.equivalence().await;
    let etag = app
        .certificates()
        .await
        .list_catalogs(ListCatalogsRequest {})
        .await
        .unwrap()
        .into_inner()
        .catalogs
        .first()
        .expect("a catalog")
        .etag
        .clone();

    let mut decisions = Vec::new();
    for correlation_id in ["corr-1", "corr-2"] {
        let response = client
            .evaluate_equivalence(EvaluateEquivalenceRequest {
                correlation_id: correlation_id.to_owned(),
                claims: vec![id("cfa")],
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert_eq!(response.correlation_id, correlation_id);
        assert!(!response.decision_id.is_empty());
        assert_eq!(response.catalog_id, "beijing-attachment-5");
        assert_eq!(response.catalog_etag, etag);
        decisions.push(response.decision_id);
    }
    assert_ne!(decisions[0], decisions[1], "decision ids must be unique");

    // The decision is in the audit log.
    app.wait_for_log(std::time::Duration::from_secs(10), |line| {
        line.contains(&decisions[0]) && line.contains("decision")
    });
}

const BATCH: usize = 10_000;
const MALFORMED: usize = 5_000;

fn batch_item(i: usize) -> EvaluateEquivalenceRequest {
    let claims = match (i, i % 3) {
        (MALFORMED, _) => vec![],
        (_, 0) => vec![id("cfa")],
        (_, 1) => vec![text("FCCA")],
        _ => vec![text("PMP")],
    };
    EvaluateEquivalenceRequest {
        correlation_id: format!("item-{i}"),
        claims,
        ..Default::default()
    }
}

#[tokio::test]
async fn batch_evaluate_streams_10000_items_in_order_with_one_error() {
    let app = in_process::start().await;
    let mut client = app.equivalence().await;
    // Generated lazily: the client pulls items as the server's flow control allows.
    let requests = tokio_stream::iter(0..BATCH).map(batch_item);
    let mut responses = client
        .batch_evaluate(requests)
        .await
        .expect("BatchEvaluate accepted")
        .into_inner();

    let mut received = 0usize;
    let mut errors = Vec::new();
    while let Some(response) = responses
        .message()
        .await
        .unwrap_or_else(|s| panic!("stream failed after {received} responses: {s:?}"))
    {
        let i = received;
        assert_eq!(response.index, i as i64, "out of order");
        assert_eq!(response.correlation_id, format!("item-{i}"));
        match response.outcome {
            Some(Outcome::Error(error)) => {
                assert_eq!(error.code, Code::InvalidArgument as i32);
                assert!(
                    error.field_violations.iter().any(|v| v.field == "claims"),
                    "{error:?}"
                );
                errors.push(i);
            }
            Some(Outcome::Result(result)) => {
                assert_eq!(result.correlation_id, format!("item-{i}"));
                let (verdict, level) = (result.verdict(), result.highest_title_level());
                match i % 3 {
                    0 => assert_eq!(level, TitleLevel::Intermediate, "item {i}"),
                    1 => assert_eq!(level, TitleLevel::AssociateSenior, "item {i}"),
                    _ => {
                        assert_eq!(verdict, Verdict::NotRecognized, "item {i}");
                        assert_eq!(level, TitleLevel::Unspecified, "item {i}");
                    }
                }
            }
            None => panic!("item {i} has no outcome"),
        }
        received += 1;
    }
    assert_eq!(received, BATCH, "every item gets a response");
    assert_eq!(errors, [MALFORMED]);
}
