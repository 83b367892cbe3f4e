"""One run of one job: asks the inference servers for its missing items, records each
finished item durably, and writes the job's files.

Rows come from several requests in flight over the text replicas and are accepted in index
order, the gateway checking `unique` across the whole job (see rows.py). Images are independent:
several requests stay in flight and gRPC spreads them over the image replicas, whose batchers
merge them into GPU batches.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from synthmill.common.errors import InvalidArgument, Unavailable
from synthmill.common.prompt_syntax import escape
from synthmill.common.sampler import ColumnSampler
from synthmill.common.schema import InvalidRow, Schema, parse_schema
from synthmill.gateway import annotate, metrics
from synthmill.gateway.kinds.plan import ImagePlan, plan_images, plan_row_images
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.results import write_results
from synthmill.gateway.run.judging import categories, judged_fields, note_categories
from synthmill.gateway.run.retries import JobFailed, RetryPolicy, retrying
from synthmill.gateway.run.rows import RowMaker
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.events import EventLog
from synthmill.gateway.store.job_store import Item, JobStore
from synthmill.gateway.styles import Styles, styled
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S, Upstream
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2, text_pb2

log = logging.getLogger(__name__)

_SAMPLED_ROWS_PER_STEP = 256  # rows drawn at once when every field is sampled


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
        self._images_done: set[int] = set()
        self._tables_run = None  # a tables job's run, once needed

    async def execute(self) -> None:
        self._images_done = set(await self.store.items(self.job.id, "image"))
        await asyncio.to_thread(self.folder.remove_partial_files)
        kind = self.job.spec.WhichOneof("kind")
        if kind == "text":
            await self._make_rows(self.job.spec.text)
        elif kind == "images":
            await self._images_job(self.job.spec.images)
        elif kind == "annotate":
            await self._annotate_job(self.job.spec.annotate)
        elif kind == "tables":
            await self._tables().execute()
        else:
            await self._unified_job(self.job.spec.unified)

    def _tables(self):
        from synthmill.gateway.kinds.tables import TablesRun

        if self._tables_run is None:
            self._tables_run = TablesRun(self)
        return self._tables_run

    # Rows

    async def _make_rows(
        self, spec: pb.TextJobSpec, on_row: Callable[[int, dict], Awaitable[None]] | None = None
    ):
        schema = parse_schema(spec.schema_json)
        await asyncio.to_thread(self.folder.write_json, "schema.json", schema.json_schema())
        done = await self.store.items(self.job.id, "row")
        for idx, item in done.items():
            if on_row:
                await on_row(idx, item["row"])
        sampler = ColumnSampler(schema)
        if sampler.all_sampled:  # no LLM: the rows are drawn here, at the sampler's speed
            await self._sample_rows(spec.count, schema, sampler, set(done), on_row)
            return
        await self._note_text_model(spec.model)

        async def accept(generated: text_pb2.GeneratedRow, row: dict) -> None:
            await self._record_row(generated, row)
            if on_row:
                await on_row(generated.index, row)

        def retrying(attempt, progress, pending) -> Awaitable[None]:
            return self._retrying(self.ctx.text, attempt, progress, pending)

        maker = RowMaker(spec, schema, self.seed, self.ctx.text.stub, self.ctx.settings, retrying, accept)
        await maker.make(done)

    async def _sample_rows(
        self,
        count: int,
        schema: Schema,
        sampler: ColumnSampler,
        done: set[int],
        on_row: Callable[[int, dict], Awaitable[None]] | None,
    ) -> None:
        for first in range(0, count, _SAMPLED_ROWS_PER_STEP):
            indices = [i for i in range(first, min(first + _SAMPLED_ROWS_PER_STEP, count)) if i not in done]
            try:
                rows = await asyncio.to_thread(sampler.rows, self.seed, indices)
                for row in rows:
                    schema.validate(row)
            except InvalidRow as exc:
                raise JobFailed(f"a sampled row is invalid: {exc}") from None
            for index, row in zip(indices, rows, strict=True):
                row_json = json.dumps(row, ensure_ascii=False)
                await self._record_row(
                    text_pb2.GeneratedRow(index=index, row_json=row_json, seed=self.seed + index), row
                )
                if on_row:
                    await on_row(index, row)

    async def _record_row(self, generated: text_pb2.GeneratedRow, row: dict, table: str = "") -> None:
        """Stores an accepted row (item kind `row`, or `row:<table>` in a tables job) with its event."""
        item = Item(
            f"row:{table}" if table else "row",
            generated.index,
            {"row": row, "seed": generated.seed, "attempts": generated.attempts},
        )
        self.job.counts.rows_done += 1
        event = pb.RowWritten(index=generated.index, table=table)
        await self.ctx.events.append(self.job, self.owner, [item], row=event)
        metrics.ROWS.inc()

    async def _note_text_model(self, model: str) -> None:
        if not model:
            try:
                info = await self.ctx.text.info()
                model = next((m.name for m in info.models if m.is_default), "")
            except Unavailable:
                model = "(server default)"
        self.text_model = model

    # Images

    async def _images_job(self, spec: pb.ImageJobSpec) -> None:
        if spec.expand_topic:
            # The LLM writes plain text, not emphasis markup: its brackets reach the model as written.
            # Its prompts arrive now, so they take the job's styles now (the rest had them at submit).
            try:
                chosen = self.ctx.styles.resolve(spec.params.styles, "images.params.styles")
            except InvalidArgument as exc:
                raise JobFailed(
                    f"{exc} (the gateway's styles.csv changed since the job was submitted)"
                ) from None
            prompts = [styled(escape(prompt), chosen) for prompt in await self._expanded_prompts(spec)]
        elif spec.captions:
            prompts = [caption.caption for caption in spec.captions]
        else:
            prompts = list(spec.prompts)
        await note_categories(self.store, self.ctx.image, self.job, self.owner, spec.params)
        queue: asyncio.Queue[ImagePlan | None] = asyncio.Queue()
        for plan in plan_images(spec, prompts, self.seed):
            queue.put_nowait(plan)
        await self._render(queue, spec.params, produce=None)

    async def _expanded_prompts(self, spec: pb.ImageJobSpec) -> list[str]:
        stored = await self.store.items(self.job.id, "prompt")
        if len(stored) == spec.count:
            return [item["prompt"] for item in stored.values()]
        reply: list[text_pb2.ExpandPromptsResponse] = []

        async def attempt() -> None:
            request = text_pb2.ExpandPromptsRequest(topic=spec.expand_topic, count=spec.count, seed=self.seed)
            reply.append(await self.ctx.text.stub.ExpandPrompts(request, timeout=REQUEST_TIMEOUT_S))

        await self._retrying(self.ctx.text, attempt, lambda: len(reply), lambda: not reply)
        prompts = list(reply[0].prompts)
        items = [Item("prompt", i, {"prompt": prompt}) for i, prompt in enumerate(prompts)]
        await self.store.commit(self.job, self.owner, items=items)
        expanded = {"topic": spec.expand_topic, "prompts": prompts}
        await asyncio.to_thread(self.folder.write_json, "prompts.json", expanded)
        return prompts

    async def _unified_job(self, spec: pb.UnifiedJobSpec) -> None:
        await note_categories(self.store, self.ctx.image, self.job, self.owner, spec.params)
        queue: asyncio.Queue[ImagePlan | None] = asyncio.Queue()

        async def on_row(index: int, row: dict) -> None:
            for plan in plan_row_images(spec, index, row, self.seed):
                queue.put_nowait(plan)

        await self._render(queue, spec.params, produce=self._make_rows(spec.rows, on_row))

    async def _render(self, queue: asyncio.Queue, params, produce: Awaitable[None] | None) -> None:
        """Image workers drain `queue` while `produce` (the rows of a unified job) fills it."""
        workers = self.ctx.settings.image_requests_in_flight
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._image_worker(queue, params)) for _ in range(workers)]
            if produce is not None:
                await produce
            for _ in tasks:
                queue.put_nowait(None)

    async def _image_worker(self, queue: asyncio.Queue, params) -> None:
        size = self.ctx.settings.images_per_request
        while True:
            batch: list[ImagePlan] = []
            item = await queue.get()
            last = item is None
            if item is not None:
                batch.append(item)
            while not last and len(batch) < size and not queue.empty():
                item = queue.get_nowait()
                if item is None:
                    last = True
                else:
                    batch.append(item)
            batch = [plan for plan in batch if plan.index not in self._images_done]
            if batch:
                await self._render_batch(batch, params)
            if last:
                return

    async def _render_batch(self, batch: list[ImagePlan], params) -> None:
        plans = {plan.index: plan for plan in batch}

        def missing() -> list[ImagePlan]:
            return [plan for plan in batch if plan.index not in self._images_done]

        async def attempt() -> None:
            items = [image_pb2.ImageItem(index=p.index, prompt=p.prompt, seed=p.seed) for p in missing()]
            request = image_pb2.GenerateImagesRequest(params=params, items=items)
            async for reply in self.ctx.image.stub.Generate(request, timeout=REQUEST_TIMEOUT_S):
                if reply.HasField("step"):
                    step = reply.step
                    event = pb.ImageStep(
                        index=step.index, step=step.step, total_steps=step.total_steps, phase=step.phase
                    )
                    await self.ctx.events.progress(self.job, step=event)
                else:
                    await self._record_image(plans[reply.image.index], reply.image)

        await self._retrying(self.ctx.image, attempt, lambda: len(self._images_done), lambda: bool(missing()))

    async def _record_image(self, plan: ImagePlan, image: image_pb2.GeneratedImage) -> None:
        def write() -> tuple[str, dict]:  # the image and its kept candidates, off the event loop
            return self.folder.write_image(plan.index, image.png), judged_fields(
                self.folder, plan.index, image
            )

        name, judged = await asyncio.to_thread(write)
        p = image.params
        styles = getattr(self.job.spec, self.job.spec.WhichOneof("kind")).params.styles
        meta = {
            "file_name": name,
            "prompt": plan.prompt,
            "negative_prompt": p.negative_prompt,
            "seed": image.seed,
            "steps": p.steps,
            "cfg": round(p.guidance, 4),
            "scheduler": p.scheduler,
            "width": p.width,
            "height": p.height,
            "model": p.model,
            "device": image.device,
            "dtype": image.dtype,
            **judged,
            **({"styles": list(styles)} if styles else {}),
        }
        await self._record(plan.index, plan.beside(meta))
        metrics.IMAGES.inc()

    async def _record(self, index: int, meta: dict) -> None:
        """Stores an image's metadata with its ImageWritten event; from then on it is done."""
        self.job.counts.images_done += 1
        event = pb.ImageWritten(index=index, file_name=meta["file_name"])
        await self.ctx.events.append(self.job, self.owner, [Item("image", index, meta)], image=event)
        self._images_done.add(index)

    # Annotations of existing images

    async def _annotate_job(self, spec: pb.AnnotateJobSpec) -> None:
        await note_categories(self.store, self.ctx.image, self.job, self.owner, spec)
        size = self.ctx.settings.images_per_request

        def missing() -> list[int]:
            return [i for i in range(len(spec.images)) if i not in self._images_done][:size]

        async def attempt() -> None:
            request = await asyncio.to_thread(annotate.request, self.folder, spec, missing())
            async for reply in self.ctx.image.stub.Annotate(request, timeout=REQUEST_TIMEOUT_S):
                await self._record(reply.index, annotate.metadata(spec, reply))

        await self._retrying(self.ctx.image, attempt, lambda: len(self._images_done), lambda: bool(missing()))

    # Retries

    async def _retrying(
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

    async def finalize(self) -> None:
        """Writes the data file, metadata.jsonl and job.json from what is recorded."""
        if self.job.spec.HasField("tables"):
            await self._tables().finalize()
            return
        rows = await self.store.items(self.job.id, "row")
        images = await self.store.items(self.job.id, "image")
        names = await categories(self.store, self.job.id, list(images.values()))
        await asyncio.to_thread(write_results, self.job, self.folder, rows, images, self.text_model, names)
