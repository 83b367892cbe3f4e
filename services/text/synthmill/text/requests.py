"""Protobuf requests → checked domain objects. Every problem is an InvalidArgument naming the field."""

from __future__ import annotations

import json

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import InvalidRow, Schema, parse_schema
from synthmill.text.jobs import RowsJob, Sampling
from synthmill.text.settings import TextSettings
from synthmill.v1 import common_pb2, text_pb2

# The most tokens a request may ask for per row or prompt; GetInfo tells the gateway.
MAX_NEW_TOKENS = 4096


def sampling_from_pb(
    pb: common_pb2.SamplingParams, settings: TextSettings, info: text_pb2.TextServerInfo
) -> Sampling:
    rules.check_sampling(pb, "sampling", info)
    return Sampling(
        pb.temperature if pb.HasField("temperature") else settings.temperature,
        pb.top_p if pb.HasField("top_p") else settings.top_p,
        pb.max_new_tokens or settings.max_new_tokens,
    )


def rows_job_from_pb(
    request: text_pb2.GenerateRowsRequest, settings: TextSettings, info: text_pb2.TextServerInfo
) -> RowsJob:
    rules.check_count(request.count, settings.max_rows, "count")
    if request.start_index + request.count > 2**32:
        raise InvalidArgument("start_index", "start_index + count must fit in uint32")
    schema = parse_schema(request.schema_json, path="schema_json")
    existing = [
        _json_object(text, f"existing_rows_json[{k}]") for k, text in enumerate(request.existing_rows_json)
    ]
    return RowsJob(
        schema=schema,
        start_index=request.start_index,
        count=request.count,
        seed=request.seed,
        instructions=request.instructions,
        sampling=sampling_from_pb(request.sampling, settings, info),
        existing_rows=tuple(existing),
        pinned=_pinned_rows(request, schema),
    )


def _json_object(text: str, where: str) -> dict:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(where, f"is not valid JSON: {exc}") from None
    if not isinstance(row, dict):
        raise InvalidArgument(where, "must be a JSON object")
    return row


def _pinned_rows(request: text_pb2.GenerateRowsRequest, schema: Schema) -> tuple[dict, ...]:
    """Pinned values: none, or one object per row with the same keys, each value valid for its field."""
    if not request.pinned_rows_json:
        return ()
    if len(request.pinned_rows_json) != request.count:
        raise InvalidArgument(
            "pinned_rows_json",
            f"has {len(request.pinned_rows_json)} rows; give none or one per row ({request.count})",
        )
    fields = {field.name: field for field in schema.fields}
    rows = [_json_object(text, f"pinned_rows_json[{k}]") for k, text in enumerate(request.pinned_rows_json)]
    for k, row in enumerate(rows):
        where = f"pinned_rows_json[{k}]"
        if list(row) != list(rows[0]):
            raise InvalidArgument(
                where, "must pin the same fields, in the same order, as pinned_rows_json[0]"
            )
        for name, value in row.items():
            if name not in fields:
                raise InvalidArgument(f"{where}.{name}", "is not in the schema")
            try:
                fields[name].validate(value)
            except InvalidRow as exc:
                raise InvalidArgument(f"{where}.{name}", str(exc)) from None
    return tuple(rows)


def check_prompts_request(request: text_pb2.ExpandPromptsRequest, settings: TextSettings) -> None:
    if not request.topic.strip():
        raise InvalidArgument("topic", "must not be empty")
    rules.check_count(request.count, settings.max_rows, "count")
