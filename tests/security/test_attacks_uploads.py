"""The attack suite, uploads: annotate inputs sent to a keyed gateway with names and headers meant to
hurt (too long, control characters, a header claiming a 400 Mpx image in a few bytes), and past the
key's limit. Each is refused at submit, naming the field, and leaves nothing on disk."""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import grpc
import matplotlib.cbook
import pytest

from synthmill.client import Client, SynthmillError
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2, image_pb2_grpc, keys_pb2

pytestmark = pytest.mark.e2e

PHOTO = Path(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)).read_bytes()


def bomb_png(width: int = 20_000, height: int = 20_000) -> bytes:
    """A valid PNG header (and one tiny IDAT) claiming width x height pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0"))
        + chunk(b"IEND", b"")
    )


def annotate(*images: tuple[str, bytes]) -> pb.JobSpec:
    inputs = [pb.InputImage(file_name=name, data=data) for name, data in images]
    return pb.JobSpec(annotate=pb.AnnotateJobSpec(images=inputs, annotations=["bbox"]))


def files_under(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if not p.is_dir()] if root.exists() else []


@pytest.fixture(scope="module")
def uploader(keyed_stack) -> str:
    """A key of its own, so its folder holds only what these attacks leave (none of them succeeds)."""
    with Client(keyed_stack.gateway.target, timeout=60, api_key=keyed_stack.admin) as admin:
        return admin.create_key("uploader").secret


@pytest.mark.parametrize(
    ("second", "field", "says"),
    [
        (("a" * 300 + ".png", PHOTO), "annotate.images[1].file_name", "longer than 255 bytes"),
        (("b\x00.png", PHOTO), "annotate.images[1].file_name", "control character"),
        (("c\n.jpg", PHOTO), "annotate.images[1].file_name", "control character"),
        (("../d.jpg", PHOTO), "annotate.images[1].file_name", "not a plain file name"),
        (("bomb.png", bomb_png()), "annotate.images[1].data", "over the limit of 40000000"),
        (("text.png", b"not an image at all"), "annotate.images[1].data", "not a PNG or JPEG"),
    ],
)
def test_a_bad_second_upload_is_refused_and_leaves_no_file(
    keyed_stack, uploader: str, second, field: str, says: str
) -> None:
    with Client(keyed_stack.gateway.target, timeout=60, api_key=uploader) as client:
        with pytest.raises(SynthmillError) as refused:
            client.submit(annotate(("first.jpg", PHOTO), second))
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert refused.value.details.startswith(field) and says in refused.value.details, refused.value.details
    assert files_under(keyed_stack.output_dir / "uploader") == []


def test_an_upload_past_the_key_limit_writes_nothing(keyed_stack) -> None:
    with Client(keyed_stack.gateway.target, timeout=60, api_key=keyed_stack.admin) as admin:
        secret = admin.create_key("one-image", keys_pb2.KeyLimits(images_per_day=1)).secret
    with Client(keyed_stack.gateway.target, timeout=60, api_key=secret) as limited:
        with pytest.raises(SynthmillError) as refused:
            limited.submit(annotate(("a.jpg", PHOTO), ("b.jpg", PHOTO), ("c.jpg", PHOTO)))
    assert refused.value.code == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert "images_per_day=1" in refused.value.details
    assert files_under(keyed_stack.output_dir / "one-image") == []


def test_the_image_server_checks_the_header_before_decoding(tiny_upstreams) -> None:
    request = image_pb2.AnnotateRequest(
        annotations=["bbox"],
        items=[
            image_pb2.AnnotateItem(index=0, image=PHOTO),
            image_pb2.AnnotateItem(index=1, image=bomb_png()),
        ],
    )
    with grpc.insecure_channel(tiny_upstreams.image.target) as channel:
        with pytest.raises(grpc.RpcError) as refused:
            list(image_pb2_grpc.ImageServiceStub(channel).Annotate(request, timeout=60))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert (
        refused.value.details().startswith("items[1].image") and "over the limit" in refused.value.details()
    )


def test_header_sizes_match_what_pil_decodes() -> None:
    from PIL import Image

    from synthmill.common.image_header import read_header

    for data in (PHOTO, bomb_png(64, 48)):
        header = read_header(data)
        if header.pixels < 10_000_000:
            assert (header.width, header.height) == Image.open(io.BytesIO(data)).size
    for fmt, options in (("PNG", {}), ("JPEG", {"progressive": True}), ("JPEG", {"quality": 5})):
        buffer = io.BytesIO()
        Image.new("RGB", (321, 123)).save(buffer, fmt, **options)
        assert (read_header(buffer.getvalue()).width, read_header(buffer.getvalue()).height) == (321, 123)
