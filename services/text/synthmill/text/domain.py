"""The engine's requests and results as plain data (torch-free, so the servicer can build them)."""

from __future__ import annotations

from dataclasses import dataclass

from synthmill.common.schema import Schema


@dataclass(frozen=True)
class Sampling:
    temperature: float
    top_p: float
    max_new_tokens: int


@dataclass(frozen=True)
class RowsJob:
    schema: Schema
    start_index: int
    count: int
    seed: int
    instructions: str
    sampling: Sampling
    existing_rows: tuple[dict, ...] = ()


@dataclass(frozen=True)
class AcceptedRow:
    index: int
    row_json: str
    seed: int
    attempts: int


@dataclass(frozen=True)
class RowsTotals:
    accepted: int
    rejected_duplicates: int
    rejected_invalid: int
    tokens: int
    seconds: float
