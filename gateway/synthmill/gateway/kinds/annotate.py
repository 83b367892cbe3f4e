"""Annotate jobs: boxes (and masks) for images the user already has (`synthmill annotate DIR`).

At submit the images are checked (plain names; PNG or JPEG within the pixel budget, read from their
headers), written under the job folder's images/ with their own names, and
dropped from the stored spec, which keeps only the names. The run sends them to the image servers'
Annotate RPC a request at a time and records each image's boxes like a generated image's, so the
folder ends as an imagefolder dataset with metadata.jsonl and annotations/instances.json.
"""

from __future__ import annotations

import asyncio

from synthmill.common.errors import InvalidArgument
from synthmill.common.image_header import check_image
from synthmill.common.judging import Capabilities, check_annotate
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.kinds.image_inputs import check_file_name
from synthmill.gateway.outputs.coco import box_row
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.outputs.results import Recorded, write_images
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.judging import note_categories
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import image_pb2


class Annotate(JobKind):
    name = "annotate"

    def uses_images(self, spec: pb.JobSpec) -> bool:
        return True

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        annotate = spec.annotate
        caps = Capabilities.from_info(info.image) if info.image is not None else None
        if not annotate.images:
            raise InvalidArgument("annotate.images", "at least one image is required")
        if len(annotate.images) > settings.max_images:
            raise InvalidArgument(
                "annotate.images", f"{len(annotate.images)} images is over the limit of {settings.max_images}"
            )
        seen: set[str] = set()
        for i, image in enumerate(annotate.images):
            name = image.file_name
            check_file_name(name, f"annotate.images[{i}].file_name")
            if name in seen:
                raise InvalidArgument(f"annotate.images[{i}].file_name", f"{name!r} is given twice")
            seen.add(name)
            if not image.data:
                raise InvalidArgument(f"annotate.images[{i}].data", "is empty")
            check_image(image.data, f"annotate.images[{i}].data")  # the size from its header
        check_annotate(annotate.annotations, annotate.labels, "annotate", caps)

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        return pb.JobCounts(images_total=len(spec.annotate.images))

    def store_inputs(self, folder: JobFolder, spec: pb.JobSpec) -> None:
        for image in spec.annotate.images:
            folder.write_input(image.file_name, image.data)
            image.ClearField("data")

    async def run(self, run: JobRun) -> None:
        spec = run.job.spec.annotate
        await note_categories(run.store, run.ctx.image, run.job, run.owner, spec)
        size = run.ctx.settings.images_per_request

        def missing() -> list[int]:
            return [i for i in range(len(spec.images)) if i not in run.images_done][:size]

        async def attempt() -> None:
            request = await asyncio.to_thread(_request, run.folder, spec, missing())
            async for reply in run.ctx.image.stub.Annotate(request, timeout=REQUEST_TIMEOUT_S):
                record = ImageRecord(
                    file_name=f"images/{spec.images[reply.index].file_name}",
                    width=reply.width,
                    height=reply.height,
                    boxes=[box_row(box) for box in reply.boxes],
                )
                await run.record_image(reply.index, record)

        await run.retrying(run.ctx.image, attempt, lambda: len(run.images_done), lambda: bool(missing()))

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        write_images(job, folder, recorded)


def _request(folder: JobFolder, spec: pb.AnnotateJobSpec, indexes: list[int]) -> image_pb2.AnnotateRequest:
    items = [
        image_pb2.AnnotateItem(
            index=i, image=(folder.path / "images" / spec.images[i].file_name).read_bytes()
        )
        for i in indexes
    ]
    return image_pb2.AnnotateRequest(annotations=spec.annotations, labels=spec.labels, items=items)
