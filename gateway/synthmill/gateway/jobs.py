"""What the gateway does with jobs, behind its gRPC servicer: submit (styles, limits from the servers,
spec checks, queue limit, id, seed, totals), look up, list, cancel, watch, files, health and styles."""

from __future__ import annotations

import asyncio
import random
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import Path

from synthmill.common.errors import NotFound, ResourceExhausted, Unavailable
from synthmill.gateway.events import EventLog
from synthmill.gateway.execute import Context
from synthmill.gateway.outputs import JobFolder
from synthmill.gateway.plan import image_count, unified_image_count
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.styles import apply_to_spec as apply_styles
from synthmill.gateway.validate import ServerInfo, uses_images, uses_text, validate_spec
from synthmill.v1 import gateway_pb2 as pb


def new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


def totals(spec: pb.JobSpec) -> pb.JobCounts:
    kind = spec.WhichOneof("kind")
    if kind == "text":
        return pb.JobCounts(rows_total=spec.text.count)
    if kind == "unified":
        return pb.JobCounts(
            rows_total=spec.unified.rows.count, images_total=unified_image_count(spec.unified)
        )
    images = spec.images
    return pb.JobCounts(images_total=image_count(images, len(images.prompts) or len(images.captions)))


class Jobs:
    def __init__(self, ctx: Context, runner: JobRunner, events: EventLog):
        self.ctx = ctx
        self.runner = runner
        self.events = events

    async def server_info(self, spec: pb.JobSpec) -> ServerInfo:
        """The GetInfo of each server the job needs; UNAVAILABLE naming the server that cannot answer,
        since without its limits the job cannot be checked as that server will check it."""
        text = await self.ctx.text.info() if uses_text(spec) else None
        image = await self.ctx.image.info() if uses_images(spec) else None
        return ServerInfo(text=text, image=image)

    async def submit(self, spec: pb.JobSpec) -> pb.Job:
        settings = self.ctx.settings
        apply_styles(spec, self.ctx.styles)  # before any check: the styled prompts are what will run
        try:
            info = await self.server_info(spec)
        except Unavailable:
            validate_spec(spec, settings, ServerInfo())  # a spec wrong in itself is refused all the same
            raise
        validate_spec(spec, settings, info)
        if self.ctx.store.count_jobs(pb.JOB_STATE_QUEUED) >= settings.max_queued_jobs:
            raise ResourceExhausted(f"{settings.max_queued_jobs} jobs are already queued; try later")
        if not spec.HasField("seed") or spec.seed == -1:
            spec.seed = random.randrange(2**31)
        job = pb.Job(id=new_job_id(), spec=spec, state=pb.JOB_STATE_QUEUED, counts=totals(spec))
        job.created_at.GetCurrentTime()
        job.output_dir = str(JobFolder(settings.output_dir, job.id).path.resolve())
        self.ctx.store.save_job(job)
        await self.events.append(job, state=pb.StateChanged(state=pb.JOB_STATE_QUEUED))
        self.runner.start(job)
        return job

    def get(self, job_id: str) -> pb.Job:
        job = self.ctx.store.get_job(job_id)
        if job is None:
            raise NotFound(f"job_id: no job {job_id!r}")
        return job

    def list(self, state: int, limit: int) -> list[pb.Job]:
        return self.ctx.store.list_jobs(state, limit)

    async def cancel(self, job_id: str) -> pb.Job:
        return await self.runner.cancel(job_id)

    async def watch(self, job_id: str, after_seq: int) -> AsyncIterator[pb.JobEvent]:
        self.get(job_id)
        async for event in self.events.watch(job_id, after_seq):
            yield event

    async def files(self, job_id: str) -> list[tuple[Path, Path]]:
        """(absolute path, path inside the job folder) of every file of the job."""
        folder = JobFolder(self.ctx.settings.output_dir, self.get(job_id).id)
        return [(folder.path / relative, relative) for relative in await asyncio.to_thread(folder.files)]

    async def health(self) -> pb.HealthReport:
        services = await asyncio.gather(self.ctx.text.health(), self.ctx.image.health())
        return pb.HealthReport(
            serving=all(service.serving for service in services),
            services=services,
            jobs_running=self.ctx.store.count_jobs(pb.JOB_STATE_RUNNING),
            jobs_queued=self.ctx.store.count_jobs(pb.JOB_STATE_QUEUED),
        )

    def styles(self) -> list[pb.Style]:
        return self.ctx.styles.listed()
