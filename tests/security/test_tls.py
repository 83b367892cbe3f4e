"""TLS on every hop with real certificates on real servers: the client verifies the gateway, and
an inference server with mutual TLS serves only callers holding the gateway's client certificate."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from certs import Certs, make_certs
from servers import wait_serving

from synthmill.client import Client, text_job
from synthmill.client.errors import SynthmillError
from synthmill.common.tls import channel_credentials
from synthmill.v1 import common_pb2, text_pb2_grpc

pytestmark = pytest.mark.e2e


@pytest.fixture
def certs(tmp_path: Path) -> Certs:
    return make_certs(tmp_path)


def test_every_hop_speaks_tls_and_servers_require_the_gateways_certificate(
    server_factory, certs: Certs, tmp_path: Path
) -> None:
    server_tls = {"TLS_CERT": str(certs.server.cert), "TLS_KEY": str(certs.server.key)}
    text = server_factory(
        "text",
        {
            "SYNTHMILL_TEXT_MODEL": "tiny-llama",
            **{f"SYNTHMILL_TEXT_{k}": v for k, v in server_tls.items()},
            "SYNTHMILL_TEXT_TLS_CA": str(certs.ca),
        },
        wait=False,
    )
    gateway_client = channel_credentials(certs.ca, certs.client.cert, certs.client.key)
    gateway_env = {
        "SYNTHMILL_GATEWAY_TEXT_TARGET": text.target,
        "SYNTHMILL_GATEWAY_IMAGE_TARGET": text.target,  # no image work here
        "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out"),
        "SYNTHMILL_GATEWAY_UPSTREAM_TLS_CA": str(certs.ca),
        **{f"SYNTHMILL_GATEWAY_{k}": v for k, v in server_tls.items()},
    }
    with_cert = server_factory(
        "gateway",
        {
            **gateway_env,
            "SYNTHMILL_GATEWAY_UPSTREAM_TLS_CERT": str(certs.client.cert),
            "SYNTHMILL_GATEWAY_UPSTREAM_TLS_KEY": str(certs.client.key),
        },
        wait=False,
    )
    without_cert = server_factory("gateway", gateway_env, wait=False)
    for server in (with_cert, without_cert):
        wait_serving(server.target, server.proc, credentials=channel_credentials(certs.ca))
    wait_serving(text.target, text.proc, credentials=gateway_client)

    # The inference server turns away a caller without the gateway's client certificate.
    info = common_pb2.GetInfoRequest()
    with grpc.secure_channel(text.target, channel_credentials(certs.ca)) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            text_pb2_grpc.TextServiceStub(channel).GetInfo(info, timeout=10)
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    with grpc.insecure_channel(text.target) as channel:
        with pytest.raises(grpc.RpcError):
            text_pb2_grpc.TextServiceStub(channel).GetInfo(info, timeout=10)

    # Clients that do not trust the gateway's CA (or speak clear text) fail.
    for ca in (None, certs.other_ca):
        with (
            Client(with_cert.target, timeout=10, tls_ca=ca) as client,
            pytest.raises(SynthmillError) as failed,
        ):
            client.list()
        assert failed.value.code == grpc.StatusCode.UNAVAILABLE

    # A gateway without its client certificate cannot reach the text server; with it, a job runs.
    with Client(without_cert.target, timeout=30, tls_ca=certs.ca) as client:
        (text_health,) = [s for s in client.health().services if s.name == "text"]
        assert not text_health.serving and text_health.error
    with Client(with_cert.target, timeout=30, tls_ca=certs.ca) as client:
        (text_health,) = [s for s in client.health().services if s.name == "text"]
        assert text_health.serving, text_health.error
        job = client.wait(client.submit(text_job({"name": "string", "age": "int"}, 2, seed=4)).id)
        assert job.state == 3, job.error  # COMPLETED, over TLS to the gateway and mutual TLS to text


def test_a_missing_key_file_stops_the_start_and_names_the_setting(server_factory, tmp_path: Path) -> None:
    env = {
        "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out"),
        "SYNTHMILL_GATEWAY_TLS_CERT": str(tmp_path / "missing.pem"),
    }
    server = server_factory("gateway", env, wait=False)
    assert server.proc.wait(timeout=120) != 0
    assert (
        "SYNTHMILL_GATEWAY_TLS_CERT and SYNTHMILL_GATEWAY_TLS_KEY go together" in server.log_path.read_text()
    )
