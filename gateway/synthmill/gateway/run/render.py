"""Images of a job, rendered by the image servers: several requests stay in flight, gRPC spreads them
over the image replicas, and their batchers merge them into GPU batches. Each finished image is
written, then recorded with what its plan puts beside it (and its CLIP embedding, when the image
server has a scorer: see `dedup`)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Iterable

from synthmill.common.errors import Unavailable
from synthmill.gateway.outputs.records import EMBEDDING, ImageRecord
from synthmill.gateway.run.edits import edit_fields
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.judging import judged_fields, note_categories
from synthmill.gateway.run.plan import ImagePlan
from synthmill.gateway.store.job_store import Item
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S
from synthmill.v1 import common_pb2, image_pb2
from synthmill.v1 import gateway_pb2 as pb


class Renderer:
    """Renders the images of one run with `params`; the plans come through `queue`, closed by None.
    Every item starts as a copy of `template` (the job's init image, mask and control images). A plan
    whose index is in `done` (the run's finished images, unless given) is skipped."""

    def __init__(
        self,
        run: JobRun,
        params: common_pb2.ImageParams,
        template: image_pb2.ImageItem | None = None,
        done: set[int] | None = None,
    ):
        self.run = run
        self.params = params
        self.template = template or image_pb2.ImageItem()
        self.queue: asyncio.Queue[ImagePlan | None] = asyncio.Queue()
        self.done = run.images_done if done is None else done

    def add(self, plans: Iterable[ImagePlan]) -> None:
        for plan in plans:
            self.queue.put_nowait(plan)

    async def render(self, produce: Awaitable[None] | None = None) -> None:
        """Image workers drain the queue while `produce` (the rows of a unified job) fills it."""
        run = self.run
        await note_categories(run.store, run.ctx.image, run.job, run.owner, self.params)
        if not self.params.embed and await _has_scorer(run):
            embedded = common_pb2.ImageParams()
            embedded.CopyFrom(self.params)
            embedded.embed = True  # the request's, not the spec's: the job asked for no embeddings
            self.params = embedded
        workers = run.ctx.settings.image_requests_in_flight
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(self._worker()) for _ in range(workers)]
            if produce is not None:
                await produce
            for _ in tasks:
                self.queue.put_nowait(None)

    async def _worker(self) -> None:
        size = self.run.ctx.settings.images_per_request
        while True:
            batch: list[ImagePlan] = []
            item = await self.queue.get()
            last = item is None
            if item is not None:
                batch.append(item)
            while not last and len(batch) < size and not self.queue.empty():
                item = self.queue.get_nowait()
                if item is None:
                    last = True
                else:
                    batch.append(item)
            batch = [plan for plan in batch if plan.index not in self.done]
            if batch:
                await self._render_batch(batch)
            if last:
                return

    async def _render_batch(self, batch: list[ImagePlan]) -> None:
        run = self.run
        plans = {plan.index: plan for plan in batch}

        def missing() -> list[ImagePlan]:
            return [plan for plan in batch if plan.index not in self.done]

        async def attempt() -> None:
            items = []
            for p in missing():
                item = image_pb2.ImageItem()
                item.CopyFrom(self.template)
                item.index, item.prompt, item.seed = p.index, p.prompt, p.seed
                items.append(item)
            request = image_pb2.GenerateImagesRequest(params=self.params, items=items)
            async for image in generate(run, request):
                await self._record(plans[image.index], image)

        await run.retrying(run.ctx.image, attempt, lambda: len(self.done), lambda: bool(missing()))

    async def _record(self, plan: ImagePlan, image: image_pb2.GeneratedImage) -> None:
        folder = self.run.folder

        def write() -> tuple[str, dict, dict]:  # the image, its candidates and controls, off the loop
            name = folder.write_image(plan.index, image.png)
            return name, judged_fields(folder, plan.index, image), edit_fields(folder, plan.index, image)

        name, judged, edited = await asyncio.to_thread(write)
        p = image.params
        record = ImageRecord(
            file_name=name,
            width=p.width,
            height=p.height,
            prompt=plan.prompt,
            negative_prompt=p.negative_prompt,
            seed=image.seed,
            steps=p.steps,
            cfg=round(p.guidance, 4),
            scheduler=p.scheduler,
            model=p.model,
            device=image.device,
            dtype=image.dtype,
            styles=list(self.params.styles) or None,
            extra=dict(plan.extra),
            row=dict(plan.row),
            dedup_retries=plan.retry or None,
            **judged,
            **edited,
        )
        beside = []
        if image.embedding:
            vector = [round(v, 6) for v in image.embedding]
            beside.append(Item(EMBEDDING, plan.index, {"vector": vector, "retry": plan.retry}))
        await self.run.record_image(plan.index, record, beside)
        self.done.add(plan.index)


async def _has_scorer(run: JobRun) -> bool:
    """Whether the image server embeds images (has a scorer); False when it cannot say now."""
    try:
        return bool((await run.ctx.image.info()).scorer)
    except Unavailable:
        return False


async def generate(
    run: JobRun, request: image_pb2.GenerateImagesRequest
) -> AsyncIterator[image_pb2.GeneratedImage]:
    """The finished images of one Generate call; its denoising steps go to the job's watchers."""
    async for reply in run.ctx.image.stub.Generate(request, timeout=REQUEST_TIMEOUT_S):
        if reply.HasField("step"):
            step = reply.step
            event = pb.ImageStep(
                index=step.index, step=step.step, total_steps=step.total_steps, phase=step.phase
            )
            await run.ctx.events.progress(run.job, step=event)
        else:
            yield reply.image
