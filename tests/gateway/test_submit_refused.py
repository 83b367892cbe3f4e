"""What a server would refuse later, the gateway refuses at submit: a real gateway over the tiny servers.

Each spec here was accepted before, and its job then failed in a server with INVALID_ARGUMENT.
"""

from __future__ import annotations

import json

import grpc
import pytest
from servers import free_port

from synthmill.v1 import common_pb2, gateway_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

SCHEMA = json.dumps({"name": "string"})
NAN, INF = float("nan"), float("inf")


def _rows(**sampling) -> pb.JobSpec:
    return pb.JobSpec(
        text=pb.TextJobSpec(schema_json=SCHEMA, count=2, sampling=common_pb2.SamplingParams(**sampling))
    )


def _images(**params) -> pb.JobSpec:
    return pb.JobSpec(images=pb.ImageJobSpec(prompts=["a cat"], params=common_pb2.ImageParams(**params)))


REFUSED = [
    (_images(guidance=NAN), "images.params.guidance"),
    (_images(guidance=-INF), "images.params.guidance"),
    (_rows(temperature=NAN), "text.sampling.temperature"),
    (_rows(temperature=INF), "text.sampling.temperature"),
    (_rows(temperature=-1), "text.sampling.temperature"),
    (_rows(top_p=NAN), "text.sampling.top_p"),
    (_rows(top_p=0), "text.sampling.top_p"),
    (_rows(top_p=-0.5), "text.sampling.top_p"),
    (_rows(max_new_tokens=5000), "text.sampling.max_new_tokens: 5000 is over the limit of 4096"),
]


@pytest.mark.e2e
def test_bad_parameters_are_refused_at_submit(gateway_factory) -> None:
    server = gateway_factory()
    with grpc.insecure_channel(server.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        for spec, field in REFUSED:
            with pytest.raises(grpc.RpcError) as err:
                stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=30)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT, (field, err.value.details())
            assert err.value.details().startswith(field), err.value.details()
        assert not stub.ListJobs(pb.ListJobsRequest(), timeout=10).jobs


@pytest.mark.e2e
def test_an_unreachable_upstream_is_unavailable_naming_it(server_factory, tmp_path) -> None:
    """Not the text server's own status passed through: the client learns which server is missing."""
    nowhere = f"127.0.0.1:{free_port()}"
    env = {
        "SYNTHMILL_GATEWAY_TEXT_TARGET": nowhere,
        "SYNTHMILL_GATEWAY_IMAGE_TARGET": nowhere,
        "SYNTHMILL_GATEWAY_OUTPUT_DIR": str(tmp_path / "out"),
    }
    server = server_factory("gateway", env)
    with grpc.insecure_channel(server.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        for spec, upstream in ((_rows(), "text"), (_images(), "image")):
            with pytest.raises(grpc.RpcError) as err:
                stub.SubmitJob(pb.SubmitJobRequest(spec=spec), timeout=60)
            assert err.value.code() == grpc.StatusCode.UNAVAILABLE
            assert err.value.details().startswith(f"{upstream} server unavailable: "), err.value.details()
        # A spec that is wrong in itself is INVALID_ARGUMENT whether or not the servers are up.
        with pytest.raises(grpc.RpcError) as err:
            stub.SubmitJob(pb.SubmitJobRequest(spec=_rows(top_p=0)), timeout=60)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
