"""The text server's requests and results as domain types (torch-free): each request type is built
from its protobuf by `from_pb`, checking every field (an InvalidArgument names it), and each result
turns itself back with `to_pb`."""

from __future__ import annotations

import json
from dataclasses import dataclass

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.schema import InvalidRow, Schema, parse_schema
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
    # Values fixed in advance for row start_index + k at position k (empty: none pinned).
    pinned: tuple[dict, ...] = ()
    # Rows of other tables that row start_index + k belongs to, at position k (empty: none).
    context: tuple[dict, ...] = ()

    @property
    def pinned_names(self) -> tuple[str, ...]:
        return tuple(self.pinned[0]) if self.pinned else ()

    def pinned_row(self, index: int) -> dict:
        return self.pinned[index - self.start_index] if self.pinned else {}

    def context_row(self, index: int) -> dict:
        return self.context[index - self.start_index] if self.context else {}

    @classmethod
    def from_pb(
        cls, request: text_pb2.GenerateRowsRequest, settings: TextSettings, info: text_pb2.TextServerInfo
    ) -> RowsJob:
        rules.check_count(request.count, settings.max_rows, "count")
        if request.start_index + request.count > 2**32:
            raise InvalidArgument("start_index", "start_index + count must fit in uint32")
        schema = parse_schema(request.schema_json, path="schema_json")
        existing = [
            _json_object(text, f"existing_rows_json[{k}]")
            for k, text in enumerate(request.existing_rows_json)
        ]
        return cls(
            schema=schema,
            start_index=request.start_index,
            count=request.count,
            seed=request.seed,
            instructions=request.instructions,
            sampling=Sampling.from_pb(request.sampling, settings, info),
            existing_rows=tuple(existing),
            pinned=_pinned_rows(request, schema),
            context=_context_rows(request),
        )


def _json_object(text: str, where: str) -> dict:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidArgument(where, f"is not valid JSON: {exc}") from None
    if not isinstance(row, dict):
        raise InvalidArgument(where, "must be a JSON object")
    return row


def _per_row(request: text_pb2.GenerateRowsRequest, name: str) -> list[dict]:
    """The JSON objects of a per-row request field: none, or exactly one per row."""
    texts = getattr(request, name)
    if texts and len(texts) != request.count:
        raise InvalidArgument(name, f"has {len(texts)} rows; give none or one per row ({request.count})")
    return [_json_object(text, f"{name}[{k}]") for k, text in enumerate(texts)]


def _pinned_rows(request: text_pb2.GenerateRowsRequest, schema: Schema) -> tuple[dict, ...]:
    """Pinned values: none, or one object per row with the same keys, each value valid for its field."""
    rows = _per_row(request, "pinned_rows_json")
    fields = {field.name: field for field in schema.fields}
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


def _context_rows(request: text_pb2.GenerateRowsRequest) -> tuple[dict, ...]:
    """Context rows: none, or one object per row mapping table names to rows."""
    rows = _per_row(request, "context_rows_json")
    for k, row in enumerate(rows):
        for table, value in row.items():
            if not isinstance(value, dict):
                raise InvalidArgument(f"context_rows_json[{k}].{table}", "must be a JSON object (a row)")
    return tuple(rows)


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
        rules.check_not_empty(request.topic, "topic")
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
