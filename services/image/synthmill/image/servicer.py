"""ImageService over gRPC: protobuf in, domain objects to the batcher, protobuf out. No torch here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping

import grpc

from synthmill.common import judging
from synthmill.common.errors import InvalidArgument, Unavailable
from synthmill.common.judging import Capabilities
from synthmill.image import schedulers, validate
from synthmill.image.batcher import Batcher, ImageEvent, StepEvent
from synthmill.image.boxes import Box
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
        best_of=params.best_of,
        keep_candidates=params.keep_candidates,
        min_score=params.min_score,
        annotations=params.annotations,
        labels=params.labels,
    )


def _box_pb(box: Box) -> image_pb2.Box:
    return image_pb2.Box(
        label=box.label,
        category_id=box.category_id,
        score=box.score,
        x=box.x,
        y=box.y,
        width=box.width,
        height=box.height,
    )


def _image_pb(event: ImageEvent, params_pb: common_pb2.ImageParams) -> image_pb2.GeneratedImage:
    image = image_pb2.GeneratedImage(
        index=event.index,
        png=event.png,
        seed=event.seed,
        params=params_pb,
        parameters_text=event.parameters_text,
        seconds=event.seconds,
        candidate=event.candidate,
        candidates=[
            image_pb2.Candidate(number=c.number, seed=c.seed, score=c.score or 0.0, png=c.png)
            for c in event.candidates
        ],
        boxes=[_box_pb(box) for box in event.boxes],
        judge_seconds=event.judge_seconds,
    )
    if event.score is not None:
        image.score = event.score
    return image


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
    """Serves Generate, GetInfo and Annotate once `attach` has handed it the loaded models and the batcher."""

    def __init__(self, settings: ImageSettings):
        self._settings = settings
        self._models: Mapping[str, LoadedModel] = {}
        self._batcher: Batcher | None = None
        self._info = image_pb2.ImageServerInfo()

    def attach(self, models: Mapping[str, LoadedModel], batcher: Batcher) -> None:
        """Called by startup when the models are loaded; requests before that get UNAVAILABLE."""
        self._models = models
        self._batcher = batcher
        judges = batcher.judges
        caps = judges.capabilities()
        s = self._settings
        self._info = image_pb2.ImageServerInfo(
            models=[_model_pb(model, name == s.models[0]) for name, model in models.items()],
            schedulers=schedulers.ALL_NAMES,
            max_size=s.max_size,
            max_steps=s.max_steps,
            max_items=s.max_items,
            max_batch=s.max_batch,
            scorer=judges.scorer.name if judges.scorer else "",
            max_best_of=caps.max_best_of,
            max_rounds=s.max_rounds,
            annotation_kinds=caps.annotation_kinds,
            detector=judges.detector.name if judges.detector else "",
            detector_labels=judges.detector.labels if judges.detector else (),
            open_detector=judges.open_detector.name if judges.open_detector else "",
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
                    step = image_pb2.StepProgress(
                        index=event.index,
                        step=event.step,
                        total_steps=event.total,
                        phase=common_pb2.Phase.Value(f"PHASE_{event.phase.upper()}"),
                    )
                    yield image_pb2.GenerateImagesResponse(step=step)
                elif isinstance(event, ImageEvent):
                    yield image_pb2.GenerateImagesResponse(image=_image_pb(event, params_pb))
        finally:
            batcher.cancel(ticket)  # no-op for a finished request; covers a handler torn down early

    async def GetInfo(
        self, request: common_pb2.GetInfoRequest, context: grpc.aio.ServicerContext
    ) -> image_pb2.ImageServerInfo:
        self._ready()
        return self._info

    async def Annotate(
        self, request: image_pb2.AnnotateRequest, context: grpc.aio.ServicerContext
    ) -> AsyncIterator[image_pb2.AnnotatedImage]:
        batcher = self._ready()
        judging.check_labelling(
            request.annotations, request.labels, "request", Capabilities.from_info(self._info)
        )
        if not request.annotations:
            raise InvalidArgument("annotations", 'at least one kind is required, e.g. ["bbox"]')
        items = validate.annotate_items(request, self._settings.max_items)
        for index, image in items:
            [boxes] = await batcher.worker.run(batcher.judges.boxes, [image], tuple(request.labels))
            yield image_pb2.AnnotatedImage(
                index=index, width=image.width, height=image.height, boxes=[_box_pb(b) for b in boxes]
            )
