"""Images of a job, rendered by the image servers: several requests stay in flight, gRPC spreads them
over the image replicas, and their batchers merge them into GPU batches. Each finished image is
written, then recorded with what its plan puts beside it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Iterable

from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.run.edits import edit_fields
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.judging import judged_fields, note_categories
from synthmill.gateway.run.plan import ImagePlan
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S
from synthmill.v1 import common_pb2, image_pb2
from synthmill.v1 import gateway_pb2 as pb


class Renderer:
    """Renders the images of one run with `params`; the plans come through `queue`, closed by None.
    Every item starts as a copy of `template` (the job's init image, mask and control images)."""

    def __init__(
        self, run: JobRun, params: common_pb2.ImageParams, template: image_pb2.ImageItem | None = None
    ):
        self.run = run
        self.params = params
        self.template = template or image_pb2.ImageItem()
        self.queue: asyncio.Queue[ImagePlan | None] = asyncio.Queue()

    def add(self, plans: Iterable[ImagePlan]) -> None:
        for plan in plans:
            self.queue.put_nowait(plan)

    async def render(self, produce: Awaitable[None] | None = None) -> None:
        """Image workers drain the queue while `produce` (the rows of a unified job) fills it."""
        run = self.run
        await note_categories(run.store, run.ctx.image, run.job, run.owner, self.params)
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
            batch = [plan for plan in batch if plan.index not in self.run.images_done]
            if batch:
                await self._render_batch(batch)
            if last:
                return

    async def _render_batch(self, batch: list[ImagePlan]) -> None:
        run = self.run
        plans = {plan.index: plan for plan in batch}

        def missing() -> list[ImagePlan]:
            return [plan for plan in batch if plan.index not in run.images_done]

        async def attempt() -> None:
            items = []
            for p in missing():
                item = image_pb2.ImageItem()
                item.CopyFrom(self.template)
                item.index, item.prompt, item.seed = p.index, p.prompt, p.seed
                items.append(item)
            request = image_pb2.GenerateImagesRequest(params=self.params, items=items)
            async for reply in run.ctx.image.stub.Generate(request, timeout=REQUEST_TIMEOUT_S):
                if reply.HasField("step"):
                    step = reply.step
                    event = pb.ImageStep(
                        index=step.index, step=step.step, total_steps=step.total_steps, phase=step.phase
                    )
                    await run.ctx.events.progress(run.job, step=event)
                else:
                    await self._record(plans[reply.image.index], reply.image)

        await run.retrying(run.ctx.image, attempt, lambda: len(run.images_done), lambda: bool(missing()))

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
            **judged,
            **edited,
        )
        await self.run.record_image(plan.index, record)
