"""TextService over gRPC: protobuf in, domain objects to the engine (on the device worker), protobuf out."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import grpc

from synthmill.common import rules
from synthmill.common.errors import Unavailable
from synthmill.common.worker import DeviceWorker
from synthmill.text import requests
from synthmill.text.jobs import AcceptedRow
from synthmill.text.settings import TextSettings
from synthmill.v1 import common_pb2, text_pb2, text_pb2_grpc

log = logging.getLogger(__name__)

SERVICE_NAME = text_pb2.DESCRIPTOR.services_by_name["TextService"].full_name
_END = object()

if TYPE_CHECKING:
    from synthmill.text.engine import TextEngine


class TextServicer(text_pb2_grpc.TextServiceServicer):
    """Owns the engine once `startup` has loaded it; all model work runs on `worker`."""

    def __init__(self, settings: TextSettings, worker: DeviceWorker):
        self.settings = settings
        self.worker = worker
        self.engine: TextEngine | None = None

    async def startup(self) -> None:
        from synthmill.text import loader  # the torch side is imported here, not with the servicer
        from synthmill.text.engine import TextEngine

        s = self.settings
        loaded = await self.worker.run(loader.load, s.model, s.device, s.dtype, s.cache_dir, s.threads)
        engine = TextEngine(loaded, s)
        await self.worker.run(engine.warm_up)
        self.engine = engine

    def _ready(self, model: str) -> TextEngine:
        if self.engine is None:
            raise Unavailable("the model is still loading; wait for health SERVING")
        rules.check_model(model, [self.engine.loaded.name], "model")
        return self.engine

    def _info(self) -> text_pb2.TextServerInfo:
        loaded = self._ready("").loaded
        model = common_pb2.ModelInfo(
            name=loaded.name,
            family="causal-lm",
            source=loaded.source,
            device=str(loaded.device),
            dtype=loaded.dtype_name,
            is_default=True,
        )
        s = self.settings
        return text_pb2.TextServerInfo(
            models=[model],
            max_rows=s.max_rows,
            batch_size=s.batch_size,
            max_new_tokens=requests.MAX_NEW_TOKENS,
        )

    async def GenerateRows(self, request: text_pb2.GenerateRowsRequest, context: grpc.aio.ServicerContext):
        engine = self._ready(request.model)
        job = requests.rows_job_from_pb(request, self.settings, self._info())
        await self.worker.run(engine.compile_rows, job.schema, "schema_json")  # bad patterns fail up front
        events = engine.generate_rows(job)
        try:
            while True:
                event = await self.worker.run(next, events, _END)
                if event is _END:
                    return
                if isinstance(event, AcceptedRow):
                    row = text_pb2.GeneratedRow(
                        index=event.index, row_json=event.row_json, seed=event.seed, attempts=event.attempts
                    )
                    yield text_pb2.GenerateRowsResponse(row=row)
                else:
                    summary = text_pb2.RowsSummary(
                        accepted=event.accepted,
                        rejected_duplicates=event.rejected_duplicates,
                        rejected_invalid=event.rejected_invalid,
                        tokens=event.tokens,
                        seconds=event.seconds,
                    )
                    yield text_pb2.GenerateRowsResponse(summary=summary)
        finally:
            await self.worker.run(events.close)  # a cancelled call stops after its current batch

    async def ExpandPrompts(self, request: text_pb2.ExpandPromptsRequest, context: grpc.aio.ServicerContext):
        engine = self._ready(request.model)
        requests.check_prompts_request(request, self.settings)
        sampling = requests.sampling_from_pb(request.sampling, self.settings, self._info())
        prompts = await self.worker.run(
            engine.expand_prompts, request.topic, request.count, request.seed, sampling
        )
        return text_pb2.ExpandPromptsResponse(prompts=prompts)

    async def GetInfo(self, request: common_pb2.GetInfoRequest, context: grpc.aio.ServicerContext):
        return self._info()
