"""ImageService over gRPC: protobuf in, domain objects to the batcher, protobuf out. No torch here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import grpc

from synthmill.common.errors import Unavailable
from synthmill.image import schedulers, validate
from synthmill.image.batcher import Batcher, ImageEvent, StepEvent
from synthmill.image.loader import LoadedModel
from synthmill.image.params import GenerationParams
from synthmill.image.settings import ImageSettings
from synthmill.v1 import common_pb2, image_pb2, image_pb2_grpc


def _params_pb(params: GenerationParams) -> common_pb2.ImageParams:
    return common_pb2.ImageParams(
        model=params.model,
        width=params.width,
        height=params.height,
        steps=params.steps,
        guidance=params.guidance,
        scheduler=params.scheduler,
        negative_prompt=params.negative_prompt,
    )


def _model_pb(model: LoadedModel, is_default: bool) -> common_pb2.ModelInfo:
    return common_pb2.ModelInfo(
        name=model.name,
        family=model.family,
        source=model.source,
        device=model.device,
        dtype=str(model.dtype).removeprefix("torch."),
        is_default=is_default,
        schedulers=schedulers.names(model.family),
        size_multiple=model.size_multiple,
    )


class ImageServicer(image_pb2_grpc.ImageServiceServicer):
    """Serves Generate and GetInfo once `attach` has handed it the loaded models and the batcher."""

    def __init__(self, settings: ImageSettings):
        self._settings = settings
        self._models: Mapping[str, LoadedModel] = {}
        self._batcher: Batcher | None = None
        self._info = image_pb2.ImageServerInfo()

    def attach(self, models: Mapping[str, LoadedModel], batcher: Batcher) -> None:
        """Called by startup when the models are loaded; requests before that get UNAVAILABLE."""
        self._models = models
        self._batcher = batcher
        s = self._settings
        self._info = image_pb2.ImageServerInfo(
            models=[_model_pb(model, name == s.models[0]) for name, model in models.items()],
            schedulers=schedulers.ALL_NAMES,
            max_size=s.max_size,
            max_steps=s.max_steps,
            max_items=s.max_items,
            max_batch=s.max_batch,
        )

    def _ready(self) -> Batcher:
        if self._batcher is None:
            raise Unavailable("the image server is still loading its models")
        return self._batcher

    async def Generate(
        self, request: image_pb2.GenerateImagesRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.GenerateImagesResponse]:
        batcher = self._ready()
        params, items = validate.parse_request(request, self._models, self._info, self._settings)
        ticket = batcher.submit(params, items)
        # A client cancel (or deadline) ends the call: its work is dropped or stopped at the next step.
        context.add_done_callback(lambda _: batcher.cancel(ticket))
        params_pb = _params_pb(params)
        try:
            async for event in ticket.events():
                if isinstance(event, StepEvent):
                    step = image_pb2.StepProgress(index=event.index, step=event.step, total_steps=event.total)
                    yield image_pb2.GenerateImagesResponse(step=step)
                elif isinstance(event, ImageEvent):
                    image = image_pb2.GeneratedImage(
                        index=event.index,
                        png=event.png,
                        seed=event.seed,
                        params=params_pb,
                        parameters_text=event.parameters_text,
                        seconds=event.seconds,
                    )
                    yield image_pb2.GenerateImagesResponse(image=image)
        finally:
            batcher.cancel(ticket)  # no-op for a finished request; covers a handler torn down early

    async def GetInfo(
        self, request: common_pb2.GetInfoRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.ImageServerInfo:
        self._ready()
        return self._info
