"""Protobuf requests → checked domain objects. Every problem is an InvalidArgument naming the field."""

from __future__ import annotations

import json

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import parse_schema
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
    existing = []
    for k, text in enumerate(request.existing_rows_json):
        try:
            row = json.loads(text)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"existing_rows_json[{k}]", f"is not valid JSON: {exc}") from None
        if not isinstance(row, dict):
            raise InvalidArgument(f"existing_rows_json[{k}]", "must be a JSON object")
        existing.append(row)
    return RowsJob(
        schema=schema,
        start_index=request.start_index,
        count=request.count,
        seed=request.seed,
        instructions=request.instructions,
        sampling=sampling_from_pb(request.sampling, settings, info),
        existing_rows=tuple(existing),
    )


def check_prompts_request(request: text_pb2.ExpandPromptsRequest, settings: TextSettings) -> None:
    if not request.topic.strip():
        raise InvalidArgument("topic", "must not be empty")
    rules.check_count(request.count, settings.max_rows, "count")
