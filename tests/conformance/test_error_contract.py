"""The documented error and limit contract, as a generic client sees it (reflection only)."""

import json

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from conftest import CERT, EQUIV
from test_python_client import bad_request_of, cfa_request


def call_error(client, service, method, fields) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as exc:
        client.unary(service, method, fields)
    return exc.value


@pytest.mark.parametrize("method,fields,field", [
    ("GetCertificate", {"id": ""}, "id"),
    ("GetCertificate", {"id": "fcca", "asOf": "2024-13-01"}, "as_of"),
    ("GetCatalog", {"id": ""}, "id"),
    ("ListCertificates", {"pageSize": -1}, "page_size"),
    ("ListCertificates", {"pageToken": "not-a-token"}, "page_token"),
    ("ListCertificates", {"filter": {"sectionNumber": -1}}, "filter.section_number"),
    ("SearchCertificates", {"query": "A" * 257}, "query"),
    ("SearchCertificates", {"query": "cpa", "pageSize": -1}, "page_size"),
])
def test_invalid_argument_names_the_field(client, method, fields, field):
    err = call_error(client, CERT, method, fields)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert field in [v.field for v in bad_request_of(err).field_violations]


@pytest.mark.parametrize("fields,field", [
    ({"claims": []}, "claims"),
    ({"claims": [{"text": "CFA"}] * 51}, "claims"),
    ({"claims": [{"text": "A" * 257}]}, "claims[0].text"),
    ({"claims": [{"text": "CFA"}], "asOf": "bad"}, "as_of"),
])
def test_evaluate_invalid_argument_names_the_field(client, fields, field):
    err = call_error(client, EQUIV, "EvaluateEquivalence", fields)
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err.details()
    assert field in [v.field for v in bad_request_of(err).field_violations]


def test_search_query_limit_is_in_characters_not_bytes(client):
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "金" * 256})
    assert resp.catalog_id  # 256 CJK characters (768 UTF-8 bytes) are accepted


@pytest.mark.parametrize("method,fields,needle", [
    ("GetCertificate", {"id": "no-such-cert"}, "no-such-cert"),
    ("GetCertificate", {"id": "fcca", "catalogId": "no-such-catalog"}, "no-such-catalog"),
    ("GetCatalog", {"id": "no-such-catalog"}, "no-such-catalog"),
])
def test_not_found_names_the_id(client, method, fields, needle):
    err = call_error(client, CERT, method, fields)
    assert err.code() == grpc.StatusCode.NOT_FOUND
    assert needle in err.details()
    rpc_status.from_call(err)  # any details trailer must agree with code and message


def test_health_unknown_service_not_found(channel):
    with pytest.raises(grpc.RpcError) as exc:
        health_pb2_grpc.HealthStub(channel).Check(
            health_pb2.HealthCheckRequest(service="no.such.Service"), timeout=10)
    assert exc.value.code() == grpc.StatusCode.NOT_FOUND


def test_list_page_size_default_and_cap(client):
    resp, _ = client.unary(CERT, "ListCertificates", {})
    assert len(resp.certificates) == 20 and resp.next_page_token
    resp, _ = client.unary(CERT, "ListCertificates", {"pageSize": 1000})  # coerced to 100
    assert len(resp.certificates) == 33 and not resp.next_page_token


def test_page_token_bound_to_filter(client):
    first, _ = client.unary(CERT, "ListCertificates", {"pageSize": 5})
    err = call_error(client, CERT, "ListCertificates",
                     {"pageSize": 5, "pageToken": first.next_page_token,
                      "filter": {"field": "金融"}})
    assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "page_token" in [v.field for v in bad_request_of(err).field_violations]


def test_list_filter_field(client):
    resp, _ = client.unary(CERT, "ListCertificates", {"pageSize": 100, "filter": {"field": "金融"}})
    assert resp.certificates
    assert all("金融" in c.fields for c in resp.certificates)


def test_search_default_page_size(client):
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "ACCA资深会员证书"})
    assert len(resp.results) == 10
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "ACCA资深会员证书", "pageSize": 100})
    assert len(resp.results) > 10


def test_search_full_width_and_ambiguous(client):
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "ＦＣＣＡ"})
    assert resp.results[0].certificate.id == "fcca" and resp.results[0].score >= 0.9
    resp, _ = client.unary(CERT, "SearchCertificates", {"query": "ieee"})
    assert resp.ambiguous
    assert all(r.score < 0.9 for r in resp.results)


def test_batch_item_error_matches_unary_status(client):
    items = [
        {"correlationId": "nf", "claims": [{"certificateId": "no-such-cert"}]},
        {"correlationId": "ia", "claims": [{}]},
        cfa_request("ok"),
    ]
    out = list(client.bidi(EQUIV, "BatchEvaluate", items))
    assert [r.index for r in out] == [0, 1, 2]
    assert [r.WhichOneof("outcome") for r in out] == ["error", "error", "result"]
    for item, r in zip(items[:2], out[:2]):
        err = call_error(client, EQUIV, "EvaluateEquivalence", item)
        assert r.error.code == err.code().value[0]
        assert r.error.message == err.details()


def test_batch_empty_stream(client):
    assert list(client.bidi(EQUIV, "BatchEvaluate", [])) == []


def test_evaluate_basic_conditions_not_met_is_not_recognized(client):
    req = cfa_request("nm")
    req["applicant"]["basicConditions"] = "BASIC_CONDITIONS_NOT_MET"
    resp, _ = client.unary(EQUIV, "EvaluateEquivalence", req)
    assert resp.verdict == client.enum_value("certequiv.v1.Verdict", "VERDICT_NOT_RECOGNIZED")
    assert resp.claims[0].resolution == client.enum_value(
        "certequiv.v1.ClaimResolution", "CLAIM_RESOLUTION_RESOLVED")


def test_a_failed_blocking_condition_leaves_no_supported_level(client):
    req = cfa_request("nm")
    req["applicant"]["basicConditions"] = "BASIC_CONDITIONS_NOT_MET"
    resp, _ = client.unary(EQUIV, "EvaluateEquivalence", req)
    # The claim keeps the level its entry lists, but with a blocking condition failed it
    # supports no level: highest_title_level is UNSPECIFIED (see the proto's documentation).
    assert resp.claims[0].title_level != 0
    assert resp.highest_title_level == 0, json.dumps(
        {"verdict": resp.verdict, "highest": resp.highest_title_level})
