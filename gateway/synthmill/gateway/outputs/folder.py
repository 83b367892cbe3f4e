"""A job's output folder. Every file is written to a temporary name and renamed into
place, so a crash never leaves a half-written file that looks complete. A job submitted with an
API key lives under its tenant's folder, `<root>/<key name>/<job_id>/`; without keys, `<root>/<job_id>/`.
Files are served only from inside the folder: no `..`, no absolute paths, no symbolic links.

    <job_id>/job.json          spec, state, timings, models, versions
    <job_id>/schema.json       normalised schema (text and unified jobs)
    <job_id>/prompts.json      prompts written by the LLM (expanded image jobs)
    <job_id>/data.<format>     rows (text and unified jobs)
    <job_id>/stats.json        per column counts, histograms, fit of declared distributions
    <job_id>/stats.html        the same as a page of histograms (inline SVG)
    <job_id>/images/00000.png  images with an A1111-style "parameters" chunk
    <job_id>/metadata.jsonl    one line per image: file_name, prompt, seed, score, boxes, ... (+ row fields)
    <job_id>/candidates/00000-3.png   best-of candidates that lost (with --keep-candidates)
    <job_id>/annotations/instances.json   COCO boxes (jobs with annotations)
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import stat
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any, BinaryIO

import pyarrow as pa
import pyarrow.parquet as pq

from synthmill.common.errors import InvalidArgument, NotFound
from synthmill.common.paths import BadPath, relative_path
from synthmill.common.schema import Schema
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb

EXTENSIONS = {
    common_pb2.ROW_FORMAT_UNSPECIFIED: "jsonl",
    common_pb2.ROW_FORMAT_JSONL: "jsonl",
    common_pb2.ROW_FORMAT_JSON: "json",
    common_pb2.ROW_FORMAT_CSV: "csv",
    common_pb2.ROW_FORMAT_PARQUET: "parquet",
}

ARROW_TYPES = {
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


class OutsideFolder(ValueError):
    """A path that would leave the job's folder (`..`, absolute, or through a symbolic link)."""


class JobFolder:
    def __init__(self, root: Path, job_id: str, owner: str = ""):
        self.root = root
        self.parts = (owner, job_id) if owner else (job_id,)
        self.path = root.joinpath(*self.parts)

    @classmethod
    def of(cls, root: Path, job: pb.Job) -> JobFolder:
        return cls(root, job.id, job.owner)

    def remove_partial_files(self) -> None:
        """Deletes temporary files a killed gateway left behind."""
        if self.path.is_dir():
            for partial in self.path.rglob(".*.tmp"):
                partial.unlink(missing_ok=True)

    def write_json(self, name: str, value: Any) -> None:
        write_atomic(self.path / name, json.dumps(value, indent=2, ensure_ascii=False).encode() + b"\n")

    def write_text(self, name: str, text: str) -> None:
        write_atomic(self.path / name, text.encode())

    def write_image(self, index: int, png: bytes) -> str:
        name = image_name(index)
        write_atomic(self.path / name, png)
        return name

    def write_candidate(self, index: int, number: int, png: bytes) -> str:
        name = f"candidates/{index:05d}-{number}.png"
        write_atomic(self.path / name, png)
        return name

    def write_input(self, file_name: str, data: bytes) -> str:
        """An image given for annotation, kept under images/ with its own name."""
        name = f"images/{file_name}"
        write_atomic(self.path / name, data)
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
        """Every finished file, relative to the folder, in a stable order; symbolic links (to files or
        folders) are not followed or listed."""
        found = []
        for parent, dirs, names in os.walk(self.path, followlinks=False):
            dirs[:] = [d for d in dirs if not (Path(parent) / d).is_symlink()]
            for name in names:
                path = Path(parent) / name
                if not name.startswith(".") and not path.is_symlink() and path.is_file():
                    found.append(path.relative_to(self.path))
        return sorted(found)

    def open_file(self, relative: str | Path) -> BinaryIO:
        """Opens a file of the folder for reading; raises OutsideFolder for a path that would leave it.
        Each part is opened relative to its parent folder's descriptor with O_NOFOLLOW (openat), from
        the output root down: a symbolic link swapped in after any check is still never followed."""
        try:
            pure = relative_path(str(relative))
        except BadPath as exc:
            raise OutsideFolder(str(exc)) from None
        steps = [(part, os.O_DIRECTORY) for part in (*self.parts, *pure.parts[:-1])]
        steps.append((pure.parts[-1], os.O_NONBLOCK))  # a FIFO planted here must not block the open
        fd = os.open(self.root, os.O_RDONLY | os.O_DIRECTORY)
        try:
            for part, flags in steps:
                child = _open_below(fd, part, os.O_RDONLY | flags, relative)
                os.close(fd)
                fd = child
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                raise FileNotFoundError(f"{str(relative)!r} is not a file")
            os.set_blocking(fd, True)
            handle = os.fdopen(fd, "rb")
        except BaseException:
            os.close(fd)
            raise
        return handle

    def select(self, paths: Sequence[str]) -> list[Path]:
        """The named files (relative to the folder) among `files()`; a path that is not one inside the
        folder is InvalidArgument, checked for every path before any is looked up, one the folder
        lacks NotFound."""
        for i, name in enumerate(paths):
            try:
                relative_path(name)
            except BadPath as exc:
                raise InvalidArgument(f"paths[{i}]", str(exc)) from None
        listed = {path.as_posix(): path for path in self.files()}
        chosen = []
        for i, name in enumerate(paths):
            if name in listed:
                chosen.append(listed[name])
                continue
            try:
                self.open_file(name).close()
            except OutsideFolder as exc:
                raise InvalidArgument(f"paths[{i}]", str(exc)) from None
            except OSError:
                pass
            raise NotFound(f"paths[{i}]: the job has no file {name!r}")
        return chosen


def _open_below(parent: int, name: str, flags: int, relative: str | Path) -> int:
    """`name` opened inside the folder open as `parent`, never through a symbolic link."""
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=parent)
    except OSError as exc:
        if exc.errno in (errno.ELOOP, errno.ENOTDIR) and stat.S_ISLNK(os.lstat(name, dir_fd=parent).st_mode):
            raise OutsideFolder(f"{str(relative)!r} goes through a symbolic link") from None
        raise


def _csv(rows: Sequence[dict[str, Any]], columns: list[str]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: json.dumps(v) if isinstance(v, list) else v for k, v in row.items()})
    return out.getvalue().encode()


def _parquet(rows: Sequence[dict[str, Any]], columns: list[str], schema: Schema) -> bytes:
    fields = [pa.field(f.name, ARROW_TYPES.get(f.type, pa.string()), nullable=True) for f in schema.fields]
    if "images" in columns:
        fields.append(pa.field("images", pa.list_(pa.string())))
    table = pa.Table.from_pylist([{c: row.get(c) for c in columns} for row in rows], schema=pa.schema(fields))
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()
