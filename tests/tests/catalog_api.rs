//! CertificateService, health and reflection with the embedded catalog (北京 附件5, 33
//! certificates in 3 sections): in process, but for the request id in the log (the binary).
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::collections::HashSet;
use std::time::Duration;

use certequiv_api::v1::{
    CertificateFilter, CertificateView, GetCatalogRequest, GetCertificateRequest,
    ListCatalogsRequest, ListCertificatesRequest, MatchKind, SearchCertificatesRequest,
    SearchCertificatesResponse, SearchResult, TitleLevel,
};
use common::process::spawn_app_with;
use common::{Running, in_process};
use tonic::{Code, Request, Status};
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_types::StatusExt;

const CATALOG_ID: &str = "beijing-attachment-5";
const TOTAL: usize = 33;

/// Asserts INVALID_ARGUMENT with a google.rpc.BadRequest naming `field`; returns the violation's
/// description.
fn assert_field_violation(status: &Status, field: &str) -> String {
    assert_eq!(status.code(), Code::InvalidArgument, "status: {status:?}");
    let details = status.get_error_details();
    let bad_request = details
        .bad_request()
        .unwrap_or_else(|| panic!("no google.rpc.BadRequest in {status:?}"));
    let violation = bad_request
        .field_violations
        .iter()
        .find(|v| v.field == field)
        .unwrap_or_else(|| {
            panic!(
                "no field violation on {field:?}; got {:?}",
                bad_request.field_violations
            )
        });
    assert!(
        !violation.description.is_empty(),
        "empty description for {field}"
    );
    violation.description.clone()
}

/// A "sure hit" per the proto: EXACT/ABBREVIATION/ALIAS with score >= 0.9.
fn is_sure_hit(result: &SearchResult) -> bool {
    let kind = MatchKind::try_from(result.match_kind).unwrap_or(MatchKind::Unspecified);
    matches!(
        kind,
        MatchKind::Exact | MatchKind::Abbreviation | MatchKind::Alias
    ) && result.score >= 0.9
}

fn result_ids(response: &SearchCertificatesResponse) -> Vec<String> {
    response
        .results
        .iter()
        .map(|r| r.certificate.as_ref().unwrap().id.clone())
        .collect()
}

fn search(query: &str) -> SearchCertificatesRequest {
    SearchCertificatesRequest {
        query: query.to_owned(),
        ..Default::default()
    }
}

fn filtered(filter: CertificateFilter) -> ListCertificatesRequest {
    ListCertificatesRequest {
        filter: Some(filter),
        page_size: 100,
        ..Default::default()
    }
}

#[tokio::test]
async fn health_reports_serving_for_the_server_and_each_service() {
    let app = in_process::start().await;
    let mut health = app.health().await;
    for service in [
        "",
        "certequiv.v1.CertificateService",
        "certequiv.v1.EquivalenceService",
    ] {
        let response = health
            .check(HealthCheckRequest {
                service: service.to_owned(),
            })
            .await
            .unwrap_or_else(|s| panic!("Check({service:?}) failed: {s:?}"))
            .into_inner();
        assert_eq!(
            response.status(),
            ServingStatus::Serving,
            "health of {service:?}"
        );
    }
    let unknown = health
        .check(HealthCheckRequest {
            service: "no.such.Service".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::NotFound);
}

#[tokio::test]
async fn reflection_v1_lists_every_service() {
    use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;
    use tonic_reflection::pb::v1::{FileDescriptorResponse, ServerReflectionRequest};

    let app = in_process::start().await;
    let mut client = ServerReflectionClient::new(app.channel().await);
    let requests = vec![
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::ListServices(String::new())),
        },
        ServerReflectionRequest {
            host: String::new(),
            message_request: Some(MessageRequest::FileContainingSymbol(
                "certequiv.v1.EquivalenceService".to_owned(),
            )),
        },
    ];
    let mut responses = client
        .server_reflection_info(tokio_stream::iter(requests))
        .await
        .unwrap()
        .into_inner();

    let first = responses.message().await.unwrap().expect("a response");
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected reflection response: {first:?}");
    };
    let names: HashSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "grpc.health.v1.Health",
        "certequiv.v1.CertificateService",
        "certequiv.v1.EquivalenceService",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }

    let second = responses.message().await.unwrap().expect("a response");
    let Some(MessageResponse::FileDescriptorResponse(FileDescriptorResponse {
        file_descriptor_proto,
    })) = second.message_response
    else {
        panic!("unexpected reflection response: {second:?}");
    };
    assert!(
        !file_descriptor_proto.is_empty(),
        "no descriptor for the service"
    );
    assert!(responses.message().await.unwrap().is_none());
}

#[tokio::test]
async fn reflection_v1alpha_lists_every_service() {
    use tonic_reflection::pb::v1alpha::ServerReflectionRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_client::ServerReflectionClient;
    use tonic_reflection::pb::v1alpha::server_reflection_request::MessageRequest;
    use tonic_reflection::pb::v1alpha::server_reflection_response::MessageResponse;

    let app = in_process::start().await;
    let mut client = ServerReflectionClient::new(app.channel().await);
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut responses = client
        .server_reflection_info(tokio_stream::iter([request]))
        .await
        .unwrap()
        .into_inner();
    let first = responses.message().await.unwrap().expect("a response");
    let Some(MessageResponse::ListServicesResponse(list)) = first.message_response else {
        panic!("unexpected reflection response: {first:?}");
    };
    let names: HashSet<String> = list.service.into_iter().map(|s| s.name).collect();
    for expected in [
        "grpc.health.v1.Health",
        "certequiv.v1.CertificateService",
        "certequiv.v1.EquivalenceService",
    ] {
        assert!(
            names.contains(expected),
            "{expected} missing from {names:?}"
        );
    }
}

#[tokio::test]
async fn get_certificate_returns_the_entry_with_its_citation() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let cert = client
        .get_certificate(GetCertificateRequest {
            id: "fcca".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cert.id, "fcca");
    assert_eq!(cert.name_zh, "ACCA资深会员证书（Fcca）");
    assert_eq!(cert.title_level(), TitleLevel::AssociateSenior);
    assert!(cert.abbreviations.iter().any(|a| a == "FCCA"));
    let source = cert.source.as_ref().expect("source");
    assert_eq!(source.section_number, 1);
    assert_eq!(source.item_number, 8);
    assert_eq!(source.catalog_id, CATALOG_ID);
    assert!(!source.catalog_etag.is_empty());
    assert_eq!(
        cert.issuer.as_ref().expect("issuer").name_en,
        "Association of Chartered Certified Accountants"
    );
    assert!(cert.remark.contains(&cert.work_scope));
}

#[tokio::test]
async fn get_certificate_unknown_id_is_not_found_naming_the_id() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let status = client
        .get_certificate(GetCertificateRequest {
            id: "no-such-certificate-42".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(
        status.message().contains("no-such-certificate-42"),
        "message does not name the id: {:?}",
        status.message()
    );
}

#[tokio::test]
async fn list_certificates_paginates_through_the_whole_catalog_in_order() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;

    let first = client
        .list_certificates(ListCertificatesRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first.certificates.len(), 20, "default page size");
    assert!(!first.next_page_token.is_empty(), "first page has a token");
    assert_eq!(first.catalog_id, CATALOG_ID);

    let mut all = first.certificates.clone();
    let mut token = first.next_page_token.clone();
    let mut pages = 1;
    while !token.is_empty() {
        let page = client
            .list_certificates(ListCertificatesRequest {
                page_token: token.clone(),
                ..Default::default()
            })
            .await
            .unwrap()
            .into_inner();
        assert!(
            !page.certificates.is_empty(),
            "a token led to an empty page"
        );
        assert_eq!(page.catalog_etag, first.catalog_etag);
        all.extend(page.certificates);
        token = page.next_page_token;
        pages += 1;
        assert!(pages <= 10, "pagination does not terminate");
    }
    assert_eq!(pages, 2);
    assert_eq!(all.len(), TOTAL);
    assert_eq!(all.first().unwrap().id, "ieee-fellow");
    assert_eq!(all.last().unwrap().id, "hcie-computing");
    let ids: HashSet<&str> = all.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), TOTAL, "duplicate entries across pages");
    let positions: Vec<(i32, i32)> = all
        .iter()
        .map(|c| {
            let s = c.source.as_ref().unwrap();
            (s.section_number, s.item_number)
        })
        .collect();
    let mut sorted = positions.clone();
    sorted.sort();
    assert_eq!(positions, sorted, "not in section/item order");
}

#[tokio::test]
async fn list_certificates_coerces_large_page_sizes_to_100() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let page = client
        .list_certificates(ListCertificatesRequest {
            page_size: 1000,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.certificates.len(), TOTAL);
    assert!(page.next_page_token.is_empty());
}

#[tokio::test]
async fn list_certificates_rejects_negative_page_size() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let status = client
        .list_certificates(ListCertificatesRequest {
            page_size: -1,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field_violation(&status, "page_size");
}

#[tokio::test]
async fn list_certificates_rejects_a_malformed_page_token() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let status = client
        .list_certificates(ListCertificatesRequest {
            page_token: "garbage!!".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field_violation(&status, "page_token");
}

#[tokio::test]
async fn list_certificates_filters() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;

    let senior = client
        .list_certificates(filtered(CertificateFilter {
            title_level: TitleLevel::AssociateSenior as i32,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(senior.certificates.len(), 8);
    assert!(
        senior
            .certificates
            .iter()
            .all(|c| c.title_level() == TitleLevel::AssociateSenior)
    );

    let section3 = client
        .list_certificates(filtered(CertificateFilter {
            section_number: 3,
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(section3.certificates.len(), 9);
    assert!(
        section3
            .certificates
            .iter()
            .all(|c| c.source.as_ref().unwrap().section_number == 3)
    );

    // 金融 in the seed: FCCA (金融、会计), ACCA (金融、会计), CPA Australia (金融、会计), CFA, FSA,
    // ASA, FIA/FFA, AIA/AFA, 香港正精算师, CIA.
    let finance = client
        .list_certificates(filtered(CertificateFilter {
            field: "金融".to_owned(),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner();
    let ids: Vec<&str> = finance.certificates.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "fcca",
            "acca",
            "cpa-australia",
            "cfa",
            "fsa",
            "asa",
            "fia-ffa",
            "aia-afa",
            "fashk",
            "cia"
        ]
    );
    assert!(
        finance
            .certificates
            .iter()
            .all(|c| c.fields.iter().any(|f| f == "金融"))
    );
}

#[tokio::test]
async fn search_by_abbreviation_is_a_sure_hit() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .search_certificates(search("FCCA"))
        .await
        .unwrap()
        .into_inner();
    let first = response.results.first().expect("a result for FCCA");
    assert_eq!(first.certificate.as_ref().unwrap().id, "fcca");
    assert_eq!(first.match_kind(), MatchKind::Abbreviation);
    assert!(first.score >= 0.9, "score {}", first.score);
    assert!(!response.ambiguous);
    assert_eq!(response.catalog_id, CATALOG_ID);
}

#[tokio::test]
async fn search_tolerates_full_width_forms() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .search_certificates(search("ＣＦＡ"))
        .await
        .unwrap()
        .into_inner();
    let first = response.results.first().expect("a result for ＣＦＡ");
    assert_eq!(first.certificate.as_ref().unwrap().id, "cfa");
    assert!(is_sure_hit(first), "not a sure hit: {first:?}");
    assert!(!response.ambiguous);
}

#[tokio::test]
async fn search_tolerates_extra_words() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .search_certificates(search("华为 HCIE-Datacom"))
        .await
        .unwrap()
        .into_inner();
    let first = response.results.first().expect("a result");
    assert_eq!(first.certificate.as_ref().unwrap().id, "hcie-datacom");
    assert!(is_sure_hit(first), "not a sure hit: {first:?}");
    assert!(!response.ambiguous);
}

#[tokio::test]
async fn search_for_a_query_naming_several_entries_is_ambiguous() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .search_certificates(search("IEEE"))
        .await
        .unwrap()
        .into_inner();
    let ids = result_ids(&response);
    assert!(ids.iter().any(|id| id == "ieee-fellow"), "{ids:?}");
    assert!(ids.iter().any(|id| id == "ieee-senior-member"), "{ids:?}");
    assert!(
        response.results.iter().all(|r| r.score < 0.9),
        "a result scored >= 0.9 for an ambiguous query: {:?}",
        response
            .results
            .iter()
            .map(|r| (r.certificate.as_ref().unwrap().id.clone(), r.score))
            .collect::<Vec<_>>()
    );
    assert!(response.ambiguous);
}

#[tokio::test]
async fn search_for_an_unlisted_certificate_is_empty_not_an_error() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .search_certificates(search("PMP"))
        .await
        .unwrap()
        .into_inner();
    assert!(
        response.results.is_empty(),
        "PMP is not listed, got {:?}",
        result_ids(&response)
    );
    assert!(!response.ambiguous);
}

#[tokio::test]
async fn search_reads_traditional_script_and_pasted_line_breaks() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    for (query, expected) in [
        ("特許公認會計師公會資深會員", "fcca"),
        ("ACM高级会员\n证书", "acm-senior-member"),
        ("\tc.i.a.\r\n", "cia"),
    ] {
        let response = client
            .search_certificates(search(query))
            .await
            .unwrap_or_else(|status| panic!("{query:?} refused: {status:?}"))
            .into_inner();
        assert_eq!(
            result_ids(&response).first().map(String::as_str),
            Some(expected),
            "{query:?}"
        );
    }
}

#[tokio::test]
async fn search_basic_view_carries_what_a_type_ahead_list_shows() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let ask = |view: CertificateView| SearchCertificatesRequest {
        view: view as i32,
        ..search("ACCA")
    };
    let full = client
        .search_certificates(ask(CertificateView::Unspecified))
        .await
        .unwrap()
        .into_inner();
    let basic = client
        .search_certificates(ask(CertificateView::Basic))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(result_ids(&basic), result_ids(&full));
    assert!(!basic.results.is_empty());
    for (b, f) in basic.results.iter().zip(&full.results) {
        assert_eq!(
            (b.score, b.match_kind, &b.matched_text),
            (f.score, f.match_kind, &f.matched_text)
        );
        let (b, f) = (
            b.certificate.as_ref().unwrap(),
            f.certificate.as_ref().unwrap(),
        );
        let (bs, fs) = (b.source.as_ref().unwrap(), f.source.as_ref().unwrap());
        assert_eq!(
            (&b.name_zh, &b.name_en, &b.abbreviations, b.title_level),
            (&f.name_zh, &f.name_en, &f.abbreviations, f.title_level)
        );
        assert_eq!(
            (bs.section_number, bs.item_number),
            (fs.section_number, fs.item_number)
        );
        assert!(
            !f.remark.is_empty() && f.issuer.is_some(),
            "FULL carries the entry: {f:?}"
        );
        assert!(b.remark.is_empty() && b.issuer.is_none() && b.work_scope.is_empty());
        assert!(bs.catalog_source.is_empty() && b.aliases.is_empty());
    }
    let size = |r: &SearchCertificatesResponse| prost::Message::encoded_len(r);
    assert!(
        size(&basic) * 3 < size(&full),
        "BASIC {} vs FULL {} bytes",
        size(&basic),
        size(&full)
    );

    let unknown = client
        .search_certificates(SearchCertificatesRequest {
            view: 9,
            ..search("ACCA")
        })
        .await
        .unwrap_err();
    assert_eq!(assert_field_violation(&unknown, "view"), "unknown view 9");
}

#[tokio::test]
async fn search_validates_the_query() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;

    let empty = client.search_certificates(search("")).await.unwrap_err();
    assert_field_violation(&empty, "query");

    let too_long = client
        .search_certificates(search(&"a".repeat(257)))
        .await
        .unwrap_err();
    assert_field_violation(&too_long, "query");

    // The limit counts characters, not bytes: 256 CJK characters (768 bytes) are accepted.
    client
        .search_certificates(search(&"证".repeat(256)))
        .await
        .expect("a 256-character query is within the limit");
}

#[tokio::test]
async fn list_catalogs_describes_the_embedded_catalog() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let response = client
        .list_catalogs(ListCatalogsRequest {})
        .await
        .unwrap()
        .into_inner();
    assert_eq!(response.catalogs.len(), 1, "{:?}", response.catalogs);
    let catalog = &response.catalogs[0];
    assert_eq!(catalog.id, CATALOG_ID);
    assert_eq!(catalog.certificate_count, TOTAL as i32);
    assert_eq!(catalog.jurisdiction, "北京市");
    assert!(!catalog.etag.is_empty());
    let counts: Vec<(i32, i32)> = catalog
        .sections
        .iter()
        .map(|s| (s.number, s.certificate_count))
        .collect();
    assert_eq!(counts, [(1, 8), (2, 16), (3, 9)]);
    assert_eq!(response.default_catalog_id, CATALOG_ID);

    let one = client
        .get_catalog(GetCatalogRequest {
            id: CATALOG_ID.to_owned(),
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(&one, catalog);
}

#[tokio::test]
async fn get_catalog_unknown_is_not_found() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let status = client
        .get_catalog(GetCatalogRequest {
            id: "atlantis-2099".to_owned(),
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound, "{status:?}");
    assert!(status.message().contains("atlantis-2099"), "{status:?}");
}

#[tokio::test]
async fn as_of_must_be_a_calendar_date() {
    let app = in_process::start().await;
    let mut client = app.certificates().await;
    let status = client
        .list_certificates(ListCertificatesRequest {
            as_of: "2025-13-01".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field_violation(&status, "as_of");

    let status = client
        .get_certificate(GetCertificateRequest {
            id: "fcca".to_owned(),
            as_of: "2025-13-01".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field_violation(&status, "as_of");

    let status = client
        .search_certificates(SearchCertificatesRequest {
            query: "FCCA".to_owned(),
            as_of: "2025-13-01".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_field_violation(&status, "as_of");
}

#[tokio::test]
async fn request_id_is_echoed_and_logged() {
    let app = spawn_app_with(&["--access-log"]);
    let mut client = app.certificates().await;
    let request_id = format!("e2e-request-{}", std::process::id());
    let mut request = Request::new(GetCertificateRequest {
        id: "cfa".to_owned(),
        ..Default::default()
    });
    request
        .metadata_mut()
        .insert("x-request-id", request_id.parse().unwrap());
    let response = client.get_certificate(request).await.unwrap();
    assert_eq!(
        response
            .metadata()
            .get("x-request-id")
            .and_then(|v| v.to_str().ok()),
        Some(request_id.as_str()),
        "response metadata: {:?}",
        response.metadata()
    );
    let line = app.wait_for_log(Duration::from_secs(10), |line| {
        line.contains(&request_id) && line.contains("GetCertificate")
    });
    assert!(
        line.contains("rpc finished") && line.contains("grpc_code=OK"),
        "the call's log line: {line}"
    );

    // Without a client id, the server makes one up for the log line and returns it.
    let response = client
        .get_certificate(GetCertificateRequest {
            id: "cfa".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap();
    let generated = response
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("a generated x-request-id")
        .to_owned();
    assert!(!generated.is_empty());
    assert_ne!(generated, request_id);
    app.wait_for_log(Duration::from_secs(10), |line| line.contains(&generated));

    // A failed call always carries the id its log line has.
    let status = client
        .get_certificate(GetCertificateRequest {
            id: "no-such-certificate".to_owned(),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(status.code(), Code::NotFound);
    let failed = status
        .metadata()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an x-request-id on the error")
        .to_owned();
    assert_ne!(failed, generated);
    app.wait_for_log(Duration::from_secs(10), |line| {
        line.contains(&failed) && line.contains("grpc_code=NotFound")
    });
}
