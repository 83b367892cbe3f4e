"""What the gateway does with jobs, behind its gRPC servicer: submit (styles, limits from the servers,
spec checks, queue limit, the key's limits, id, seed, totals), look up, list, cancel, watch, files,
health and styles. Every call names its caller (`Principal`): a tenant sees only its own jobs, and
another tenant's job is as unknown as a missing one."""

from __future__ import annotations

import asyncio
import functools
import random
import re
import secrets
import shutil
import time
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from synthmill.common.errors import InvalidArgument, NotFound, Unavailable
from synthmill.gateway.access.audit import audit
from synthmill.gateway.access.keyring import Principal
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.kinds import JobKind, ServerInfo, kind_of, validate_spec
from synthmill.gateway.kinds.text import check_row_budget
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.run.job_run import Context
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import StoreUnavailable, make_event
from synthmill.v1 import gateway_pb2 as pb

_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def new_job_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


class Jobs:
    def __init__(self, ctx: Context, runner: JobRunner, events: EventLog, quotas: Quotas):
        self.ctx = ctx
        self.runner = runner
        self.events = events
        self.quotas = quotas

    async def server_info(self, spec: pb.JobSpec, kind: JobKind) -> ServerInfo:
        """The GetInfo of each server the job needs; UNAVAILABLE naming the server that cannot answer,
        since without its limits the job cannot be checked as that server will check it."""
        text = await self.ctx.text.info() if kind.uses_text(spec) else None
        image = await self.ctx.image.info() if kind.uses_images(spec) else None
        return ServerInfo(text=text, image=image)

    async def submit(self, spec: pb.JobSpec, who: Principal) -> pb.Job:
        settings = self.ctx.settings
        kind = kind_of(spec)
        kind.apply_styles(spec, self.ctx.styles)  # before any check: the styled prompts are what will run
        try:
            info = await self.server_info(spec, kind)
        except Unavailable:
            validate_spec(spec, settings, ServerInfo())  # a spec wrong in itself is refused all the same
            raise
        validate_spec(spec, settings, info)
        rows = kind.rows(spec)
        if rows is not None and info.text is not None:  # the row budget, against the text server's floor
            await check_row_budget(
                self.ctx.text, rows, "text" if kind.name == "text" else f"{kind.name}.rows"
            )
        counts = kind.totals(spec)
        if not spec.HasField("seed") or spec.seed == -1:
            spec.seed = random.randrange(2**31)
        job = pb.Job(id=new_job_id(), spec=spec, state=pb.JOB_STATE_QUEUED, counts=counts, owner=who.name)
        job.created_at.GetCurrentTime()
        folder = JobFolder.of(settings.output_dir, job)
        job.output_dir = str(folder.path.resolve())
        await self.quotas.check(job, who)  # before any byte of its inputs is written
        try:
            await asyncio.to_thread(kind.store_inputs, folder, job.spec)  # given inputs, kept out of the spec
            await self.quotas.create(
                job, make_event(job, state=pb.StateChanged(state=pb.JOB_STATE_QUEUED)), who
            )
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, folder.path, True)  # a refused job leaves no folder
            raise
        audit(
            "submit",
            who=who.name,
            job=job.id,
            kind=kind.name,
            rows=counts.rows_total,
            images=counts.images_total,
        )
        return job

    async def get(self, job_id: str, who: Principal) -> pb.Job:
        """The job, if `who` may see it; INVALID_ARGUMENT for an id no job can have (`..`, `/`)."""
        if not _JOB_ID.fullmatch(job_id):
            raise InvalidArgument("job_id", f"{job_id!r} is not a job id")
        job = await self.ctx.store.get_job(job_id)
        if job is None or not who.sees(job):
            raise NotFound(f"job_id: no job {job_id!r}")
        return job

    async def list(self, state: int, limit: int, who: Principal) -> list[pb.Job]:
        return await self.ctx.store.list_jobs(state, limit, who.owner_filter)

    async def cancel(self, job_id: str, who: Principal) -> pb.Job:
        job = await self.get(job_id, who)
        audit("cancel", who=who.name, job=job.id, owner=job.owner)
        return await self.runner.cancel(job.id)

    async def watch(self, job_id: str, after_seq: int, who: Principal) -> AsyncIterator[pb.JobEvent]:
        await self.get(job_id, who)
        async for event in self.events.watch(job_id, after_seq):
            yield event

    async def files(
        self, job_id: str, who: Principal, paths: Sequence[str] = ()
    ) -> tuple[JobFolder, list[Path]]:
        """The job's folder and every file in it (relative to it), or only `paths`, for download."""
        job = await self.get(job_id, who)
        folder = JobFolder.of(self.ctx.settings.output_dir, job)
        pick = functools.partial(folder.select, paths) if paths else folder.files
        files = await asyncio.to_thread(pick)
        audit("download", who=who.name, job=job.id, owner=job.owner, files=len(files))
        return folder, files

    async def health(self, who: Principal) -> pb.HealthReport:
        """The servers' health; their targets and errors are the admin's to see."""
        services = await asyncio.gather(self.ctx.text.health(), self.ctx.image.health())
        if not who.admin:
            for service in services:
                service.target = ""
                service.error = "" if service.serving else "not serving"
        report = pb.HealthReport(services=services)
        stored = await self.ctx.store.ping()  # without its job store a gateway is not serving
        try:
            if stored:
                report.jobs_running = await self.ctx.store.count_jobs(pb.JOB_STATE_RUNNING)
                report.jobs_queued = await self.ctx.store.count_jobs(pb.JOB_STATE_QUEUED)
        except StoreUnavailable:
            stored = False
        report.serving = stored and all(service.serving for service in services)
        return report

    def styles(self) -> list[pb.Style]:
        return self.ctx.styles.listed()
