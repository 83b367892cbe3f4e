"""One run of one job: what every kind's run shares. It knows the job's folder, seed and lease, records
each finished item durably (with its event), runs upstream calls by the retry policy, and at the end
hands what was recorded to the kind's writer, then writes job.json."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from synthmill.common.errors import Unavailable
from synthmill.gateway import metrics
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.records import IMAGE, ROW, ImageRecord, RowRecord
from synthmill.gateway.outputs.results import Recorded, write_job_json
from synthmill.gateway.run.judging import categories
from synthmill.gateway.run.retries import RetryPolicy, retrying
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import Item, JobStore
from synthmill.gateway.styles import Styles
from synthmill.gateway.upstream import Upstream
from synthmill.v1 import gateway_pb2 as pb


@dataclass
class Context:
    """What every job run shares."""

    settings: GatewaySettings
    store: JobStore
    events: EventLog
    text: Upstream
    image: Upstream
    styles: Styles


class JobRun:
    def __init__(self, job: pb.Job, ctx: Context, owner: str):
        self.job = job
        self.ctx = ctx
        self.owner = owner  # the lease every write is fenced on
        self.store = ctx.store
        self.folder = JobFolder.of(ctx.settings.output_dir, job)
        self.seed = job.spec.seed
        self.text_model = ""  # the text model's name, once known
        self.images_done: set[int] = set()

    async def prepare(self) -> None:
        """Reads which images are done and removes what a killed gateway left half-written."""
        self.images_done = set(await self.store.items(self.job.id, IMAGE))
        await asyncio.to_thread(self.folder.remove_partial_files)

    # Recording

    async def record_row(self, index: int, record: RowRecord, table: str = "") -> None:
        """Stores a row with its RowWritten event; from then on it is done. A tables job's rows are
        items of kind `row:<table>`."""
        self.job.counts.rows_done += 1
        item = Item(f"{ROW}:{table}" if table else ROW, index, record.to_json())
        event = pb.RowWritten(index=index, table=table)
        await self.ctx.events.append(self.job, self.owner, [item], row=event)
        metrics.ROWS.inc()

    async def record_image(self, index: int, record: ImageRecord) -> None:
        """Stores an image's record with its ImageWritten event; from then on it is done."""
        self.job.counts.images_done += 1
        event = pb.ImageWritten(index=index, file_name=record.file_name)
        item = Item(IMAGE, index, record.to_json())
        await self.ctx.events.append(self.job, self.owner, [item], image=event)
        self.images_done.add(index)
        metrics.IMAGES.inc()

    async def note_text_model(self, model: str) -> None:
        """Remembers the text model's name for job.json: the spec's, else the server's default."""
        if not model:
            try:
                info = await self.ctx.text.info()
                model = next((m.name for m in info.models if m.is_default), "")
            except Unavailable:
                model = "(server default)"
        self.text_model = model

    # Retries

    async def retrying(
        self,
        upstream: Upstream,
        attempt: Callable[[], Awaitable[None]],
        progress: Callable[[], int],
        pending: Callable[[], bool],
    ) -> None:
        """Runs `attempt` until `pending()` says no work is left, by the rules of `retries`."""
        settings = self.ctx.settings
        policy = RetryPolicy(settings.max_attempts, settings.retry_backoff_s, settings.upstream_wait_s)
        ready = upstream.channel.channel_ready
        await retrying(policy, upstream.name, ready, attempt, progress, pending, self.job.id)

    # Files

    async def finalize(self, write: Callable[[pb.Job, JobFolder, Recorded], None], has_rows: bool) -> None:
        """Has `write` (the kind's) write the job's files from what is recorded, then writes job.json."""
        rows = {i: RowRecord.from_json(d) for i, d in (await self.store.items(self.job.id, ROW)).items()}
        stored = await self.store.items(self.job.id, IMAGE)
        images = {i: ImageRecord.from_json(d) for i, d in stored.items()}
        names = await categories(self.store, self.job.id, list(images.values()))
        recorded = Recorded(rows, images, names, self.text_model)
        # What is stored is what was made: a record cut short by a cancel had counted itself already.
        self.job.counts.rows_done, self.job.counts.images_done = len(rows), len(images)

        def write_all() -> None:
            write(self.job, self.folder, recorded)
            write_job_json(self.job, self.folder, recorded, has_rows)

        await asyncio.to_thread(write_all)
