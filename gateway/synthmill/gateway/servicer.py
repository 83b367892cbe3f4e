"""The Gateway gRPC service: protobuf in, domain calls, protobuf out."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc

from synthmill.common.errors import InvalidArgument, NotFound, ResourceExhausted
from synthmill.gateway.events import EventLog
from synthmill.gateway.execute import Context
from synthmill.gateway.outputs import JobFolder
from synthmill.gateway.plan import image_count
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.styles import apply_to_spec as apply_styles
from synthmill.gateway.validate import validate_spec
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import gateway_pb2_grpc

_CHUNK = 1 << 20


def new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def totals(spec: pb.JobSpec) -> pb.JobCounts:
    kind = spec.WhichOneof("kind")
    if kind == "text":
        return pb.JobCounts(rows_total=spec.text.count)
    if kind == "unified":
        rows = spec.unified.rows.count
        return pb.JobCounts(rows_total=rows, images_total=rows * (spec.unified.images_per_row or 1))
    images = spec.images
    return pb.JobCounts(images_total=image_count(images, len(images.prompts) or len(images.captions)))


class GatewayServicer(gateway_pb2_grpc.GatewayServicer):
    def __init__(self, ctx: Context, runner: JobRunner, events: EventLog):
        self.ctx = ctx
        self.runner = runner
        self.events = events

    async def _image_info(self, spec: pb.JobSpec):
        """The image server's limits and models, or None when it cannot be asked right now
        (the job is then checked by the server itself when its images are made)."""
        if spec.WhichOneof("kind") not in ("images", "unified"):
            return None
        try:
            return await self.ctx.image.info()
        except grpc.aio.AioRpcError:
            return None

    async def _check_text_model(self, spec: pb.JobSpec) -> None:
        kind = spec.WhichOneof("kind")
        rows = spec.text if kind == "text" else spec.unified.rows if kind == "unified" else None
        if rows is None or not rows.model:
            return
        try:
            info = await self.ctx.text.info()
        except grpc.aio.AioRpcError:
            return
        loaded = [model.name for model in info.models]
        if rows.model not in loaded:
            path = "text.model" if kind == "text" else "unified.rows.model"
            raise InvalidArgument(path, f"model {rows.model!r} is not loaded; loaded: {', '.join(loaded)}")

    async def SubmitJob(self, request: pb.SubmitJobRequest, context) -> pb.Job:
        spec = request.spec
        apply_styles(spec, self.ctx.styles)
        validate_spec(spec, self.ctx.settings, await self._image_info(spec))
        await self._check_text_model(spec)
        if self.ctx.store.count_jobs(pb.JOB_STATE_QUEUED) >= self.ctx.settings.max_queued_jobs:
            raise ResourceExhausted(f"{self.ctx.settings.max_queued_jobs} jobs are already queued; try later")
        if not spec.HasField("seed") or spec.seed == -1:
            spec.seed = random.randrange(2**31)
        job = pb.Job(id=new_job_id(), spec=spec, state=pb.JOB_STATE_QUEUED, counts=totals(spec))
        job.created_at.GetCurrentTime()
        job.output_dir = str(JobFolder(self.ctx.settings.output_dir, job.id).path.resolve())
        self.ctx.store.save_job(job)
        await self.events.append(job, state=pb.StateChanged(state=pb.JOB_STATE_QUEUED))
        self.runner.start(job)
        return job

    def _job(self, job_id: str) -> pb.Job:
        job = self.ctx.store.get_job(job_id)
        if job is None:
            raise NotFound(f"job_id: no job {job_id!r}")
        return job

    async def GetJob(self, request: pb.GetJobRequest, context) -> pb.Job:
        return self._job(request.job_id)

    async def ListJobs(self, request: pb.ListJobsRequest, context) -> pb.ListJobsResponse:
        return pb.ListJobsResponse(jobs=self.ctx.store.list_jobs(request.state, request.limit))

    async def CancelJob(self, request: pb.CancelJobRequest, context) -> pb.Job:
        return await self.runner.cancel(request.job_id)

    async def WatchJob(self, request: pb.WatchJobRequest, context) -> AsyncIterator[pb.JobEvent]:
        self._job(request.job_id)
        async for event in self.events.watch(request.job_id, request.after_seq):
            yield event

    async def DownloadJob(self, request: pb.DownloadJobRequest, context) -> AsyncIterator[pb.FileChunk]:
        folder = JobFolder(self.ctx.settings.output_dir, self._job(request.job_id).id)
        for relative in await asyncio.to_thread(folder.files):
            async for chunk in _chunks(folder.path / relative, relative):
                yield chunk

    async def GetHealth(self, request: pb.GetHealthRequest, context) -> pb.HealthReport:
        services = await asyncio.gather(self.ctx.text.health(), self.ctx.image.health())
        return pb.HealthReport(
            serving=all(service.serving for service in services),
            services=services,
            jobs_running=self.ctx.store.count_jobs(pb.JOB_STATE_RUNNING),
            jobs_queued=self.ctx.store.count_jobs(pb.JOB_STATE_QUEUED),
        )

    async def ListStyles(self, request: pb.ListStylesRequest, context) -> pb.ListStylesResponse:
        return pb.ListStylesResponse(styles=self.ctx.styles.listed())


async def _chunks(path: Path, relative: Path) -> AsyncIterator[pb.FileChunk]:
    with path.open("rb") as handle:
        offset = 0
        while True:
            data = await asyncio.to_thread(handle.read, _CHUNK)
            last = len(data) < _CHUNK
            yield pb.FileChunk(path=relative.as_posix(), offset=offset, data=data, last=last)
            offset += len(data)
            if last:
                return
