"""Conformance of certequiv.v1 as seen by the official gRPC Python packages, through reflection only."""

import grpc
import pytest
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from conftest import CERT, EQUIV
from reflect_client import ReflectionClient

CATALOG_ID = "beijing-attachment-5"
TOTAL_CERTIFICATES = 33


def bad_request_of(err: grpc.RpcError) -> error_details_pb2.BadRequest:
    """Decodes google.rpc.BadRequest from grpc-status-details-bin (grpcio-status)."""
    status = rpc_status.from_call(err)  # also checks code and message match the trailers
    assert status is not None, "no grpc-status-details-bin trailer"
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            br = error_details_pb2.BadRequest()
            assert detail.Unpack(br)
            return br
    raise AssertionError(f"no google.rpc.BadRequest among {[d.type_url for d in status.details]}")


# --- health -----------------------------------------------------------------------------------

@pytest.mark.parametrize("service", ["", CERT, EQUIV])
def test_health_serving(channel, service):
    resp = health_pb2_grpc.HealthStub(channel).Check(
        health_pb2.HealthCheckRequest(service=service), timeout=10)
    assert resp.status == health_pb2.HealthCheckResponse.SERVING


# --- reflection -------------------------------------------------------------------------------

def test_reflection_v1alpha_lists_services(client):
    services = set(client.services())
    assert {CERT, EQUIV, "grpc.health.v1.Health"} <= services, services


def test_reflection_v1_lists_services_and_resolves_types(channel):
    v1 = ReflectionClient(channel, reflection_version="v1")
    services = set(v1.services())
    assert {CERT, EQUIV, "grpc.health.v1.Health"} <= services, services
    m = v1.method(EQUIV, "BatchEvaluate")
    assert m.input_type.full_name == "certequiv.v1.EvaluateEquivalenceRequest"
    assert m.output_type.full_name == "certequiv.v1.BatchEvaluateResponse"


def test_reflection_describes_every_rpc(client):
    cert = client.pool.FindServiceByName(CERT)
    assert sorted(m.name for m in cert.methods) == sorted(
        ["GetCertificate", "ListCertificates", "SearchCertificates", "ListCatalogs", "GetCatalog"])
    eq = client.pool.FindServiceByName(EQUIV)
    assert sorted(m.name for m in eq.methods) == ["BatchEvaluate", "EvaluateEquivalence"]
    batch = eq.methods_by_name["BatchEvaluate"]
    assert batch.client_streaming and batch.server_streaming


def test_reflection_resolves_google_rpc_bad_request(client):
    # So that generic clients (grpcurl) can decode the error details too.
    desc = client.pool.FindMessageTypeByName("google.rpc.BadRequest")
    assert "field_violations" in desc.fields_by_name


# --- CertificateService -----------------------------------------------------------------------

def test_get_certificate_fcca(client):
    resp, call = client.unary(CERT, "GetCertificate", {"id": "fcca"})
    assert call.code() == grpc.StatusCode.OK
    assert resp.id == "fcca"
    assert resp.name_zh == "ACCA资深会员证书（Fcca）"
    assert "FCCA" in resp.abbreviations
    assert resp.source.catalog_id == CATALOG_ID


def test_list_certificates_pages_through_all(client):
    ids, token, pages = [], "", 0
    while True:
        resp, _ = client.unary(CERT, "ListCertificates", {"pageSize": 7, "pageToken": token})
        pages += 1
        assert len(resp.certificates) <= 7
        ids += [c.id for c in resp.certificates]
        token = resp.next_page_token
        if not token:
            break
        assert pages < 20, "pagination does not terminate"
    assert len(ids) == TOTAL_CERTIFICATES, ids
    assert len(set(ids)) == TOTAL_CERTIFICATES, "duplicate ids across pages"
    assert pages == 5  # 7+7+7+7+5


def test_search_fcca_is_sure_hit(client):
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "FCCA"})
    assert resp.results, "no results"
    first = resp.results[0]
    assert first.certificate.id == "fcca"
    assert first.score >= 0.9
    assert not resp.ambiguous


def test_list_catalogs(client):
    resp, _ = client.unary(CERT, "ListCatalogs", {})
    ids = [c.id for c in resp.catalogs]
    assert CATALOG_ID in ids
    assert resp.default_catalog_id == CATALOG_ID
    assert resp.last_reload.ok


def test_get_catalog(client):
    resp, _ = client.unary(CERT, "GetCatalog", {"id": CATALOG_ID})
    assert resp.id == CATALOG_ID
    assert resp.certificate_count == TOTAL_CERTIFICATES
    assert sum(s.certificate_count for s in resp.sections) == TOTAL_CERTIFICATES
    assert resp.etag


def test_search_empty_query_bad_request(client):
    with pytest.raises(grpc.RpcError) as exc:
        client.unary(CERT, "SearchCertificates", {"query": ""})
    err = exc.value
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    br = bad_request_of(err)
    assert [v.field for v in br.field_violations] == ["query"]
    assert br.field_violations[0].description


# --- EquivalenceService -----------------------------------------------------------------------

def cfa_request(correlation_id: str) -> dict:
    return {
        "correlationId": correlation_id,
        "claims": [{"text": "CFA"}],
        "applicant": {"basicConditions": "BASIC_CONDITIONS_CONFIRMED", "workField": "金融"},
    }


def test_evaluate_cfa_recognized(client):
    resp, _ = client.unary(EQUIV, "EvaluateEquivalence", cfa_request("single-1"))
    assert resp.correlation_id == "single-1"
    assert resp.verdict == client.enum_value("certequiv.v1.Verdict", "VERDICT_RECOGNIZED")
    assert resp.decision_id
    assert resp.catalog_id == CATALOG_ID
    assert len(resp.claims) == 1
    assert resp.claims[0].resolution == client.enum_value(
        "certequiv.v1.ClaimResolution", "CLAIM_RESOLUTION_RESOLVED")


def test_batch_evaluate_100_with_one_malformed(client):
    n, bad = 100, 50
    items = []
    for i in range(n):
        if i == bad:
            items.append({"correlationId": f"b{i}"})  # no claims: invalid
        else:
            items.append(cfa_request(f"b{i}"))
    responses = list(client.bidi(EQUIV, "BatchEvaluate", items))
    assert len(responses) == n
    recognized = client.enum_value("certequiv.v1.Verdict", "VERDICT_RECOGNIZED")
    results = errors = 0
    for i, r in enumerate(responses):
        assert r.index == i, f"response {i} has index {r.index}: out of order"
        assert r.correlation_id == f"b{i}"
        kind = r.WhichOneof("outcome")
        if i == bad:
            assert kind == "error", r
            assert r.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0] == 3
            assert any(v.field == "claims" for v in r.error.field_violations), r.error
            errors += 1
        else:
            assert kind == "result", r
            assert r.result.verdict == recognized
            assert r.result.correlation_id == f"b{i}"
            results += 1
    assert (results, errors) == (99, 1)
