"""Schedules jobs: at most `max_concurrent_jobs` run at once, each through its states
QUEUED → RUNNING → COMPLETED | FAILED | CANCELLED, every transition stored and announced.

A gateway that stops leaves its running jobs RUNNING in the store; the next one takes
them up again (`resume`), and only their missing items are made.
"""

from __future__ import annotations

import asyncio
import logging

from synthmill.common.errors import NotFound
from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.execute import Context, JobRun
from synthmill.gateway.retries import JobFailed
from synthmill.v1 import gateway_pb2 as pb

log = logging.getLogger(__name__)


class JobRunner:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self._slots = asyncio.Semaphore(ctx.settings.max_concurrent_jobs)
        self._tasks: dict[str, asyncio.Task] = {}
        self._cancelling: set[str] = set()

    def start(self, job: pb.Job) -> None:
        self._tasks[job.id] = asyncio.create_task(self._run(job), name=f"job-{job.id}")

    def resume(self) -> int:
        """Takes up every job a previous gateway left QUEUED or RUNNING."""
        jobs = self.ctx.store.unfinished_jobs()
        for job in jobs:
            log.info("resuming job %s (%s)", job.id, pb.JobState.Name(job.state))
            self.start(job)
        return len(jobs)

    async def cancel(self, job_id: str) -> pb.Job:
        job = self.ctx.store.get_job(job_id)
        if job is None:
            raise NotFound(f"job_id: no job {job_id!r}")
        task = self._tasks.get(job_id)
        if job.state in TERMINAL_STATES or task is None:
            return job
        self._cancelling.add(job_id)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        return self.ctx.store.get_job(job_id)

    async def shutdown(self) -> None:
        """Stops every job without changing its stored state, so a restart resumes it."""
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)

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
                await run.finalize()
        self.ctx.store.save_job(job)
        await self.ctx.events.append(job, state=pb.StateChanged(state=state, error=error))

    async def _run(self, job: pb.Job) -> None:
        run: JobRun | None = None
        try:
            async with self._slots:
                await self._set_state(job, pb.JOB_STATE_RUNNING)
                run = JobRun(job, self.ctx)
                await run.execute()
                await self._set_state(job, pb.JOB_STATE_COMPLETED, run=run)
        except asyncio.CancelledError:
            if job.id not in self._cancelling:
                return  # gateway shutdown: the job stays RUNNING/QUEUED and resumes later
            await self._set_state(job, pb.JOB_STATE_CANCELLED, run=run)
        except Exception as exc:  # any failure ends this job, not the gateway
            reason = _reason(exc)
            log.error(
                "job %s failed: %s", job.id, reason, exc_info=not isinstance(exc, JobFailed | ExceptionGroup)
            )
            await self._set_state(job, pb.JOB_STATE_FAILED, reason, run=run)
        finally:
            self._tasks.pop(job.id, None)
            self._cancelling.discard(job.id)


def _reason(exc: BaseException) -> str:
    """The first real error, unwrapping task groups."""
    while isinstance(exc, BaseExceptionGroup):
        exc = next(
            (e for e in exc.exceptions if not isinstance(e, asyncio.CancelledError)), exc.exceptions[0]
        )
    if isinstance(exc, JobFailed):
        return str(exc)
    return f"{type(exc).__name__}: {exc}"
