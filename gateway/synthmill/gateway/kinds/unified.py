"""Unified jobs: rows first, and images rendered from each row as it is accepted (its fields fill the
prompt template), so rows and images are made together. Each image records its row; each row lists
its images in the data file."""

from __future__ import annotations

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.gateway.disk import estimate_bytes
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.kinds.prompts import check_axes, check_axes_used, check_prompt, chosen_styles
from synthmill.gateway.kinds.text import make_rows, validate_rows
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.results import Recorded, write_images, write_rows
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.plan import plan_row_images, unified_image_count
from synthmill.gateway.run.render import Renderer
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.styles import Styles, styled
from synthmill.v1 import gateway_pb2 as pb


class Unified(JobKind):
    name = "unified"

    def uses_text(self, spec: pb.JobSpec) -> bool:
        return True

    def uses_images(self, spec: pb.JobSpec) -> bool:
        return True

    def rows(self, spec: pb.JobSpec) -> pb.TextJobSpec:
        return spec.unified.rows

    def apply_styles(self, spec: pb.JobSpec, styles: Styles) -> None:
        chosen = chosen_styles(spec.unified, "unified", styles)
        if spec.unified.prompt_template:
            spec.unified.prompt_template = styled(spec.unified.prompt_template, chosen)

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        unified = spec.unified
        schema = validate_rows(unified.rows, "unified.rows", settings, info.text)
        if bool(unified.prompt_template) == bool(unified.prompts):
            raise InvalidArgument("unified.prompt_template", "give exactly one of prompt_template or prompts")
        rules.check_count(
            unified.images_per_row, settings.max_images_per_row, "unified.images_per_row", allow_zero=True
        )
        model = rules.check_image_params(unified.params, "unified.params", info.image)
        rules.check_edit_params(unified.params, "unified.params", model, "txt2img")
        if unified.params.controls:
            raise InvalidArgument("unified.params.controls", "unified jobs take no control images")
        check_axes(unified.axes, "unified.axes", model)
        known = {field.name for field in schema.fields} | {axis.name for axis in unified.axes}
        used: set[str] = set()
        if unified.prompt_template:
            check_prompt(unified.prompt_template, "unified.prompt_template", known, used, model)
        for i, prompt in enumerate(unified.prompts):
            check_prompt(prompt, f"unified.prompts[{i}]", known, used, model)
        check_axes_used(unified.axes, used, "unified.axes")
        rules.check_count(unified_image_count(unified), settings.max_images, "unified.images_per_row")

    def disk_bytes(self, spec: pb.JobSpec, counts: pb.JobCounts) -> int:
        return estimate_bytes(counts, spec.unified.params, inputs=spec.ByteSize())

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        unified = spec.unified
        return pb.JobCounts(rows_total=unified.rows.count, images_total=unified_image_count(unified))

    async def run(self, run: JobRun) -> None:
        spec = run.job.spec.unified
        renderer = Renderer(run, spec.params)

        async def on_row(index: int, row: dict) -> None:
            renderer.add(plan_row_images(spec, index, row, run.seed))

        await renderer.render(produce=make_rows(run, spec.rows, on_row))

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        images_of_row: dict[int, list[str]] = {}
        for image in recorded.images.values():
            images_of_row.setdefault(image.row_index, []).append(image.file_name)
        write_rows(job, folder, job.spec.unified.rows, recorded.rows, images_of_row)
        write_images(job, folder, recorded, job.spec.unified.params)
