"""`make demo`: the local stack on the embedded default models, a small unified job (rows, each with a
floorplan image) and a small text job through the Client, then the dataset folders. Exits non-zero if
anything failed.

    python -m tools.demo [--output-dir DIR] [--steps S] [--device D]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from synthmill.client._common import DEFAULT_HTTP_PORT, state_name
from synthmill.client.client import Client
from synthmill.client.errors import SynthmillError
from synthmill.client.progress import JobProgress
from synthmill.client.specs import text_job, unified_job
from synthmill.client.stack import Stack, StackError, free_port
from synthmill.v1 import gateway_pb2

TEXT_MODEL = "smollm2-135m"
IMAGE_MODEL = "tiny-sd"
# Seed 000: floorplans for a room-segmentation dataset.
FLOORPLAN_NEGATIVE = (
    "colors, textures, shading, and any 3D elements. furniture, patterns, or decorative designs. Exclude any "
    "details like landscapes, people, or non-architectural elements. Keep the drawing simple, with just black "
    "lines and a white background. Round shapes"
)
# Rows that describe apartments, each rendered as a floorplan from the template.
APARTMENT_SCHEMA = {
    "layout": ["studio", "one-bedroom", "two-bedroom", "loft"],
    "rooms": {"type": "int", "minimum": 1, "maximum": 6, "description": "number of rooms"},
}
APARTMENT_TEMPLATE = (
    "Simple 2D architectural floorplan of a {layout} apartment with {rooms} rooms, clean black lines on a "
    "white background, walls, doors and windows, minimalistic technical drawing"
)
# Seed 003: the REST prototype's example schema.
CUSTOMER_SCHEMA = {"customer_name": "string", "age": "int", "order_value": "float"}


def run_job(client: Client, title: str, spec: gateway_pb2.JobSpec) -> gateway_pb2.Job:
    job = client.submit(spec)
    print(f"\n== {title}: job {job.id}", flush=True)
    with JobProgress(job.id, file=sys.stdout) as bars:
        job = client.wait(job.id, on_event=bars)
    counts = job.counts
    print(
        f"   {state_name(job.state)}: rows {counts.rows_done}/{counts.rows_total}, "
        f"images {counts.images_done}/{counts.images_total}" + (f" - {job.error}" if job.error else ""),
        flush=True,
    )
    return job


def show_folder(job: gateway_pb2.Job) -> None:
    folder = Path(job.output_dir)
    print(f"\n{folder}/")
    if not folder.is_dir():
        print("   (not on this machine)")
        return
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        print(f"   {path.relative_to(folder)}  ({path.stat().st_size} bytes)")
    data = next(iter(sorted(folder.glob("data.jsonl"))), None)
    if data is not None:
        print("   first rows:")
        for line in data.read_text().splitlines()[:5]:
            print(f"     {line}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--output-dir", default="generated_data", help="dataset root (default ./generated_data)"
    )
    parser.add_argument("--steps", type=int, default=4, help="denoising steps (default 4)")
    parser.add_argument("--device", help="torch device for both servers (default: the servers' choice)")
    args = parser.parse_args(argv)

    log_dir = Path(tempfile.mkdtemp(prefix="synthmill-demo-logs-"))
    stack = Stack(
        text_model=TEXT_MODEL,
        image_models=(IMAGE_MODEL,),
        device=args.device,
        output_dir=Path(args.output_dir).resolve(),
        gateway_port=free_port(),
        text_port=free_port(),
        image_port=free_port(),
        log_dir=log_dir,
        on_status=lambda line: print(f"[stack] {line}", flush=True),
    )
    print(f"starting the stack (server logs in {log_dir})", flush=True)
    try:
        with stack, Client(stack.gateway_target) as client:
            images = run_job(
                client,
                f"3 apartments, each with a floorplan ({TEXT_MODEL} + {IMAGE_MODEL}, 64x64, {args.steps} steps)",
                unified_job(
                    APARTMENT_SCHEMA,
                    3,
                    prompt_template=APARTMENT_TEMPLATE,
                    negative=FLOORPLAN_NEGATIVE,
                    size=(64, 64),
                    steps=args.steps,
                    seed=0,
                ),
            )
            rows = run_job(
                client,
                f"5 customer rows ({TEXT_MODEL})",
                text_job(CUSTOMER_SCHEMA, 5, format="jsonl", seed=0),
            )
            for job in (images, rows):
                show_folder(job)
            failed = [j for j in (images, rows) if j.state != gateway_pb2.JOB_STATE_COMPLETED]
    except (StackError, SynthmillError) as exc:
        print(f"\nerror: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    if failed:
        print(f"\nerror: {len(failed)} job(s) did not complete", file=sys.stderr)
        return 1
    print("\ndemo done", flush=True)
    print(
        f"the web page: `synthmill up` serves it at {Stack(http_port=DEFAULT_HTTP_PORT).ui_url}", flush=True
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
