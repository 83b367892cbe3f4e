"""One file per table of a tables job, written as its rows come (memory stays flat for any size).

The file is written under a temporary name and renamed into place by `close`, as every file of a
job folder is. CSV quotes every string, so an empty string ("") and a null (nothing) stay apart,
which is how PostgreSQL's `\\copy ... (FORMAT csv)` reads them.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from synthmill.common.schema import Schema
from synthmill.gateway.outputs.folder import ARROW_TYPES, EXTENSIONS


class TableFile:
    """Streams the rows of one table to `<folder>/<name>.<ext>` in a job's row format."""

    def __init__(self, folder: Path, name: str, schema: Schema, row_format: int):
        self.ext = EXTENSIONS[row_format]
        self.name = f"{name}.{self.ext}"
        self.path = folder / self.name
        self.schema = schema
        self.rows = 0
        folder.mkdir(parents=True, exist_ok=True)
        fd, self._tmp = tempfile.mkstemp(dir=folder, prefix=f".{self.name}.", suffix=".tmp")
        self._handle = os.fdopen(fd, "wb")
        self._text = None
        self._parquet = None
        if self.ext in ("csv", "jsonl", "json"):
            self._text = open(self._handle.fileno(), "w", encoding="utf-8", newline="", closefd=False)
        if self.ext == "csv":
            self._text.write(",".join(map(_csv_value, schema.names)) + "\n")
        elif self.ext == "json":
            self._text.write("[")
        elif self.ext == "parquet":
            fields = [pa.field(f.name, ARROW_TYPES.get(f.type, pa.string())) for f in schema.fields]
            self._arrow = pa.schema(fields)
            self._parquet = pq.ParquetWriter(self._handle, self._arrow)

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        names = self.schema.names
        if self.ext == "csv":
            self._text.write("".join(",".join([_csv_value(row[n]) for n in names]) + "\n" for row in rows))
        elif self.ext == "jsonl":
            self._text.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
        elif self.ext == "json":
            lead = "\n" if self.rows == 0 else ",\n"
            self._text.write(lead + ",\n".join(json.dumps(row, ensure_ascii=False) for row in rows))
        else:
            self._parquet.write_table(pa.Table.from_pylist(list(rows), schema=self._arrow))
        self.rows += len(rows)

    def close(self) -> str:
        """Finishes the file and renames it into place; returns its name in the folder."""
        if self.ext == "json":
            self._text.write("\n]\n" if self.rows else "]\n")
        if self._text is not None:
            self._text.flush()
        if self._parquet is not None:
            self._parquet.close()
        self._handle.flush()
        os.fsync(self._handle.fileno())
        self._handle.close()
        os.replace(self._tmp, self.path)
        return self.name

    def abort(self) -> None:
        self._handle.close()
        Path(self._tmp).unlink(missing_ok=True)


def _csv_value(value: Any) -> str:
    """One CSV cell: strings always quoted, a null as nothing, booleans as true/false."""
    if value is None:
        return ""
    if isinstance(value, str):
        return '"' + value.replace('"', '""') + '"'
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
