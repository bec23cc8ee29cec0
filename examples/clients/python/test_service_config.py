"""The recommended service config does what docs/clients.md says, shown against a stand-in
server in this process whose answers the test controls: UNAVAILABLE and RESOURCE_EXHAUSTED are
retried (waiting at least the server's grpc-retry-pushback-ms), other codes are not, the
per-method timeout ends a slow call, and every method the config names exists.
"""

import json
import threading
import time
from concurrent import futures

import grpc
import pytest

from certequiv_client import (
    SERVICE_CONFIG,
    catalog_pb2,
    catalog_pb2_grpc,
    channel,
    equivalence_pb2,
)


# Longer than the config's 2 s timeout for lookups.
SLOW_SECONDS = 2.5


class StandIn(catalog_pb2_grpc.CertificateServiceServicer):
    """Fails the first `failures` calls with `code`, then answers."""

    def __init__(self):
        self.lock = threading.Lock()
        self.calls = 0
        self.failures = 0
        self.code = grpc.StatusCode.UNAVAILABLE
        self.pushback_ms = None

    def SearchCertificates(self, request, context):
        with self.lock:
            self.calls += 1
            fail = self.calls <= self.failures
        if fail:
            if self.pushback_ms is not None:
                context.set_trailing_metadata((("grpc-retry-pushback-ms", str(self.pushback_ms)),))
            context.abort(self.code, "stand-in failure")
        return catalog_pb2.SearchCertificatesResponse(catalog_id="stand-in")

    def GetCatalog(self, request, context):
        time.sleep(SLOW_SECONDS)
        return catalog_pb2.Catalog(id=request.id)


@pytest.fixture
def server():
    stand_in = StandIn()
    srv = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    catalog_pb2_grpc.add_CertificateServiceServicer_to_server(stand_in, srv)
    port = srv.add_insecure_port("127.0.0.1:0")
    srv.start()
    yield stand_in, f"127.0.0.1:{port}"
    srv.stop(grace=None)


@pytest.fixture
def retry_config(tmp_path):
    """The recommended config with its retry policies as they are and every timeout at 60 s:
    on a loaded machine gRPC Python's deadlines were seen to fire up to 1.9 s early, which
    would end a call before its retries and muddle what these tests show."""
    config = json.loads(SERVICE_CONFIG.read_text(encoding="utf-8"))
    for entry in config["methodConfig"]:
        entry["timeout"] = "60s"
    path = tmp_path / "service-config.json"
    path.write_text(json.dumps(config), encoding="utf-8")
    return path


def search(target, config):
    with channel(target, config) as ch:
        stub = catalog_pb2_grpc.CertificateServiceStub(ch)
        return stub.SearchCertificates(catalog_pb2.SearchCertificatesRequest(query="FCCA"))


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED]
)
def test_overload_and_unavailability_are_retried(server, retry_config, code):
    stand_in, target = server
    stand_in.failures, stand_in.code = 2, code
    assert search(target, retry_config).catalog_id == "stand-in"
    assert stand_in.calls == 3


def test_without_the_config_the_first_failure_is_final(server):
    stand_in, target = server
    stand_in.failures = 2
    with pytest.raises(grpc.RpcError) as failure:
        search(target, None)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stand_in.calls == 1


def test_other_codes_are_not_retried(server, retry_config):
    stand_in, target = server
    stand_in.failures, stand_in.code = 1, grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as failure:
        search(target, retry_config)
    assert failure.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert stand_in.calls == 1


def test_retries_give_up_after_max_attempts(server, retry_config):
    stand_in, target = server
    stand_in.failures = 10
    with pytest.raises(grpc.RpcError) as failure:
        search(target, retry_config)
    assert failure.value.code() == grpc.StatusCode.UNAVAILABLE
    assert stand_in.calls == 4


def test_the_servers_pushback_is_waited_for(server, retry_config):
    # Backoff alone would wait at most 0.1 s + 0.2 s for two retries.
    stand_in, target = server
    stand_in.failures, stand_in.pushback_ms = 2, 400
    started = time.monotonic()
    search(target, retry_config)
    assert stand_in.calls == 3
    assert time.monotonic() - started >= 0.8


def test_a_negative_pushback_stops_retrying(server, retry_config):
    stand_in, target = server
    stand_in.failures, stand_in.pushback_ms = 2, -1
    with pytest.raises(grpc.RpcError):
        search(target, retry_config)
    assert stand_in.calls == 1


def get_catalog(target, config):
    with channel(target, config) as ch:
        stub = catalog_pb2_grpc.CertificateServiceStub(ch)
        return stub.GetCatalog(catalog_pb2.GetCatalogRequest(id="x"))


def test_a_slow_lookup_ends_at_the_configured_timeout(server):
    _, target = server
    started = time.monotonic()
    with pytest.raises(grpc.RpcError) as failure:
        get_catalog(target, SERVICE_CONFIG)
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    assert time.monotonic() - started < SLOW_SECONDS
    # Without the config the same call waits for its answer.
    assert get_catalog(target, None).id == "x"


def test_every_method_the_config_names_exists():
    config = json.loads(SERVICE_CONFIG.read_text(encoding="utf-8"))
    services = {
        s.full_name: s
        for module in (catalog_pb2, equivalence_pb2)
        for s in module.DESCRIPTOR.services_by_name.values()
    }
    assert config["loadBalancingConfig"] == [{"round_robin": {}}]
    named = [name for entry in config["methodConfig"] for name in entry["name"]]
    assert named
    for name in named:
        assert name["service"] in services, name
        if "method" in name:
            assert name["method"] in services[name["service"]].methods_by_name, name
    for entry in config["methodConfig"]:
        policy = entry.get("retryPolicy")
        if policy:
            assert set(policy["retryableStatusCodes"]) == {"UNAVAILABLE", "RESOURCE_EXHAUSTED"}
