"""What the gateway does with jobs, behind its gRPC servicer: submit (styles, limits from the servers,
spec checks, free disk space, queue limit, the key's limits, id, seed, totals), look up, list (a page
at a time), cancel, delete, watch, files, health and styles. Every call names its caller (`Principal`): a tenant sees only its own jobs, and
another tenant's job is as unknown as a missing one."""

from __future__ import annotations

import asyncio
import functools
import random
import shutil
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path

from synthmill.common.errors import InvalidArgument, NotFound, Unavailable
from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.access.audit import audit
from synthmill.gateway.access.keyring import Principal
from synthmill.gateway.access.quotas import Quotas
from synthmill.gateway.disk import DiskCheck
from synthmill.gateway.ids import JOB_ID, new_id
from synthmill.gateway.kinds import JobKind, ServerInfo, kind_of, validate_spec
from synthmill.gateway.kinds.text import check_row_budget
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.retention import remove_job
from synthmill.gateway.run.job_run import Context
from synthmill.gateway.runner import JobRunner
from synthmill.gateway.store import paging
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import IdTaken, StoreUnavailable, make_event
from synthmill.v1 import gateway_pb2 as pb

ID_TRIES = 8  # fresh ids tried for one new job before giving up (each collides with odds of 2^-80)


class Jobs:
    def __init__(
        self,
        ctx: Context,
        runner: JobRunner,
        events: EventLog,
        quotas: Quotas,
        disk: DiskCheck,
        new_id: Callable[[], str] = new_id,
    ):
        self.ctx = ctx
        self.runner = runner
        self.events = events
        self.quotas = quotas
        self.disk = disk
        self.new_id = new_id

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
        if not spec.HasField("seed") or spec.seed == -1:  # drawn first: a kind's totals may depend on it
            spec.seed = random.randrange(2**31)
        await asyncio.to_thread(kind.prepare, spec, settings)  # e.g. a schema fitted to a sample
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
        await asyncio.to_thread(self.disk.check, kind.disk_bytes(spec, counts))
        job = await self.store_new(spec, kind, counts, who)
        audit(
            "submit",
            who=who.name,
            job=job.id,
            kind=kind.name,
            rows=counts.rows_total,
            images=counts.images_total,
        )
        return job

    async def store_new(
        self, spec: pb.JobSpec, kind: JobKind, counts: pb.JobCounts, who: Principal
    ) -> pb.Job:
        """Stores a new QUEUED job under a fresh id, in a folder of its own (made here, so an id whose
        folder exists is never used); an id a stored job has already is retried with a fresh one."""
        for _ in range(ID_TRIES):
            job = pb.Job(
                id=self.new_id(), spec=spec, state=pb.JOB_STATE_QUEUED, counts=counts, owner=who.name
            )
            job.created_at.GetCurrentTime()
            folder = JobFolder.of(self.ctx.settings.output_dir, job)
            try:
                await asyncio.to_thread(folder.path.mkdir, parents=True)
            except FileExistsError:
                continue
            job.output_dir = str(folder.path.resolve())
            try:
                await self.quotas.check(job, who)  # before any byte of its inputs is written
                await asyncio.to_thread(kind.store_inputs, folder, job.spec)  # kept out of the spec
                await self.quotas.create(
                    job, make_event(job, state=pb.StateChanged(state=pb.JOB_STATE_QUEUED)), who
                )
                return job
            except BaseException as exc:
                await asyncio.to_thread(shutil.rmtree, folder.path, True)  # a refused job leaves no folder
                if not isinstance(exc, IdTaken):
                    raise
        raise Unavailable(f"no fresh job id after {ID_TRIES} tries; try again")

    async def get(self, job_id: str, who: Principal) -> pb.Job:
        """The job, if `who` may see it; INVALID_ARGUMENT for an id no job can have (`..`, `/`)."""
        if not JOB_ID.fullmatch(job_id):
            raise InvalidArgument("job_id", f"{job_id!r} is not a job id")
        job = await self.ctx.store.get_job(job_id)
        if job is None or not who.sees(job):
            raise NotFound(f"job_id: no job {job_id!r}")
        return job

    async def list(self, request: pb.ListJobsRequest, who: Principal) -> pb.ListJobsResponse:
        """A page of the jobs `who` may see that the request's filters keep."""
        where, size, after = paging.from_request(request, who.owner_filter)
        page = await self.ctx.store.list_jobs(where, size, after)
        return pb.ListJobsResponse(jobs=page.jobs, next_page_token=page.next.token() if page.next else "")

    async def cancel(self, job_id: str, who: Principal) -> pb.Job:
        job = await self.get(job_id, who)
        audit("cancel", who=who.name, job=job.id, owner=job.owner)
        return await self.runner.cancel(job.id)

    async def delete(self, job_id: str, who: Principal) -> pb.Job:
        """Cancels the job if it may still run (waiting for it to stop), then removes its folder and
        its records."""
        job = await self.get(job_id, who)
        audit("delete", who=who.name, job=job.id, owner=job.owner)
        if job.state not in TERMINAL_STATES:
            job = await self.runner.cancel(job.id)
            if job.state not in TERMINAL_STATES:
                raise Unavailable(f"job {job.id} is still stopping on its gateway; delete it again")
        await remove_job(self.ctx.store, self.ctx.settings.output_dir, job)
        return job

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
