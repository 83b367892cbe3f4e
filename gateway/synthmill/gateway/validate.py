"""Checks a job spec before it is accepted. Every problem is an InvalidArgument naming its
field, e.g. `images.params.width: 100 is not a multiple of 8`."""

from __future__ import annotations

import re

from synthmill.common import prompt_syntax
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import Schema, parse_schema
from synthmill.gateway.plan import image_count, placeholders
from synthmill.gateway.settings import GatewaySettings
from synthmill.v1 import common_pb2, image_pb2
from synthmill.v1 import gateway_pb2 as pb

_AXIS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def validate_spec(
    spec: pb.JobSpec, settings: GatewaySettings, image_info: image_pb2.ImageServerInfo | None
) -> None:
    kind = spec.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument("spec.kind", "one of text, images or unified is required")
    if spec.HasField("seed") and spec.seed < -1:
        raise InvalidArgument("spec.seed", f"{spec.seed} is negative (use -1 for a random seed)")
    if kind == "text":
        validate_rows(spec.text, "text", settings)
    elif kind == "images":
        _validate_images(spec.images, settings, image_info)
    else:
        _validate_unified(spec.unified, settings, image_info)


def validate_rows(rows: pb.TextJobSpec, path: str, settings: GatewaySettings) -> Schema:
    schema = parse_schema(rows.schema_json, f"{path}.schema")
    _check_count(rows.count, settings.max_rows, f"{path}.count")
    if rows.format not in common_pb2.RowFormat.values():
        raise InvalidArgument(f"{path}.format", f"unknown format {rows.format}")
    return schema


def _check_count(count: int, limit: int, path: str, allow_zero: bool = False) -> None:
    if count == 0 and not allow_zero:
        raise InvalidArgument(path, "must be at least 1")
    if count > limit:
        raise InvalidArgument(path, f"{count} is over the limit of {limit}")


def _validate_images(spec: pb.ImageJobSpec, settings: GatewaySettings, info) -> None:
    sources = [name for name in ("prompts", "captions", "expand_topic") if getattr(spec, name)]
    if len(sources) != 1:
        raise InvalidArgument("images.prompts", "give exactly one of prompts, captions or expand_topic")
    _check_count(spec.count, settings.max_images, "images.count", allow_zero=not spec.expand_topic)
    syntax = _Syntax(_chosen_model(spec.params, "images.params", info))
    _validate_axes(spec.axes, "images.axes", syntax)
    axis_names = {axis.name for axis in spec.axes}
    used: set[str] = set()
    for i, prompt in enumerate(spec.prompts):
        _check_prompt(prompt, f"images.prompts[{i}]", axis_names, used, syntax)
    for i, caption in enumerate(spec.captions):
        if not caption.caption.strip():
            raise InvalidArgument(f"images.captions[{i}].caption", "is empty")
        syntax.check(caption.caption, f"images.captions[{i}].caption")
    if spec.expand_topic.strip() == "" and spec.expand_topic:
        raise InvalidArgument("images.expand_topic", "is empty")
    if spec.axes and not spec.expand_topic and not spec.captions:
        _check_axes_used(spec.axes, used, "images.axes")
    total = image_count(spec, len(spec.prompts or spec.captions))
    _check_count(total, settings.max_images, "images.count")
    validate_image_params(spec.params, "images.params", info)


def _validate_unified(spec: pb.UnifiedJobSpec, settings: GatewaySettings, info) -> None:
    schema = validate_rows(spec.rows, "unified.rows", settings)
    if bool(spec.prompt_template) == bool(spec.prompts):
        raise InvalidArgument("unified.prompt_template", "give exactly one of prompt_template or prompts")
    _check_count(spec.images_per_row, settings.max_images_per_row, "unified.images_per_row", allow_zero=True)
    syntax = _Syntax(_chosen_model(spec.params, "unified.params", info))
    _validate_axes(spec.axes, "unified.axes", syntax)
    known = {field.name for field in schema.fields} | {axis.name for axis in spec.axes}
    used: set[str] = set()
    if spec.prompt_template:
        _check_prompt(spec.prompt_template, "unified.prompt_template", known, used, syntax)
    for i, prompt in enumerate(spec.prompts):
        _check_prompt(prompt, f"unified.prompts[{i}]", known, used, syntax)
    _check_axes_used(spec.axes, used, "unified.axes")
    _check_count(spec.rows.count * (spec.images_per_row or 1), settings.max_images, "unified.images_per_row")
    validate_image_params(spec.params, "unified.params", info)


def _validate_axes(axes, path: str, syntax: _Syntax) -> None:
    seen = set()
    for i, axis in enumerate(axes):
        if not _AXIS_NAME.match(axis.name):
            raise InvalidArgument(f"{path}[{i}].name", f"{axis.name!r} is not a valid placeholder name")
        if axis.name in seen:
            raise InvalidArgument(f"{path}[{i}].name", f"axis {axis.name!r} is given twice")
        seen.add(axis.name)
        if not axis.values or any(not value.strip() for value in axis.values):
            raise InvalidArgument(f"{path}[{i}].values", f"axis {axis.name!r} has no values or an empty one")
        for j, value in enumerate(axis.values):
            syntax.check(value, f"{path}[{i}].values[{j}]")


def _check_prompt(prompt: str, path: str, known: set[str], used: set[str], syntax: _Syntax) -> None:
    if not prompt.strip():
        raise InvalidArgument(path, "is empty")
    syntax.check(prompt, path)
    for name in placeholders(prompt):
        if name not in known:
            raise InvalidArgument(path, f"placeholder {{{name}}} is neither a schema field nor an axis")
        used.add(name)


def _check_axes_used(axes, used: set[str], path: str) -> None:
    for i, axis in enumerate(axes):
        if axis.name not in used:
            raise InvalidArgument(f"{path}[{i}].name", f"no prompt has the placeholder {{{axis.name}}}")


def _chosen_model(params: common_pb2.ImageParams, path: str, info) -> common_pb2.ModelInfo | None:
    """The image model a job's params pick, when the image server's info is at hand."""
    if not info:
        return None
    models = {m.name: m for m in info.models}
    if params.model and params.model not in models:
        loaded = ", ".join(models)
        raise InvalidArgument(f"{path}.model", f"model {params.model!r} is not loaded; loaded: {loaded}")
    return models.get(params.model) or next((m for m in info.models if m.is_default), None)


class _Syntax:
    """Checks prompts for the emphasis syntax; weights are refused for models that cannot take them."""

    def __init__(self, model: common_pb2.ModelInfo | None):
        self.model = model

    def check(self, prompt: str, path: str) -> None:
        if self.model is None:
            prompt_syntax.check(prompt, path)
        else:
            prompt_syntax.check(prompt, path, self.model.name, self.model.family)


def validate_image_params(params: common_pb2.ImageParams, path: str, info) -> None:
    """Checks sizes, steps and the negative prompt; with the image server's info also the model, its
    schedulers and size multiple, and the server's limits."""
    model = _chosen_model(params, path, info)
    _Syntax(model).check(params.negative_prompt, f"{path}.negative_prompt")
    multiple = model.size_multiple if model and model.size_multiple else 8
    for name in ("width", "height"):
        value = getattr(params, name)
        if value % multiple:
            suffix = f" for {model.name}" if model else ""
            raise InvalidArgument(f"{path}.{name}", f"{value} is not a multiple of {multiple}{suffix}")
        if info and value > info.max_size:
            raise InvalidArgument(f"{path}.{name}", f"{value} is over the limit of {info.max_size}")
    if info and params.steps > info.max_steps:
        raise InvalidArgument(f"{path}.steps", f"{params.steps} is over the limit of {info.max_steps}")
    if params.HasField("guidance") and params.guidance < 0:
        raise InvalidArgument(f"{path}.guidance", f"{params.guidance} is negative")
    if model and params.scheduler and model.schedulers and params.scheduler not in model.schedulers:
        raise InvalidArgument(
            f"{path}.scheduler",
            f"unknown scheduler {params.scheduler!r} for {model.name}; one of {', '.join(model.schedulers)}",
        )
