"""ImageService over gRPC: protobuf in, domain objects to the batcher, protobuf out. No torch here:
the models and the batcher are handed over by startup once they are loaded and warm."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import grpc
from PIL import Image

from synthmill.common import rules
from synthmill.image.domain import AnnotatedImage, AnnotateRequest, ImageEvent, ImageModel
from synthmill.image.inputs import ImageRequest
from synthmill.image.judging.boxes import Box
from synthmill.image.serving import metrics
from synthmill.image.serving.batcher import Batcher
from synthmill.image.serving.settings import ImageSettings
from synthmill.runtime.lifecycle import Ready
from synthmill.v1 import common_pb2, image_pb2, image_pb2_grpc

SERVICE_NAME = image_pb2.DESCRIPTOR.services_by_name["ImageService"].full_name


@dataclass(frozen=True)
class Serving:
    """The loaded models, the batcher that runs them, and the GetInfo that describes them."""

    models: Mapping[str, ImageModel]
    batcher: Batcher
    info: image_pb2.ImageServerInfo
    # (images, labels, kinds) → the boxes of each image, with masks when kinds holds "mask" (on the
    # device worker): the open-vocabulary detector when labels are given.
    annotate: Callable[[list[Image.Image], tuple[str, ...], tuple[str, ...]], Awaitable[list[list[Box]]]]


def server_info(
    models: Mapping[str, ImageModel], settings: ImageSettings, judging: Mapping[str, Any]
) -> image_pb2.ImageServerInfo:
    """The first configured model is the default; `schedulers` lists every name some model accepts;
    `judging` holds the scorer and detector fields (`JudgingModels.describe`)."""
    cards = [model.card for model in models.values()]
    return image_pb2.ImageServerInfo(
        models=[card.to_pb(is_default=card.name == settings.models[0]) for card in cards],
        schedulers=list(dict.fromkeys(name for card in cards for name in card.schedulers)),
        max_size=settings.max_size,
        max_steps=settings.max_steps,
        max_items=settings.max_items,
        max_batch=settings.max_batch,
        max_batch_pixels=settings.max_batch_pixels,
        max_rounds=settings.max_rounds,
        max_input_pixels=settings.max_input_pixels,
        controlnets=list(dict.fromkeys(name for card in cards for name in card.controlnets)),
        control_kinds=rules.CONTROL_KINDS,
        **judging,
    )


class ImageServicer(image_pb2_grpc.ImageServiceServicer):
    """Before startup has set `ready`, every call is UNAVAILABLE."""

    def __init__(self, settings: ImageSettings):
        self._settings = settings
        self.ready: Ready[Serving] = Ready("the image models")

    async def Generate(
        self, request: image_pb2.GenerateImagesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.GenerateImagesResponse]:
        serving = self.ready.get()
        # Decoding init images, masks and control images is CPU work: off the event loop.
        req = await asyncio.to_thread(
            ImageRequest.checked, request, serving.models, serving.info, self._settings
        )
        if req.params.mask_labels:  # Edit Anything: the masks are found on the device worker
            labels = req.params.mask_labels if serving.info.open_detector else ()
            found = await serving.annotate([sent.init for sent in req.sent.items], labels, ("bbox", "mask"))
            req = await asyncio.to_thread(req.with_found_masks, found)
        req = await asyncio.to_thread(req.prepared)
        batcher = serving.batcher
        ticket = batcher.submit(req.params, req.items)
        # A client cancel (or deadline) ends the call: its work is dropped or stopped at the next step.
        context.add_done_callback(lambda _: batcher.cancel(ticket))
        params_pb = req.params.to_pb()
        model, arrived = req.params.model, time.monotonic()
        try:
            with metrics.SERVER.outstanding(len(req.items)) as made:
                async for event in ticket.events():
                    yield event.to_pb(params_pb) if isinstance(event, ImageEvent) else event.to_pb()
                    if isinstance(event, ImageEvent):
                        made()
                        metrics.IMAGES.labels(model).inc()
                        metrics.IMAGE_SECONDS.labels(model).observe(time.monotonic() - arrived)
        finally:
            batcher.cancel(ticket)  # no-op for a finished request; covers a handler torn down early

    async def GetInfo(
        self, request: common_pb2.GetInfoRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.ImageServerInfo:
        return self.ready.get().info

    async def Annotate(
        self, request: image_pb2.AnnotateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.AnnotatedImage]:
        serving = self.ready.get()
        # Decoding up to max_items PNG/JPEG uploads is CPU work: off the event loop.
        req = await asyncio.to_thread(
            AnnotateRequest.from_pb, request, serving.info, self._settings.max_items
        )
        for index, image in req.images:
            [boxes] = await serving.annotate([image], req.labels, req.annotations)
            yield AnnotatedImage(index, image.width, image.height, tuple(boxes)).to_pb()
