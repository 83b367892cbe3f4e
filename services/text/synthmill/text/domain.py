"""The text server's requests and results as domain types (torch-free): each request type is built
from its protobuf by `from_pb`, checking every field (an InvalidArgument names it), and each result
turns itself back with `to_pb`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import Schema, parse_schema
from synthmill.text.settings import TextSettings
from synthmill.v1 import common_pb2, text_pb2

# The most tokens a request may ask for per row or prompt; GetInfo tells the gateway.
MAX_NEW_TOKENS = 4096


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_new_tokens: int

    @classmethod
    def from_pb(
        cls, pb: common_pb2.SamplingParams, settings: TextSettings, info: text_pb2.TextServerInfo
    ) -> Sampling:
        rules.check_sampling(pb, "sampling", info)
        return cls(
            pb.temperature if pb.HasField("temperature") else settings.temperature,
            pb.top_p if pb.HasField("top_p") else settings.top_p,
            pb.max_new_tokens or settings.max_new_tokens,
        )


@dataclass(frozen=True)
class RowsJob:
    schema: Schema
    start_index: int
    count: int
    seed: int
    instructions: str
    sampling: Sampling
    existing_rows: tuple[dict, ...] = ()

    @classmethod
    def from_pb(
        cls, request: text_pb2.GenerateRowsRequest, settings: TextSettings, info: text_pb2.TextServerInfo
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
        return cls(
            schema=schema,
            start_index=request.start_index,
            count=request.count,
            seed=request.seed,
            instructions=request.instructions,
            sampling=Sampling.from_pb(request.sampling, settings, info),
            existing_rows=tuple(existing),
        )


@dataclass(frozen=True)
class PromptsJob:
    topic: str
    count: int
    seed: int
    sampling: Sampling

    @classmethod
    def from_pb(
        cls, request: text_pb2.ExpandPromptsRequest, settings: TextSettings, info: text_pb2.TextServerInfo
    ) -> PromptsJob:
        if not request.topic.strip():
            raise InvalidArgument("topic", "must not be empty")
        rules.check_count(request.count, settings.max_rows, "count")
        sampling = Sampling.from_pb(request.sampling, settings, info)
        return cls(request.topic, request.count, request.seed, sampling)


@dataclass(frozen=True)
class AcceptedRow:
    index: int
    row_json: str
    seed: int
    attempts: int

    def to_pb(self) -> text_pb2.GenerateRowsResponse:
        row = text_pb2.GeneratedRow(
            index=self.index, row_json=self.row_json, seed=self.seed, attempts=self.attempts
        )
        return text_pb2.GenerateRowsResponse(row=row)


@dataclass(frozen=True)
class RowsTotals:
    accepted: int
    rejected_duplicates: int
    rejected_invalid: int
    tokens: int
    seconds: float

    def to_pb(self) -> text_pb2.GenerateRowsResponse:
        summary = text_pb2.RowsSummary(
            accepted=self.accepted,
            rejected_duplicates=self.rejected_duplicates,
            rejected_invalid=self.rejected_invalid,
            tokens=self.tokens,
            seconds=self.seconds,
        )
        return text_pb2.GenerateRowsResponse(summary=summary)
