"""The shape of a job spec, checked before it is accepted. Every problem is an InvalidArgument naming
its field, e.g. `images.params.width: 100 is not a multiple of 8`. The parameters the inference servers
take are checked by `synthmill.common.rules` against those servers' GetInfo."""

from __future__ import annotations

import re
from dataclasses import dataclass

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.judging import Capabilities
from synthmill.common.schema import Schema, parse_schema
from synthmill.gateway import annotate
from synthmill.gateway.kinds import tables
from synthmill.gateway.kinds.plan import image_count, placeholders, unified_image_count
from synthmill.gateway.settings import GatewaySettings
from synthmill.v1 import common_pb2, image_pb2, text_pb2
from synthmill.v1 import gateway_pb2 as pb

_AXIS_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class ServerInfo:
    """The GetInfo of each inference server a job needs; None for one it does not use."""

    text: text_pb2.TextServerInfo | None = None
    image: image_pb2.ImageServerInfo | None = None


def validate_spec(spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
    kind = spec.WhichOneof("kind")
    if kind is None:
        raise InvalidArgument("spec.kind", "one of text, images, unified, annotate or tables is required")
    if spec.HasField("seed") and spec.seed < -1:
        raise InvalidArgument("spec.seed", f"{spec.seed} is negative (use -1 for a random seed)")
    if kind == "text":
        _validate_rows(spec.text, "text", settings, info.text)
    elif kind == "annotate":
        caps = Capabilities.from_info(info.image) if info.image is not None else None
        annotate.validate(spec.annotate, settings.max_images, caps)
    elif kind == "tables":
        tables.validate(spec.tables, settings, info.text)
    elif kind == "images":
        _validate_images(spec.images, settings, info)
    else:
        _validate_unified(spec.unified, settings, info)


def uses_text(spec: pb.JobSpec) -> bool:
    kind = spec.WhichOneof("kind")
    if kind == "tables":
        return tables.spec_uses_text(spec.tables)
    return kind in ("text", "unified") or (kind == "images" and bool(spec.images.expand_topic))


def uses_images(spec: pb.JobSpec) -> bool:
    return spec.WhichOneof("kind") in ("images", "unified", "annotate")


def _validate_rows(
    rows: pb.TextJobSpec, path: str, settings: GatewaySettings, info: text_pb2.TextServerInfo | None
) -> Schema:
    schema = parse_schema(rows.schema_json, f"{path}.schema")
    rules.check_count(rows.count, settings.max_rows, f"{path}.count")
    if rows.format not in common_pb2.RowFormat.values():
        raise InvalidArgument(f"{path}.format", f"unknown format {rows.format}")
    if info is not None:
        rules.check_model(rows.model, [m.name for m in info.models], f"{path}.model")
    rules.check_sampling(rows.sampling, f"{path}.sampling", info)
    return schema


def _validate_images(spec: pb.ImageJobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
    sources = [name for name in ("prompts", "captions", "expand_topic") if getattr(spec, name)]
    if len(sources) != 1:
        raise InvalidArgument("images.prompts", "give exactly one of prompts, captions or expand_topic")
    rules.check_count(spec.count, settings.max_images, "images.count", allow_zero=not spec.expand_topic)
    if spec.expand_topic and info.text is not None:  # the text server writes `count` prompts at once
        rules.check_count(spec.count, info.text.max_rows, "images.count")
    model = rules.check_image_params(spec.params, "images.params", info.image)
    _validate_axes(spec.axes, "images.axes", model)
    axis_names = {axis.name for axis in spec.axes}
    used: set[str] = set()
    for i, prompt in enumerate(spec.prompts):
        _check_prompt(prompt, f"images.prompts[{i}]", axis_names, used, model)
    for i, caption in enumerate(spec.captions):
        if not caption.caption.strip():
            raise InvalidArgument(f"images.captions[{i}].caption", "is empty")
        rules.check_prompt(caption.caption, f"images.captions[{i}].caption", model)
    if spec.expand_topic.strip() == "" and spec.expand_topic:
        raise InvalidArgument("images.expand_topic", "is empty")
    if spec.axes and not spec.expand_topic and not spec.captions:
        _check_axes_used(spec.axes, used, "images.axes")
    total = image_count(spec, len(spec.prompts or spec.captions))
    rules.check_count(total, settings.max_images, "images.count")


def _validate_unified(spec: pb.UnifiedJobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
    schema = _validate_rows(spec.rows, "unified.rows", settings, info.text)
    if bool(spec.prompt_template) == bool(spec.prompts):
        raise InvalidArgument("unified.prompt_template", "give exactly one of prompt_template or prompts")
    rules.check_count(
        spec.images_per_row, settings.max_images_per_row, "unified.images_per_row", allow_zero=True
    )
    model = rules.check_image_params(spec.params, "unified.params", info.image)
    _validate_axes(spec.axes, "unified.axes", model)
    known = {field.name for field in schema.fields} | {axis.name for axis in spec.axes}
    used: set[str] = set()
    if spec.prompt_template:
        _check_prompt(spec.prompt_template, "unified.prompt_template", known, used, model)
    for i, prompt in enumerate(spec.prompts):
        _check_prompt(prompt, f"unified.prompts[{i}]", known, used, model)
    _check_axes_used(spec.axes, used, "unified.axes")
    rules.check_count(unified_image_count(spec), settings.max_images, "unified.images_per_row")


def _validate_axes(axes, path: str, model: common_pb2.ModelInfo | None) -> None:
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
            rules.check_prompt(value, f"{path}[{i}].values[{j}]", model)


def _check_prompt(
    prompt: str, path: str, known: set[str], used: set[str], model: common_pb2.ModelInfo | None
) -> None:
    if not prompt.strip():
        raise InvalidArgument(path, "is empty")
    rules.check_prompt(prompt, path, model)
    for name in placeholders(prompt):
        if name not in known:
            raise InvalidArgument(path, f"placeholder {{{name}}} is neither a schema field nor an axis")
        used.add(name)


def _check_axes_used(axes, used: set[str], path: str) -> None:
    for i, axis in enumerate(axes):
        if axis.name not in used:
            raise InvalidArgument(f"{path}[{i}].name", f"no prompt has the placeholder {{{axis.name}}}")
