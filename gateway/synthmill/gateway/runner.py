"""Runs jobs: claims leases on jobs from the store while it has free slots, keeps the leases
alive, and moves each job through QUEUED → RUNNING → COMPLETED | FAILED | CANCELLED, every
transition stored and announced.

Every gateway on a store runs one of these. A job is claimed by one gateway at a time; when
that gateway dies its heartbeat stops, the lease runs out, and the next gateway to look claims
the job and makes only its missing items. A gateway that stops cleanly gives its leases back.
A cancel on any gateway marks the job in the store; the gateway running it hears of it (a
notice, or its next heartbeat) and stops it.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket

from synthmill.common.errors import NotFound
from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.ids import new_id
from synthmill.gateway.kinds import kind_of
from synthmill.gateway.run.job_run import Context, JobRun
from synthmill.gateway.run.retries import JobFailed
from synthmill.gateway.store.database import Notice, StoreUnavailable
from synthmill.gateway.store.job_store import Claim, LeaseLost
from synthmill.v1 import gateway_pb2 as pb

log = logging.getLogger(__name__)
CANCEL_WAIT_S = 30.0  # how long CancelJob waits for the job's gateway to stop it


class JobRunner:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{new_id()}"  # unique: 80 random bits
        self._tasks: dict[str, asyncio.Task] = {}
        self._claimed_at: dict[str, float] = {}
        self._cancelling: set[str] = set()
        self._wake = asyncio.Event()
        self._loops: list[asyncio.Task] = []
        ctx.store.listen(self._on_notice)

    @property
    def lease_s(self) -> float:
        return self.ctx.settings.lease_s

    def start(self) -> None:
        """Starts claiming jobs (those left by a stopped gateway too) and renewing leases."""
        self._loops = [
            asyncio.create_task(self._claim_loop(), name="claim"),
            asyncio.create_task(self._heartbeat_loop(), name="heartbeat"),
        ]

    def _on_notice(self, notice: Notice) -> None:
        if notice.kind in ("queued", "resync"):
            self._wake.set()
        elif notice.kind == "cancel" and notice.job_id in self._tasks:
            self._stop(notice.job_id)

    def _stop(self, job_id: str) -> None:
        self._cancelling.add(job_id)
        self._tasks[job_id].cancel()

    async def _claim_loop(self) -> None:
        """Claims jobs while slots are free; looks again when woken (a job queued or finished)
        and every quarter lease, for leases that ran out."""
        loop = asyncio.get_running_loop()
        while True:
            self._wake.clear()
            while len(self._tasks) < self.ctx.settings.max_concurrent_jobs:
                try:
                    claim = await self.ctx.store.claim(self.owner, self.lease_s)
                except StoreUnavailable as exc:
                    log.warning("cannot claim jobs: %s", exc)
                    break
                if claim is None:
                    break
                if claim.job.id in self._tasks:  # our own lease had run out; it is renewed now
                    continue
                if claim.job.state == pb.JOB_STATE_RUNNING:
                    log.info("resuming job %s, left running by a stopped gateway", claim.job.id)
                self._claimed_at[claim.job.id] = loop.time()
                self._tasks[claim.job.id] = asyncio.create_task(self._run(claim), name=f"job-{claim.job.id}")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.lease_s / 4):
                    await self._wake.wait()

    async def _heartbeat_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(self.lease_s / 3)
            asked = loop.time()
            try:
                held = await self.ctx.store.heartbeat(self.owner, self.lease_s)
            except StoreUnavailable as exc:
                log.warning("cannot renew leases: %s", exc)
                continue
            for job_id in list(self._tasks):
                if job_id not in held and self._claimed_at.get(job_id, asked) < asked:
                    log.warning("job %s: lease lost to another gateway; stopping here", job_id)
                    self._tasks[job_id].cancel()
                elif held.get(job_id) and job_id not in self._cancelling:
                    self._stop(job_id)

    async def cancel(self, job_id: str) -> pb.Job:
        job = await self.ctx.store.request_cancel(job_id)
        if job is None:
            raise NotFound(f"job_id: no job {job_id!r}")
        if job.state in TERMINAL_STATES:
            return job
        if job_id in self._tasks and job_id not in self._cancelling:
            self._stop(job_id)
        await self.ctx.events.wait_final(job_id, CANCEL_WAIT_S)
        return await self.ctx.store.get_job(job_id)

    async def shutdown(self) -> None:
        """Stops every job without changing its stored state and gives its lease back, so
        another gateway (or this one, restarted) takes it up at once."""
        for task in [*self._loops, *self._tasks.values()]:
            task.cancel()
        await asyncio.gather(*self._loops, *self._tasks.values(), return_exceptions=True)
        with contextlib.suppress(StoreUnavailable):
            await self.ctx.store.release(self.owner)

    async def _set_state(self, job: pb.Job, state: int, error: str = "", run: JobRun | None = None) -> None:
        """Moves the job to `state`. For a final state the files are written first (job.json
        included), so a watcher that sees the final event finds them in place."""
        job.state = state
        job.error = error
        if state == pb.JOB_STATE_RUNNING and not job.HasField("started_at"):
            job.started_at.GetCurrentTime()
        if state in TERMINAL_STATES:
            job.finished_at.GetCurrentTime()
            if run is not None:
                await kind_of(job.spec).finalize(run)
        await self.ctx.events.append(job, self.owner, state=pb.StateChanged(state=state, error=error))

    async def _run(self, claim: Claim) -> None:
        job, run = claim.job, None
        try:
            if claim.cancel_requested:
                self._cancelling.add(job.id)
                raise asyncio.CancelledError
            await self._set_state(job, pb.JOB_STATE_RUNNING)
            kind = kind_of(job.spec)
            run = JobRun(job, self.ctx, self.owner)
            await run.prepare()
            await kind.run(run)
            await self._set_state(job, pb.JOB_STATE_COMPLETED, run=run)
        except asyncio.CancelledError:
            if job.id in self._cancelling:  # else: shutdown or lease lost; the job stays as it is
                await self._end(job, pb.JOB_STATE_CANCELLED, "", run)
        except Exception as exc:  # any failure ends this job, not the gateway
            root = _root(exc)
            if isinstance(root, LeaseLost | StoreUnavailable):
                log.warning("job %s stops here: %s", job.id, root)
                return
            reason = _reason(root)
            log.error(
                "job %s failed: %s", job.id, reason, exc_info=not isinstance(exc, JobFailed | ExceptionGroup)
            )
            await self._end(job, pb.JOB_STATE_FAILED, reason, run)
        finally:
            self._tasks.pop(job.id, None)
            self._claimed_at.pop(job.id, None)
            self._cancelling.discard(job.id)
            self._wake.set()

    async def _end(self, job: pb.Job, state: int, reason: str, run: JobRun | None) -> None:
        try:
            try:
                await self._set_state(job, state, reason, run=run)
            except (LeaseLost, StoreUnavailable):
                raise
            except Exception as exc:  # its files could not be written: the job still ends, and says why
                log.error("job %s: writing its files failed", job.id, exc_info=True)
                why = f"writing the job's files failed: {type(exc).__name__}: {exc}"
                await self._set_state(job, pb.JOB_STATE_FAILED, f"{reason}; {why}" if reason else why)
        except (LeaseLost, StoreUnavailable) as exc:
            log.warning("job %s: cannot record %s: %s", job.id, pb.JobState.Name(state), exc)


def _reason(root: BaseException) -> str:
    """Why a job failed, in the words its record keeps."""
    if isinstance(root, JobFailed):
        return str(root)
    if isinstance(root, OSError) and root.errno == errno.ENOSPC:
        return f"no space left on device writing {root.filename or 'the outputs'}; the items written are kept"
    return f"{type(root).__name__}: {root}"


def _root(exc: BaseException) -> BaseException:
    """The first real error, unwrapping task groups."""
    while isinstance(exc, BaseExceptionGroup):
        exc = next(
            (e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)), exc.exceptions[0]
        )
    return exc
