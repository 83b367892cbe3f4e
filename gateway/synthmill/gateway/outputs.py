"""A job's output folder. Every file is written to a temporary name and renamed into
place, so a crash never leaves a half-written file that looks complete.

    <job_id>/job.json          spec, state, timings, models, versions
    <job_id>/schema.json       normalised schema (text and unified jobs)
    <job_id>/prompts.json      prompts written by the LLM (expanded image jobs)
    <job_id>/data.<format>     rows (text and unified jobs)
    <job_id>/images/00000.png  images with an A1111-style "parameters" chunk
    <job_id>/metadata.jsonl    one line per image: file_name, prompt, seed, ... (+ row fields)
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthmill.common.errors import InvalidArgument, NotFound
from synthmill.common.schema import Schema
from synthmill.v1 import common_pb2

EXTENSIONS = {
    common_pb2.ROW_FORMAT_UNSPECIFIED: "jsonl",
    common_pb2.ROW_FORMAT_JSONL: "jsonl",
    common_pb2.ROW_FORMAT_JSON: "json",
    common_pb2.ROW_FORMAT_CSV: "csv",
    common_pb2.ROW_FORMAT_PARQUET: "parquet",
}

_ARROW_TYPES = {
    "int": pa.int64(),
    "float": pa.float64(),
    "bool": pa.bool_(),
}


def write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def image_name(index: int) -> str:
    return f"images/{index:05d}.png"


class JobFolder:
    def __init__(self, root: Path, job_id: str):
        self.path = root / job_id

    def remove_partial_files(self) -> None:
        """Deletes temporary files a killed gateway left behind."""
        if self.path.is_dir():
            for partial in self.path.rglob(".*.tmp"):
                partial.unlink(missing_ok=True)

    def write_json(self, name: str, value: Any) -> None:
        write_atomic(self.path / name, json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n")

    def write_image(self, index: int, png: bytes) -> str:
        name = image_name(index)
        write_atomic(self.path / name, png)
        return name

    def write_metadata(self, entries: Sequence[dict[str, Any]]) -> None:
        lines = "".join(json.dumps(entry, ensure_ascii=False) + "\n" for entry in entries)
        write_atomic(self.path / "metadata.jsonl", lines.encode())

    def write_rows(self, rows: Sequence[dict[str, Any]], schema: Schema, row_format: int) -> str:
        """Writes data.<ext> in the job's format; an `images` column (a list) is kept as is."""
        ext = EXTENSIONS[row_format]
        columns = [field.name for field in schema.fields] + (
            ["images"] if rows and "images" in rows[0] else []
        )
        if ext == "jsonl":
            data = "".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows).encode()
        elif ext == "json":
            data = json.dumps(list(rows), indent=2, ensure_ascii=False).encode() + b"\n"
        elif ext == "csv":
            data = _csv(rows, columns)
        else:
            data = _parquet(rows, columns, schema)
        write_atomic(self.path / f"data.{ext}", data)
        return f"data.{ext}"

    def files(self) -> list[Path]:
        """Every finished file, relative to the folder, in a stable order."""
        if not self.path.is_dir():
            return []
        return sorted(
            p.relative_to(self.path)
            for p in self.path.rglob("*")
            if p.is_file() and not p.name.startswith(".")
        )

    def select(self, paths: Sequence[str]) -> list[Path]:
        """The named files, relative to the folder; refuses paths that leave it and files it lacks."""
        chosen = []
        for i, name in enumerate(paths):
            pure = PurePosixPath(name)
            if not name or pure.is_absolute() or ".." in pure.parts or "\\" in name:
                raise InvalidArgument(f"paths[{i}]", f"{name!r} is not a path inside the job folder")
            relative = Path(*pure.parts)
            if relative.name.startswith(".") or not (self.path / relative).is_file():
                raise NotFound(f"paths[{i}]: the job has no file {name!r}")
            chosen.append(relative)
        return chosen


def _csv(rows: Sequence[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue().encode()


def _parquet(rows: Sequence[dict[str, Any]], columns: list[str], schema: Schema) -> bytes:
    fields = [pa.field(f.name, _ARROW_TYPES.get(f.type, pa.string()), nullable=True) for f in schema.fields]
    if "images" in columns:
        fields.append(pa.field("images", pa.list_(pa.string())))
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
