import os
import sys

import grpc
import pytest

sys.path.insert(0, os.path.dirname(__file__))

from reflect_client import ReflectionClient  # noqa: E402

CERT = "certequiv.v1.CertificateService"
EQUIV = "certequiv.v1.EquivalenceService"


@pytest.fixture(scope="session")
def addr() -> str:
    value = os.environ.get("CERTEQUIV_ADDR")
    if not value:
        pytest.fail("CERTEQUIV_ADDR is not set: run the suite through tests/conformance/run.sh")
    return value


@pytest.fixture(scope="session")
def channel(addr):
    ch = grpc.insecure_channel(addr)
    grpc.channel_ready_future(ch).result(timeout=15)
    yield ch
    ch.close()


@pytest.fixture(scope="session")
def client(channel) -> ReflectionClient:
    return ReflectionClient(channel)
