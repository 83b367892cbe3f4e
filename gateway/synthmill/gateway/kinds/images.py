"""Images jobs: images from prompts, captions or a topic the text server expands, with variation axes
filling the prompts' placeholders in balanced coverage."""

from __future__ import annotations

import asyncio

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.prompt_syntax import escape
from synthmill.gateway.disk import estimate_bytes
from synthmill.gateway.kinds import image_inputs
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.kinds.prompts import check_axes, check_axes_used, check_prompt, chosen_styles
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.results import Recorded, write_images
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.plan import image_count, plan_images
from synthmill.gateway.run.render import Renderer
from synthmill.gateway.run.retries import JobFailed
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.job_store import Item
from synthmill.gateway.styles import Styles, styled
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import text_pb2

PROMPT = "prompt"  # the store's item kind of a prompt the LLM wrote


class Images(JobKind):
    name = "images"

    def uses_text(self, spec: pb.JobSpec) -> bool:
        return bool(spec.images.expand_topic)

    def uses_images(self, spec: pb.JobSpec) -> bool:
        return True

    def apply_styles(self, spec: pb.JobSpec, styles: Styles) -> None:
        chosen = chosen_styles(spec.images, "images", styles)
        for caption in spec.images.captions:
            caption.caption = styled(caption.caption, chosen)

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        images = spec.images
        sources = [name for name in ("prompts", "captions", "expand_topic") if getattr(images, name)]
        if len(sources) != 1:
            raise InvalidArgument("images.prompts", "give exactly one of prompts, captions or expand_topic")
        rules.check_count(
            images.count, settings.max_images, "images.count", allow_zero=not images.expand_topic
        )
        if images.expand_topic and info.text is not None:  # the text server writes `count` prompts at once
            rules.check_count(images.count, info.text.max_rows, "images.count")
        model = rules.check_image_params(images.params, "images.params", info.image)
        image_inputs.validate(images, info.image)
        check_axes(images.axes, "images.axes", model)
        axis_names = {axis.name for axis in images.axes}
        used: set[str] = set()
        for i, prompt in enumerate(images.prompts):
            check_prompt(prompt, f"images.prompts[{i}]", axis_names, used, model)
        for i, caption in enumerate(images.captions):
            rules.check_not_empty(caption.caption, f"images.captions[{i}].caption")
            rules.check_prompt(caption.caption, f"images.captions[{i}].caption", model)
        if images.expand_topic:
            rules.check_not_empty(images.expand_topic, "images.expand_topic")
        if images.axes and not images.expand_topic and not images.captions:
            check_axes_used(images.axes, used, "images.axes")
        rules.check_count(self._count(images), settings.max_images, "images.count")

    def disk_bytes(self, spec: pb.JobSpec, counts: pb.JobCounts) -> int:
        return estimate_bytes(counts, spec.images.params, inputs=spec.ByteSize())

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        return pb.JobCounts(images_total=self._count(spec.images))

    def store_inputs(self, folder: JobFolder, spec: pb.JobSpec) -> None:
        image_inputs.store(folder.path, spec.images)

    @staticmethod
    def _count(images: pb.ImageJobSpec) -> int:
        return image_count(images, len(images.prompts) or len(images.captions))

    async def run(self, run: JobRun) -> None:
        spec = run.job.spec.images
        if spec.expand_topic:
            # The LLM writes plain text, not emphasis markup: its brackets reach the model as written.
            # Its prompts arrive now, so they take the job's styles now (the rest had them at submit).
            try:
                chosen = run.ctx.styles.resolve(spec.params.styles, "images.params.styles")
            except InvalidArgument as exc:
                raise JobFailed(
                    f"{exc} (the gateway's styles.csv changed since the job was submitted)"
                ) from None
            prompts = [styled(escape(prompt), chosen) for prompt in await _expanded_prompts(run, spec)]
        elif spec.captions:
            prompts = [caption.caption for caption in spec.captions]
        else:
            prompts = list(spec.prompts)
        template = await asyncio.to_thread(image_inputs.item_template, run.folder.path, spec)
        renderer = Renderer(run, spec.params, template)
        renderer.add(plan_images(spec, prompts, run.seed))
        await renderer.render()

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        write_images(job, folder, recorded, job.spec.images.params)


async def _expanded_prompts(run: JobRun, spec: pb.ImageJobSpec) -> list[str]:
    """The prompts the text server wrote for the topic: asked once, then stored (and in prompts.json)."""
    stored = await run.store.items(run.job.id, PROMPT)
    if len(stored) == spec.count:
        return [item["prompt"] for item in stored.values()]
    reply: list[text_pb2.ExpandPromptsResponse] = []

    async def attempt() -> None:
        request = text_pb2.ExpandPromptsRequest(topic=spec.expand_topic, count=spec.count, seed=run.seed)
        reply.append(await run.ctx.text.stub.ExpandPrompts(request, timeout=REQUEST_TIMEOUT_S))

    await run.retrying(run.ctx.text, attempt, lambda: len(reply), lambda: not reply)
    prompts = list(reply[0].prompts)
    items = [Item(PROMPT, i, {"prompt": prompt}) for i, prompt in enumerate(prompts)]
    await run.store.commit(run.job, run.owner, items=items)
    expanded = {"topic": spec.expand_topic, "prompts": prompts}
    await asyncio.to_thread(run.folder.write_json, "prompts.json", expanded)
    return prompts
