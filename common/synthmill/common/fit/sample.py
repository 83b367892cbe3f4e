"""Reading a sample: csv, jsonl or parquet bytes into named columns of raw values, with line numbers.

CSV cells stay strings (an empty cell is null) and are typed later, column by column; JSON lines keep
their JSON types; parquet keeps its own. Every problem raises InvalidArgument on `sample`, naming the
line (and the column where there is one), before anything is fitted.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from dataclasses import dataclass
from typing import Any

from synthmill.common.errors import InvalidArgument
from synthmill.common.fit.defaults import FORMATS, MAX_SAMPLE_BYTES

_UNSAFE = re.compile(r"[^A-Za-z0-9_]+")
RESERVED = ("copula", "fitted_from")


@dataclass(frozen=True)
class Sample:
    """A sample's columns (field name -> values, None for a gap) and where each row came from."""

    columns: dict[str, list[Any]]
    lines: list[int]  # the file line of each row (1-based; a CSV's header is line 1)
    sha256: str
    header: dict[str, str]  # field name -> the column's name in the file

    @property
    def rows(self) -> int:
        return len(self.lines)

    @property
    def split_seed(self) -> int:
        """The seed of the sample's train/holdout split: from its content, so a refit splits alike."""
        return int(self.sha256[:16], 16)

    def subset(self, indices: Any) -> Sample:
        columns = {name: [values[k] for k in indices] for name, values in self.columns.items()}
        return Sample(columns, [self.lines[k] for k in indices], self.sha256, self.header)

    def records(self) -> list[dict[str, Any]]:
        names = list(self.columns)
        return [dict(zip(names, values, strict=True)) for values in zip(*self.columns.values(), strict=True)]


def format_of(name: str) -> str:
    """The format a file name implies (csv when it says nothing, e.g. stdin)."""
    suffix = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    return {"jsonl": "jsonl", "ndjson": "jsonl", "json": "jsonl", "parquet": "parquet", "pq": "parquet"}.get(
        suffix, "csv"
    )


def read_sample(data: bytes, fmt: str, limit: int = MAX_SAMPLE_BYTES) -> Sample:
    """Parses a whole sample; refuses an empty one, one over `limit` bytes, or a malformed line."""
    if fmt not in FORMATS:
        raise InvalidArgument("sample.format", f"unknown format {fmt!r}; use one of {', '.join(FORMATS)}")
    if len(data) > limit:
        raise InvalidArgument("sample", f"is {len(data):,} bytes, over the limit of {limit:,}")
    digest = hashlib.sha256(data).hexdigest()
    reader = {"csv": _csv, "jsonl": _jsonl, "parquet": _parquet}[fmt]
    raw_names, rows, lines = reader(data)
    if not rows:
        raise InvalidArgument("sample", "has no rows")
    header = _field_names(raw_names)
    columns = {name: [row[k] for row in rows] for k, name in enumerate(header)}
    return Sample(columns, lines, digest, dict(zip(header, raw_names, strict=True)))


def _field_names(raw: list[str]) -> list[str]:
    """Column names as schema field names: runs of other characters become '_', repeats get a suffix."""
    out: list[str] = []
    for k, name in enumerate(raw):
        clean = _UNSAFE.sub("_", str(name)).strip("_") or f"column_{k + 1}"
        if clean[0].isdigit():
            clean = f"c_{clean}"
        if clean in RESERVED:
            clean = f"{clean}_"
        base, n = clean, 2
        while clean in out:
            clean, n = f"{base}_{n}", n + 1
        out.append(clean)
    return out


def _csv(data: bytes) -> tuple[list[str], list[list[Any]], list[int]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InvalidArgument("sample", f"is not UTF-8 text (byte {exc.start})") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        if not header or not any(h.strip() for h in header):
            raise InvalidArgument("sample", "has no header line")
        rows, lines = [], []
        for row in reader:
            if not row:
                continue
            if len(row) != len(header):
                raise InvalidArgument(
                    f"sample line {reader.line_num}",
                    f"has {len(row)} cells where the header has {len(header)}",
                )
            rows.append([cell if cell != "" else None for cell in row])
            lines.append(reader.line_num)
    except csv.Error as exc:
        raise InvalidArgument(f"sample line {reader.line_num}", f"is not valid CSV: {exc}") from None
    return [h.strip() for h in header], rows, lines


def _jsonl(data: bytes) -> tuple[list[str], list[list[Any]], list[int]]:
    names: dict[str, None] = {}
    objects, lines = [], []
    for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise InvalidArgument(f"sample line {number}", f"is not JSON: {exc.msg}") from None
        if not isinstance(obj, dict):
            raise InvalidArgument(f"sample line {number}", f"must be a JSON object, not {type(obj).__name__}")
        for key, value in obj.items():
            if isinstance(value, dict | list):
                raise InvalidArgument(
                    f"sample line {number}", f"column {key!r} holds a nested {type(value).__name__}"
                )
            names.setdefault(key)
        objects.append(obj)
        lines.append(number)
    header = list(names)
    return header, [[obj.get(name) for name in header] for obj in objects], lines


def _parquet(data: bytes) -> tuple[list[str], list[list[Any]], list[int]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(pa.BufferReader(data))
    except (pa.ArrowInvalid, OSError) as exc:
        raise InvalidArgument("sample", f"is not a parquet file: {exc}") from None
    columns = [_plain(table.column(k).to_pylist()) for k in range(table.num_columns)]
    rows = [list(values) for values in zip(*columns, strict=True)] if columns else []
    return [str(n) for n in table.column_names], rows, list(range(1, table.num_rows + 1))


def _plain(values: list[Any]) -> list[Any]:
    """Parquet values as JSON-like ones: dates and times in ISO form."""
    out = []
    for value in values:
        if hasattr(value, "isoformat"):
            value = (
                value.replace(microsecond=0, tzinfo=None).isoformat()
                if hasattr(value, "hour")
                else value.isoformat()
            )
        out.append(value)
    return out
