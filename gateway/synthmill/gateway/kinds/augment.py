"""Augment jobs: K variations of each image of a labelled dataset (`synthmill augment DIR`), its boxes
and masks carried over to each variation (`run.carry`) and checked again by the image server's
detector, which runs on every variation (annotations "bbox"; with the dataset's categories as labels
when an open-vocabulary detector is loaded).

At submit the source images are checked as init images (`image_inputs`), kept under inputs/sources/
and dropped from the stored spec. The run sends each source's missing variations as one request (one
size, so they share pipeline batches), with the source as the init image and as every ControlNet
unit's control image. The folder ends as a COCO dataset: images/, annotations/instances.json (each
carried box with `verified` and `iou`), and metadata.jsonl naming each variation's source image,
strength, seed and controls.
"""

from __future__ import annotations

import asyncio
import io

from PIL import Image

from synthmill.common import image_input, rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import MAX_INPUT_PIXELS
from synthmill.gateway.disk import estimate_bytes
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.kinds.image_inputs import INPUTS, check_file_name
from synthmill.gateway.outputs.folder import JobFolder, write_atomic
from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.outputs.results import Recorded, write_images
from synthmill.gateway.run import carry
from synthmill.gateway.run.edits import edit_fields
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.judging import CATEGORIES
from synthmill.gateway.run.render import generate
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.job_store import Item
from synthmill.v1 import common_pb2, image_pb2
from synthmill.v1 import gateway_pb2 as pb

SOURCES = f"{INPUTS}/sources"
DEFAULT_IOU = 0.5


class Augment(JobKind):
    name = "augment"

    def uses_images(self, spec: pb.JobSpec) -> bool:
        return True

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        augment, image = spec.augment, info.image
        if not augment.sources:
            raise InvalidArgument("augment.sources", "at least one source image is required")
        rules.check_count(augment.variations, settings.max_images, "augment.variations")
        rules.check_count(
            len(augment.sources) * augment.variations, settings.max_images, "augment.variations"
        )
        if not augment.prompts:
            raise InvalidArgument("augment.prompts", "at least one prompt is required")
        model = rules.check_image_params(augment.params, "augment.params", image)
        rules.check_edit_params(augment.params, "augment.params", model, "img2img")
        for i, prompt in enumerate(augment.prompts):
            rules.check_prompt(prompt, f"augment.prompts[{i}]", model)
        if not 0 <= augment.verify_iou <= 1:
            raise InvalidArgument("augment.verify_iou", f"{augment.verify_iou:g} is not in [0, 1]")
        if len(set(augment.categories)) != len(augment.categories):
            raise InvalidArgument("augment.categories", "a category is named twice")
        if image is not None and not image.annotation_kinds and any(s.objects for s in augment.sources):
            raise InvalidArgument(
                "augment.sources", "the image server has no detector to check the carried boxes again"
            )
        multiple = model.size_multiple if model and model.size_multiple else rules.SIZE_MULTIPLE
        max_pixels = image.max_input_pixels if image is not None else MAX_INPUT_PIXELS
        names: set[str] = set()
        for i, source in enumerate(augment.sources):
            path = f"augment.sources[{i}]"
            check_file_name(source.image.file_name, f"{path}.image.file_name")
            if source.image.file_name in names:
                raise InvalidArgument(f"{path}.image.file_name", f"{source.image.file_name!r} is given twice")
            names.add(source.image.file_name)
            size = image_input.open_checked(source.image.data, f"{path}.image.data", max_pixels).size
            sized = common_pb2.ImageParams()
            sized.CopyFrom(augment.params)
            sized.width, sized.height = rules.init_output_size(
                sized.width, sized.height, size, multiple, f"{path}.image"
            )
            rules.check_image_params(sized, "augment.params", image)
            for j, obj in enumerate(source.objects):
                if obj.label not in augment.categories:
                    raise InvalidArgument(
                        f"{path}.objects[{j}].label", f"{obj.label!r} is not in augment.categories"
                    )

    def disk_bytes(self, spec: pb.JobSpec, counts: pb.JobCounts) -> int:
        return estimate_bytes(counts, spec.augment.params, inputs=spec.ByteSize())

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        return pb.JobCounts(images_total=len(spec.augment.sources) * spec.augment.variations)

    def store_inputs(self, folder: JobFolder, spec: pb.JobSpec) -> None:
        for source in spec.augment.sources:
            write_atomic(folder.path / SOURCES / source.image.file_name, source.image.data)
            source.image.ClearField("data")

    async def run(self, run: JobRun) -> None:
        spec = run.job.spec.augment
        if not await run.store.items(run.job.id, CATEGORIES):
            await run.store.commit(
                run.job, run.owner, items=[Item(CATEGORIES, 0, {"names": list(spec.categories)})]
            )
        params = common_pb2.ImageParams()
        params.CopyFrom(spec.params)
        if any(source.objects for source in spec.sources):
            params.annotations[:] = ["bbox"]
            if (await run.ctx.image.info()).open_detector:
                params.labels[:] = list(spec.categories)
        limit = asyncio.Semaphore(run.ctx.settings.image_requests_in_flight)

        async def one(i: int) -> None:
            async with limit:
                await _variations(run, spec, params, i)

        async with asyncio.TaskGroup() as group:
            for i in range(len(spec.sources)):
                group.create_task(one(i))

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        write_images(job, folder, recorded)


async def _variations(run: JobRun, spec: pb.AugmentJobSpec, params: common_pb2.ImageParams, i: int) -> None:
    """Makes and records the missing variations of source `i`, in one request."""
    source, k = spec.sources[i], spec.variations
    data = await asyncio.to_thread((run.folder.path / SOURCES / source.image.file_name).read_bytes)
    with Image.open(io.BytesIO(data)) as opened:
        source_size = opened.size

    def missing() -> list[int]:
        return [n for n in range(i * k, (i + 1) * k) if n not in run.images_done]

    async def attempt() -> None:
        items = [
            image_pb2.ImageItem(
                index=n,
                prompt=spec.prompts[n % len(spec.prompts)],
                seed=run.seed + n,
                init_image=data,
                control_images=[data] * len(params.controls),
            )
            for n in missing()
        ]
        request = image_pb2.GenerateImagesRequest(params=params, items=items)
        async for image in generate(run, request):
            await _record(run, spec, source, source_size, image)

    await run.retrying(run.ctx.image, attempt, lambda: len(run.images_done), lambda: bool(missing()))


async def _record(
    run: JobRun,
    spec: pb.AugmentJobSpec,
    source: pb.AugmentSource,
    source_size: tuple[int, int],
    image: image_pb2.GeneratedImage,
) -> None:
    p = image.params
    size = (p.width, p.height)
    categories = list(spec.categories)
    rows = [carry.carried(obj, categories, source_size, size) for obj in source.objects]
    carry.verify(rows, image.boxes, spec.verify_iou or DEFAULT_IOU)
    if spec.drop_unverified:
        rows = [row for row in rows if row["verified"]]

    def write() -> tuple[str, dict]:
        return run.folder.write_image(image.index, image.png), edit_fields(run.folder, image.index, image)

    name, edited = await asyncio.to_thread(write)
    record = ImageRecord(
        file_name=name,
        width=p.width,
        height=p.height,
        prompt=spec.prompts[image.index % len(spec.prompts)],
        negative_prompt=p.negative_prompt,
        seed=image.seed,
        steps=p.steps,
        cfg=round(p.guidance, 4),
        scheduler=p.scheduler,
        model=p.model,
        device=image.device,
        dtype=image.dtype,
        boxes=rows,
        extra={"source_image": source.image.file_name},
        **edited,
    )
    await run.record_image(image.index, record)
