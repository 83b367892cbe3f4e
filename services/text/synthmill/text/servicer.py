"""TextService over gRPC: protobuf in, domain objects to the engine (on the device worker), protobuf out.
No torch here: the engine is handed over by startup once the model is loaded and warm."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

import grpc

from synthmill.common import rules
from synthmill.common.schema import parse_schema
from synthmill.runtime.lifecycle import Ready
from synthmill.runtime.worker import DeviceWorker
from synthmill.text import metrics
from synthmill.text.domain import MAX_NEW_TOKENS, AcceptedRow, PromptsJob, RowsJob
from synthmill.text.interrupt import Interrupt
from synthmill.text.settings import TextSettings
from synthmill.v1 import common_pb2, text_pb2, text_pb2_grpc

if TYPE_CHECKING:
    from synthmill.text.engine import TextEngine

SERVICE_NAME = text_pb2.DESCRIPTOR.services_by_name["TextService"].full_name
_END = object()


@dataclass(frozen=True)
class Serving:
    """The loaded engine and the GetInfo that describes it."""

    engine: TextEngine
    info: text_pb2.TextServerInfo


def server_info(engine: TextEngine, settings: TextSettings) -> text_pb2.TextServerInfo:
    return text_pb2.TextServerInfo(
        models=[engine.loaded.card.to_pb(is_default=True)],
        max_rows=settings.max_rows,
        batch_size=engine.batch_size,
        max_new_tokens=MAX_NEW_TOKENS,
    )


def _interrupt_on_done(context: grpc.aio.ServicerContext) -> Interrupt:
    """An Interrupt set when the call ends: a cancel, a deadline or a caller gone stops the engine."""
    interrupt = Interrupt()
    context.add_done_callback(lambda _: interrupt.set())
    return interrupt


class TextServicer(text_pb2_grpc.TextServiceServicer):
    """All model work runs on `worker`; before startup has set `ready`, every call is UNAVAILABLE."""

    def __init__(self, settings: TextSettings, worker: DeviceWorker):
        self.settings = settings
        self.worker = worker
        self.ready: Ready[Serving] = Ready("the text model")

    def _serving(self, model: str) -> Serving:
        serving = self.ready.get()
        rules.check_model(model, [m.name for m in serving.info.models], "model")
        return serving

    async def GenerateRows(self, request: text_pb2.GenerateRowsRequest, context: grpc.aio.ServicerContext):
        serving = self._serving(request.model)
        job = RowsJob.from_pb(request, self.settings, serving.info)
        engine = serving.engine
        # bad patterns fail up front
        await self.worker.run(engine.compile_rows, job.schema, "schema_json", job.pinned_names)
        events = engine.generate_rows(job, _interrupt_on_done(context))
        model, last = engine.loaded.name, time.monotonic()
        try:
            with metrics.SERVER.outstanding(job.count) as made:
                while (event := await self.worker.run(next, events, _END)) is not _END:
                    yield event.to_pb()  # an AcceptedRow, then the RowsTotals
                    if isinstance(event, AcceptedRow):
                        made()
                        metrics.ROWS.labels(model).inc()
                        metrics.ROW_SECONDS.labels(model).observe(time.monotonic() - last)
                        last = time.monotonic()
        finally:
            await self.worker.run(events.close)

    async def ExpandPrompts(self, request: text_pb2.ExpandPromptsRequest, context: grpc.aio.ServicerContext):
        serving = self._serving(request.model)
        job = PromptsJob.from_pb(request, self.settings, serving.info)
        prompts = await self.worker.run(serving.engine.expand_prompts, job, _interrupt_on_done(context))
        return text_pb2.ExpandPromptsResponse(prompts=prompts)

    async def GetInfo(self, request: common_pb2.GetInfoRequest, context: grpc.aio.ServicerContext):
        return self.ready.get().info

    async def RowFloor(self, request: text_pb2.RowFloorRequest, context: grpc.aio.ServicerContext):
        serving = self._serving(request.model)
        schema = parse_schema(request.schema_json, "schema_json")
        floor = await asyncio.to_thread(serving.engine.row_floor, schema)  # a CPU search, cached per schema
        budget = request.max_new_tokens or self.settings.max_new_tokens
        return text_pb2.RowFloorResponse(min_tokens=floor or 0, max_new_tokens=budget)
