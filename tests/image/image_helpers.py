"""Helpers of the image server tests: building requests, reading streams, pixels and server logs."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import pytest
from PIL import Image
from server_logs import ServerLog
from servers import ServerProcess

from synthmill.v1 import common_pb2, image_pb2, image_pb2_grpc


@dataclass
class ImageServer(ServerLog):
    """A running image server: its target, and its log."""

    target: str = ""


def request(
    prompts: list[str], seeds: list[int] | None = None, **params: object
) -> image_pb2.GenerateImagesRequest:
    """A request with one item per prompt (index = position), seeds 0.. unless given."""
    seeds = seeds if seeds is not None else list(range(len(prompts)))
    items = [
        image_pb2.ImageItem(index=i, prompt=prompt, seed=seed)
        for i, (prompt, seed) in enumerate(zip(prompts, seeds, strict=True))
    ]
    return image_pb2.GenerateImagesRequest(params=common_pb2.ImageParams(**params), items=items)


@dataclass
class Result:
    """What one Generate stream delivered, in order."""

    events: list[image_pb2.GenerateImagesResponse] = field(default_factory=list)

    @property
    def steps(self) -> list[image_pb2.StepProgress]:
        """Denoising steps (the scoring, selection and detection phases that follow are left out)."""
        return [e.step for e in self.events if _denoising(e)]

    def item_events(self, index: int) -> list[tuple[int, int] | str]:
        """Item `index`'s events in order: (step, total_steps) for each step, then "image"."""
        out: list[tuple[int, int] | str] = []
        for e in self.events:
            if _denoising(e) and e.step.index == index:
                out.append((e.step.step, e.step.total_steps))
            elif e.WhichOneof("event") == "image" and e.image.index == index:
                out.append("image")
        return out

    @property
    def images(self) -> dict[int, image_pb2.GeneratedImage]:
        return {e.image.index: e.image for e in self.events if e.WhichOneof("event") == "image"}


def _denoising(event: image_pb2.GenerateImagesResponse) -> bool:
    return event.WhichOneof("event") == "step" and event.step.phase == common_pb2.PHASE_DENOISING


def collect(responses) -> Result:
    """Reads a Generate stream to its end."""
    result = Result()
    for response in responses:
        result.events.append(response)
    return result


def generate(stub: image_pb2_grpc.ImageServiceStub, req: image_pb2.GenerateImagesRequest) -> Result:
    return collect(stub.Generate(req, timeout=120))


def pixels(png: bytes) -> np.ndarray:
    """The image as a signed int array, so differences do not wrap around."""
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(np.int16)


def serve_image(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator[ImageServer]:
    """A real image server with `env` over a fresh cache; stopped when the caller's fixture ends."""
    logs = tmp_path_factory.mktemp("logs")
    env = {
        "SYNTHMILL_IMAGE_CACHE_DIR": str(tmp_path_factory.mktemp("cache")),
        "SYNTHMILL_IMAGE_DETECTOR": "none",  # the detector has its own tests (tests/labels)
        "SYNTHMILL_IMAGE_SEGMENTER": "none",  # so has the segmenter
        **env,
    }
    process = ServerProcess("image", env, logs / "image.log").start()
    yield ImageServer(process.log_path, process.target)
    process.stop()


def png_of(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def photo(width: int, height: int) -> Image.Image:
    """A photograph shipped with matplotlib (Grace Hopper), resized: real edges for Canny."""
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as file:
        return Image.open(file).convert("RGB").resize((width, height))


def edit_request(
    prompts: list[str],
    init: bytes = b"",
    mask: bytes = b"",
    control_images: tuple[bytes, ...] = (),
    seeds: list[int] | None = None,
    **params: object,
) -> image_pb2.GenerateImagesRequest:
    """A request whose every item carries the same init image, mask and control images."""
    req = request(prompts, seeds, **params)
    for item in req.items:
        item.init_image, item.mask = init, mask
        item.control_images.extend(control_images)
    return req
