"""`synthmill images --from-captions-of DIR -n K`: SynthVLM's flow on the user's own pictures.

1. A caption job (`synthmill caption DIR`) captions every image in DIR.
2. An images job renders K images per caption, each caption its prompt, so `--best-of` keeps the
   candidate with the best CLIPScore against that caption.
3. Every output links to the picture it re-imagines: its metadata's `caption_id` is the source's file
   name in DIR, and its `prompt` is that picture's caption.

Captions are escaped for the prompt syntax (a caption's brackets are words, not emphasis).
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from synthmill.client.client import Client
from synthmill.client.specs import annotate_job, image_job
from synthmill.common.prompt_syntax import escape
from synthmill.v1 import gateway_pb2


def captions_of(args: Any, client: Client, folder: str) -> list[gateway_pb2.Caption] | gateway_pb2.Job:
    """The captions of the images in `folder` (their ids the file names), from a caption job; the
    job itself when it did not complete."""
    job = client.submit(annotate_job(folder, annotations=["caption"]))
    if not args.quiet and not args.json:
        print(f"caption job {job.id} submitted", file=sys.stderr)
    job = client.wait(job.id)
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        return job
    with tempfile.TemporaryDirectory() as tmp:
        client.download(job.id, tmp)
        rows = [json.loads(line) for line in (Path(tmp) / "metadata.jsonl").read_text().splitlines()]
    return [
        gateway_pb2.Caption(id=row["file_name"].removeprefix("images/"), caption=escape(row["caption"]))
        for row in rows
    ]


def reimagine_job(
    captions: list[gateway_pb2.Caption], per_caption: int, flags: dict[str, Any]
) -> gateway_pb2.JobSpec:
    """K images per caption: images cycle through the captions, so count = K x captions."""
    return image_job([], max(per_caption, 1) * len(captions), captions=captions, **flags)
