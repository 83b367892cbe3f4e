"""A job's outputs over HTTP, fetched through the gateway's DownloadJob (no shared disk needed):
`GET /jobs/{job_id}/files/{path}` serves one file, `GET /jobs/{job_id}/download` the folder as a zip
streamed while it is read. Paths that would leave the job folder are refused with 400."""

from __future__ import annotations

import mimetypes
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import PurePosixPath

from fastapi import APIRouter, HTTPException
from fastapi.responses import StreamingResponse

from synthmill.common.paths import BadPath, relative_path
from synthmill.http.deps import Gateway
from synthmill.v1 import gateway_pb2 as pb

router = APIRouter(tags=["files"])

TYPES = {".jsonl": "application/x-ndjson", ".csv": "text/csv", ".parquet": "application/vnd.apache.parquet"}
# Already compressed: stored as they are in the zip.
STORED = {".png", ".jpg", ".jpeg", ".webp", ".parquet"}


def check_path(path: str) -> str:
    try:
        return relative_path(path).as_posix()
    except BadPath as exc:
        raise HTTPException(400, f"path: {path!r} is not a path inside the job folder ({exc})") from None


async def _first(chunks: AsyncIterator[pb.FileChunk]) -> tuple[pb.FileChunk | None, AsyncIterator]:
    """The first chunk, awaited before the response starts, so a gateway refusal is a 4xx status."""
    try:
        return await anext(chunks), chunks
    except StopAsyncIteration:
        return None, chunks


@router.get("/jobs/{job_id}/files/{path:path}")
async def job_file(job_id: str, path: str, client: Gateway) -> StreamingResponse:
    """One output file, e.g. `images/00000.png`, `metadata.jsonl`, `data.csv`."""
    first, rest = await _first(client.chunks(job_id, [check_path(path)]))

    async def body() -> AsyncIterator[bytes]:
        if first is not None:
            yield first.data
        async for chunk in rest:
            yield chunk.data

    suffix = PurePosixPath(path).suffix.lower()
    media = TYPES.get(suffix) or mimetypes.guess_type(path)[0] or "application/octet-stream"
    return StreamingResponse(body(), media_type=media, headers={"Cache-Control": "no-cache"})


class _Sink:
    """A write-only file for ZipFile that hands out what was written since the last `drain`."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def drain(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


async def zip_stream(job_id: str, first: pb.FileChunk | None, rest: AsyncIterator) -> AsyncIterator[bytes]:
    sink = _Sink()
    stamp = time.localtime()[:6]
    with zipfile.ZipFile(sink, "w") as archive:
        entry = None
        chunk = first
        while chunk is not None:
            if entry is None:
                info = zipfile.ZipInfo(f"{job_id}/{chunk.path}", date_time=stamp)
                suffix = PurePosixPath(chunk.path).suffix.lower()
                info.compress_type = zipfile.ZIP_STORED if suffix in STORED else zipfile.ZIP_DEFLATED
                entry = archive.open(info, "w")
            entry.write(chunk.data)
            if chunk.last:
                entry.close()
                entry = None
            yield sink.drain()
            chunk = await anext(rest, None)
    yield sink.drain()


@router.get("/jobs/{job_id}/download")
async def download_job(job_id: str, client: Gateway) -> StreamingResponse:
    """The job's folder as `<job_id>.zip`."""
    await client.get(job_id)  # 404 for an unknown job, before the response starts
    first, rest = await _first(client.chunks(job_id))
    headers = {"Content-Disposition": f'attachment; filename="{job_id}.zip"'}
    return StreamingResponse(zip_stream(job_id, first, rest), media_type="application/zip", headers=headers)
