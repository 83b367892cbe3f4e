"""Image overhead: N images through the whole stack against the same pipeline called in a loop.

Service arm: one image job (Client → gateway → image server → PNG files in the job folder), timed from
SubmitJob until `Client.wait` returns the COMPLETED job, every PNG on disk. The server's dynamic
batcher may merge up to `--batch` images per pipeline call (SYNTHMILL_IMAGE_MAX_BATCH).

Baseline arm: what a user would write: the same pipeline (`synthmill.image.generation.loader.load`, the same
object the server builds) called in a plain loop in this process, `--batch` prompts per call (the same
batching freedom the server has), one `torch.Generator` per image with the same seeds, each image saved
with `PIL.Image.save` as a PNG. Same size, steps, guidance (7.5), scheduler and torch threads.

The arms alternate round by round; the result is the wall-time ratio service / baseline.

    python -m benchmarks.images --device cpu --model tiny-sd
    python -m benchmarks.images --device cuda --model stable-diffusion-v1-5/stable-diffusion-v1-5 --size 512 --steps 20
"""

from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks import common
from synthmill.client import Client, image_job
from synthmill.client._common import state_name
from synthmill.v1 import gateway_pb2

NAME = "images"
TARGET = 1.10
PROMPTS = [
    "a red bicycle leaning on a brick wall",
    "a bowl of oranges on a wooden table",
    "a lighthouse on a cliff at dusk",
    "a simple black-and-white floorplan of a two-room flat",
]


# --smoke: one round at the smallest sizes
SMOKE = {"rounds": 1, "images": 2, "steps": 1, "batch": 2}


def add_image_flags(p) -> None:
    p.add_argument("--images", type=int, default=16, help="images per run (default 16)")
    p.add_argument("--size", type=int, default=64, help="width and height (default 64)")
    p.add_argument("--steps", type=int, default=8, help="denoising steps (default 8)")
    p.add_argument("--guidance", type=float, default=7.5, help="CFG scale (default 7.5, the server's)")
    p.add_argument(
        "--rounds", type=int, default=15, help="interleaved rounds per arm (default: images 15, batching 8)"
    )
    p.add_argument("--seed", type=int, default=1234)


def bare_pipeline(model: str, device: str, threads: int):
    """The pipeline exactly as the image server loads it, in this process."""
    from synthmill.image.generation import loader
    from synthmill.image.serving.settings import ImageSettings

    common.set_threads(threads)
    return loader.load(model, ImageSettings(models=(model,), device=device))


def run_bare(loaded, prompts: list[str], seeds: list[int], args, batch: int, out_dir: Path | None) -> float:
    """The user's loop: `batch` prompts per pipeline call, one PNG file per image. Returns seconds."""
    import torch

    pipe = loaded.pipe
    started = time.perf_counter()
    for start in range(0, len(prompts), batch):
        chunk = range(start, min(start + batch, len(prompts)))
        generators = [torch.Generator(device=loaded.device).manual_seed(seeds[i]) for i in chunk]
        images = pipe(
            prompt=[prompts[i] for i in chunk],
            width=args.size,
            height=args.size,
            num_inference_steps=args.steps,
            guidance_scale=args.guidance,
            generator=generators,
        ).images
        if out_dir is not None:
            for i, image in zip(chunk, images, strict=True):
                image.save(out_dir / f"{i:05d}.png")
    return time.perf_counter() - started


def run_service_job(client: Client, spec: gateway_pb2.JobSpec) -> tuple[float, gateway_pb2.Job]:
    started = time.perf_counter()
    job = client.submit(spec)
    job = client.wait(job.id)
    seconds = time.perf_counter() - started
    if job.state != gateway_pb2.JOB_STATE_COMPLETED:
        raise RuntimeError(f"job {job.id} ended {state_name(job.state)}: {job.error}")
    return seconds, job


def spec_for(args, model: str, n: int, seed: int) -> gateway_pb2.JobSpec:
    return image_job(
        PROMPTS,
        n,
        model=model,
        size=(args.size, args.size),
        steps=args.steps,
        guidance=args.guidance,
        seed=seed,
    )


def run(args) -> dict[str, Any]:
    n = args.images
    prompts = [PROMPTS[i % len(PROMPTS)] for i in range(n)]  # the gateway cycles through prompts the same way
    seeds = [args.seed + i for i in range(n)]
    loaded = bare_pipeline(args.model, args.device, args.threads)
    scratch = Path(tempfile.mkdtemp(prefix="synthmill-bench-bare-"))
    rounds = common.Rounds()
    env = {"SYNTHMILL_IMAGE_MAX_BATCH": str(args.batch)}
    try:
        with (
            common.stack(
                NAME,
                image_model=args.model,
                device=args.device,
                threads=args.threads,
                env=env,
                keep=args.keep_logs,
            ) as s,
            Client(s.gateway_target) as client,
        ):
            pids = common.server_pids(s)
            # Warm-up: both arms once at the measured shapes (the server warmed up at its default size).
            run_service_job(client, spec_for(args, args.model, n, args.seed))
            run_bare(loaded, prompts, seeds, args, args.batch, scratch)
            mark = common.scrape(s, "image")
            files_ok: list[bool] = []

            def service() -> float:
                seconds, job = run_service_job(client, spec_for(args, args.model, n, args.seed))
                files_ok.append(len(list(Path(job.output_dir).glob("images/*.png"))) == n)
                return seconds

            with common.RssSampler(pids) as sampler, common.CpuMeter(pids) as cpu:
                common.interleaved(
                    args.rounds,
                    {
                        "service": service,
                        "baseline": lambda: run_bare(loaded, prompts, seeds, args, args.batch, scratch),
                    },
                    rounds,
                )
            batches = common.image_batches(mark, common.scrape(s, "image"))
            memory = {k: common.mib(v) for k, v in sampler.peaks.items()}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    ratio = rounds.ratio("service", "baseline")
    pipeline_s = batches["seconds_per_step_summed"] * args.steps / args.rounds
    return {
        "description": "N images through Client → gateway → image server → PNG files, against the same "
        "diffusers pipeline in a loop in one process saving PNGs",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "device": str(loaded.device),
            "dtype": str(loaded.dtype).removeprefix("torch."),
            "images": n,
            "size": f"{args.size}x{args.size}",
            "steps": args.steps,
            "guidance": args.guidance,
            "scheduler": type(loaded.pipe.scheduler).__name__,
            "rounds": args.rounds,
            "torch_threads": {
                "service": f"SYNTHMILL_IMAGE_THREADS={args.threads}" if args.threads else "torch default",
                "baseline": f"torch.set_num_threads({args.threads})" if args.threads else "torch default",
            },
            "server_max_batch": args.batch,
            "baseline_batching": f"{args.batch} prompts per pipeline call (the server's max_batch), "
            "one torch.Generator per image, PIL Image.save per PNG",
        },
        "times": rounds.as_dict(),
        "images_per_s": {
            "service": round(n / rounds.median("service"), 3),
            "baseline": round(n / rounds.median("baseline"), 3),
        },
        "wall_ratio": ratio,
        "target": f"service / baseline <= {TARGET}",
        "met": ratio["ratio_of_medians"] <= TARGET,
        "server_batches": {
            "batches": batches["batches"],
            "by_size": batches["by_size"],
            "pipeline_seconds_per_round": round(pipeline_s, 4),
            "service_seconds_outside_pipeline_per_round": round(rounds.median("service") - pipeline_s, 4),
        },
        "server_cpu_seconds_per_round": cpu.per(args.rounds),
        "all_files_written": all(files_ok),
        "server_peak_rss_mib_during_rounds": memory,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    r = result["wall_ratio"]["ratio_of_medians"]
    t = result["times"]
    return [
        common.row(
            NAME,
            f"stack / bare pipeline wall time ({result['params']['images']} img)",
            f"{r:.3f} ({t['service']['median_s']:.2f}s / {t['baseline']['median_s']:.2f}s)",
            f"<= {TARGET}",
            result["met"],
        )
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    add_image_flags(p)
    p.add_argument(
        "--batch", type=int, default=8, help="server max_batch and the baseline's batch (default 8)"
    )
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
