"""The attack suite, over gRPC: bytes that are not the message a method expects, sent to every server
(the text and image servers, a keyed gateway, and the standard health service), are INVALID_ARGUMENT
naming the method, for unary and streaming methods alike; grpc-python alone answers UNKNOWN."""

from __future__ import annotations

import grpc
import pytest

pytestmark = pytest.mark.e2e

# Not protobuf: a field tag with wire type 7 (none such), then a length running past the end.
GARBAGE = [b"\xff\xff\xff\xff", b"\x0f", b"\x0a\xff\x01abc"]
# (server, method, streaming reply)
METHODS = [
    ("text", "/synthmill.v1.TextService/GetInfo", False),
    ("text", "/synthmill.v1.TextService/GenerateRows", True),
    ("image", "/synthmill.v1.ImageService/GetInfo", False),
    ("image", "/synthmill.v1.ImageService/Generate", True),
    ("gateway", "/synthmill.v1.Gateway/SubmitJob", False),
    ("gateway", "/synthmill.v1.Gateway/WatchJob", True),
    ("gateway", "/synthmill.v1.Keys/CreateKey", False),
    ("gateway", "/grpc.health.v1.Health/Check", False),
]


@pytest.mark.parametrize(("server", "method", "streaming"), METHODS)
def test_a_request_that_does_not_decode_is_invalid_argument(
    tiny_upstreams, keyed_stack, server: str, method: str, streaming: bool
) -> None:
    target = {"text": tiny_upstreams.text, "image": tiny_upstreams.image, "gateway": keyed_stack.gateway}[
        server
    ]
    metadata = (("authorization", f"Bearer {keyed_stack.admin}"),)
    with grpc.insecure_channel(target.target) as channel:
        make = channel.unary_stream if streaming else channel.unary_unary
        call = make(method, request_serializer=None, response_deserializer=None)
        for garbage in GARBAGE:
            with pytest.raises(grpc.RpcError) as refused:
                reply = call(garbage, metadata=metadata, timeout=60)
                if streaming:
                    list(reply)
            assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT, refused.value.details()
            assert method in refused.value.details()
