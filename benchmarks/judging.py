"""Judging cost: CLIPScore and detection time per image as ratios to generation time, best-of-4
against four separate renders, and boxes with masks against boxes alone, on the same stack in the
same run.

Phase times come from the job's own events (WatchJob): for each pipeline batch, generation runs from
the batch's start (the end of the previous batch's last event, or RUNNING) to its last denoising step;
scoring runs to the SCORING events, detection from the SELECTING to the DETECTING events. Best-of is
timed from the jobs' recorded started_at/finished_at: `n` items with best_of 4 against `4n` items.
Masks are timed the same way, as `annotate` jobs over photographs that ship in packages (the
embedded diffusion model draws noise, in which the detector finds nothing for SAM to outline):
`bbox` against `bbox,mask`. With the embedded tiny-sam that measures the plumbing (prompting, RLE,
clipping, the wire), not a real SAM's encoder; `--segmenter facebook/sam-vit-base` measures that.

    python -m benchmarks.judging --device cpu
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import matplotlib.cbook
import skimage.data

from benchmarks import common
from synthmill.client import Client, image_job
from synthmill.client.specs import annotate_job
from synthmill.v1 import common_pb2, gateway_pb2

NAME = "judging"
PROMPTS = ["a red bicycle leaning on a brick wall", "a bowl of oranges on a wooden table"]
# scikit-image's bundled photographs with things YOLOv3-tiny knows (people, a cat, a cup, a motorcycle)
SKIMAGE_PHOTOS = ("astronaut.png", "camera.png", "chelsea.png", "coffee.png", "motorcycle_left.png")


# --smoke: one round at the smallest sizes
SMOKE = {"images": 1, "steps": 1, "rounds": 1}


def photographs(folder: Path) -> Path:
    """Copies matplotlib's Grace Hopper and scikit-image's photographs into `folder`."""
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), folder)
    for name in SKIMAGE_PHOTOS:
        shutil.copy(Path(skimage.data.__file__).parent / name, folder)
    return folder


def _seconds(stamp) -> float:
    return stamp.ToNanoseconds() / 1e9


def phase_times(events: list[gateway_pb2.JobEvent], steps: int) -> dict[str, float]:
    """Seconds of generation, scoring and detection summed over the job's batches."""
    last_step: dict[int, float] = {}
    marks: dict[int, dict[int, float]] = defaultdict(dict)
    running = next(
        _seconds(e.time) for e in events if e.WhichOneof("event") == "state" and e.state.state == 2
    )
    for e in events:
        if e.WhichOneof("event") != "step":
            continue
        if e.step.phase == common_pb2.PHASE_DENOISING and e.step.step == steps:
            last_step[e.step.index] = _seconds(e.time)
        elif e.step.phase != common_pb2.PHASE_DENOISING:
            marks[e.step.index].setdefault(e.step.phase, _seconds(e.time))
    batches: dict[float, list[int]] = defaultdict(list)  # a batch's items share their last step
    for index, t in last_step.items():
        batches[round(t, 2)].append(index)
    totals = {"generation": 0.0, "scoring": 0.0, "detection": 0.0}
    start = running
    for _, items in sorted(batches.items()):
        denoised = max(last_step[i] for i in items)
        scored = max(marks[i][common_pb2.PHASE_SCORING] for i in items)
        selected = max(marks[i][common_pb2.PHASE_SELECTING] for i in items)
        detected = max(marks[i][common_pb2.PHASE_DETECTING] for i in items)
        totals["generation"] += denoised - start
        totals["scoring"] += scored - denoised
        totals["detection"] += detected - selected
        start = detected
    return totals


def run(args) -> dict[str, Any]:
    n = args.images
    rounds = common.Rounds()
    ratios: dict[str, list[float]] = {"scoring_vs_generation": [], "detection_vs_generation": []}
    with (
        common.stack(
            NAME,
            image_model=args.model,
            device=args.device,
            threads=args.threads,
            env={"SYNTHMILL_IMAGE_MAX_BATCH": "4", "SYNTHMILL_IMAGE_SEGMENTER": args.segmenter},
            keep=args.keep_logs,
        ) as s,
        Client(s.gateway_target) as client,
    ):

        def job(count: int, **extra: Any) -> gateway_pb2.Job:
            spec = image_job(PROMPTS, count, size=(args.size, args.size), steps=args.steps, seed=1, **extra)
            events: list[gateway_pb2.JobEvent] = []
            done = client.wait(client.submit(spec).id, on_event=events.append)
            if extra.get("annotations"):
                t = phase_times(events, args.steps)
                ratios["scoring_vs_generation"].append(t["scoring"] / t["generation"])
                ratios["detection_vs_generation"].append(t["detection"] / t["generation"])
            return done

        def elapsed(done: gateway_pb2.Job) -> float:
            return _seconds(done.finished_at) - _seconds(done.started_at)

        job(4 * n)  # warm-up at the measured shapes
        for _ in range(args.rounds + 1):  # the first is a warm-up: its ratios are dropped
            job(n, best_of=4, annotations=["bbox"])
        for runs in ratios.values():
            del runs[0]
        common.interleaved(
            args.rounds,
            {
                "best_of_4": lambda: elapsed(job(n, best_of=4)),
                "four_renders": lambda: elapsed(job(4 * n)),
            },
            rounds,
        )
        photos = photographs(Path(tempfile.mkdtemp(prefix="synthmill-bench-photos-")))
        found: dict[str, int] = {}

        def annotate(*kinds: str) -> float:
            done = client.wait(client.submit(annotate_job(photos, annotations=kinds)).id)
            coco = json.loads((Path(done.output_dir) / "annotations" / "instances.json").read_text())
            found["+".join(kinds)] = len(coco["annotations"])
            return elapsed(done)

        annotate("bbox", "mask")  # warm-up
        common.interleaved(
            args.rounds,
            {"boxes": lambda: annotate("bbox"), "boxes_and_masks": lambda: annotate("bbox", "mask")},
            rounds,
        )
        shutil.rmtree(photos)
    median = {k: round(sorted(v)[len(v) // 2], 4) for k, v in ratios.items()}
    return {
        "description": "scoring and detection time per image vs generation (from job events); "
        "n items with best_of 4 vs 4n separate items (job timestamps)",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "items": n,
            "size": args.size,
            "steps": args.steps,
            "rounds": args.rounds,
            "segmenter": args.segmenter,
            "photographs": 1 + len(SKIMAGE_PHOTOS),
        },
        "per_image_time_ratio": median,
        "per_image_time_ratio_runs": {k: [round(x, 4) for x in v] for k, v in ratios.items()},
        "times": rounds.as_dict(),
        "best_of_4_vs_four_renders": rounds.ratio("best_of_4", "four_renders"),
        "boxes_and_masks_vs_boxes": rounds.ratio("boxes_and_masks", "boxes"),
        "annotations_found": found,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    r = result["per_image_time_ratio"]
    b = result["best_of_4_vs_four_renders"]["ratio_of_medians"]
    m = result["boxes_and_masks_vs_boxes"]["ratio_of_medians"]
    return [
        common.row(NAME, "CLIPScore time / generation time", f"{r['scoring_vs_generation']:.3f}"),
        common.row(NAME, "detection time / generation time", f"{r['detection_vs_generation']:.3f}"),
        common.row(NAME, "best-of-4 / four separate renders (wall)", f"{b:.3f}"),
        common.row(NAME, "bbox+mask / bbox annotate job (wall)", f"{m:.3f}"),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    p.add_argument("--images", type=int, default=4, help="items per best-of job (default 4)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--steps", type=int, default=8)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument(
        "--segmenter", default="tiny-sam", help="SAM for the masks arm (tiny-sam, a hub id or a path)"
    )
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
