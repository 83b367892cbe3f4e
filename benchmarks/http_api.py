"""The HTTP service: its overhead against gRPC for the same job, and A1111-style txt2img callers
served concurrently against the same callers one after another.

Overhead arms (one stack with the HTTP service in front of its gateway):
- **grpc:** an image job of `--images` images through `AsyncClient`: submit, watch to the end, get.
- **http:** the same job through the HTTP API: `POST /generate/images`, the SSE stream to its end,
  `GET /status`. Ratio http / grpc (1.0 = no overhead).
- **status calls:** `--calls` `GET /status/{id}` against as many `GetJob` calls: the per-call cost.

txt2img arms: `--callers` one-image `/sdapi/v1/txt2img` calls, all at once (each a gateway job, batched
by the image server) against one after another (what A1111's global queue lock gives every caller).
Ratio sequential / concurrent (the throughput gain).

    python -m benchmarks.http_api --device cpu --model tiny-sd
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx

from benchmarks import common
from synthmill.client import AsyncClient, image_job

NAME = "http_api"
TARGET = 1.10
PROMPT = "a lighthouse on a cliff at dusk, {view} view"
VIEWS = ["top", "side"]


# --smoke: one round at the smallest sizes
SMOKE = {"images": 2, "steps": 1, "callers": 2, "calls": 4, "rounds": 1}


def _job_body(args) -> dict[str, Any]:
    return {
        "prompts": [PROMPT],
        "axes": {"view": VIEWS},
        "num_images": args.images,
        "resolution": [args.size, args.size],
        "steps": args.steps,
        "seed": args.seed,
        "model": args.model,
    }


async def _grpc_job(target: str, args) -> float:
    async with AsyncClient(target) as client:
        started = time.perf_counter()
        spec = image_job(
            PROMPT, args.images, vary={"view": VIEWS}, size=(args.size, args.size), steps=args.steps,
            seed=args.seed, model=args.model,
        )  # fmt: skip
        job = await client.submit(spec)
        job = await client.wait(job.id)
        seconds = time.perf_counter() - started
    assert job.counts.images_done == args.images, job
    return seconds


async def _http_job(url: str, args) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:
        started = time.perf_counter()
        job_id = (
            (await client.post("/generate/images", json=_job_body(args))).raise_for_status().json()["job_id"]
        )
        async with client.stream("GET", f"/jobs/{job_id}/events") as events:
            async for _ in events.aiter_lines():
                pass
        status = (await client.get(f"/status/{job_id}")).json()
        seconds = time.perf_counter() - started
    assert status["status"] == "completed", status
    return seconds


async def _grpc_calls(target: str, job_id: str, n: int) -> float:
    async with AsyncClient(target) as client:
        started = time.perf_counter()
        for _ in range(n):
            await client.get(job_id)
        return time.perf_counter() - started


async def _http_calls(url: str, job_id: str, n: int) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        started = time.perf_counter()
        for _ in range(n):
            (await client.get(f"/status/{job_id}")).raise_for_status()
        return time.perf_counter() - started


def _txt2img_body(args, k: int) -> dict[str, Any]:
    size = {"width": args.size, "height": args.size}
    return {"prompt": f"a floorplan number {k}", "seed": args.seed + k, "steps": args.steps, **size}


async def _txt2img(url: str, args, concurrent: bool) -> float:
    async with httpx.AsyncClient(base_url=url, timeout=600) as client:

        async def call(k: int) -> None:
            reply = await client.post("/sdapi/v1/txt2img", json=_txt2img_body(args, k))
            assert len(reply.raise_for_status().json()["images"]) == 1

        started = time.perf_counter()
        if concurrent:
            await asyncio.gather(*(call(k) for k in range(args.callers)))
        else:
            for k in range(args.callers):
                await call(k)
        return time.perf_counter() - started


def run(args) -> dict[str, Any]:
    rounds = common.Rounds()
    with common.stack(
        NAME, image_model=args.model, device=args.device, threads=args.threads,
        keep=args.keep_logs, http=True,
    ) as s:  # fmt: skip
        url = f"http://{s.target('http')}"
        target = s.gateway_target
        asyncio.run(_grpc_job(target, args))  # warm-up at the measured shapes
        asyncio.run(_txt2img(url, args, concurrent=True))
        with httpx.Client(base_url=url) as client:
            job_id = client.get("/jobs", params={"limit": 1}).json()[0]["job_id"]
        common.interleaved(
            args.rounds,
            {
                "grpc_job": lambda: asyncio.run(_grpc_job(target, args)),
                "http_job": lambda: asyncio.run(_http_job(url, args)),
                "grpc_get_calls": lambda: asyncio.run(_grpc_calls(target, job_id, args.calls)),
                "http_status_calls": lambda: asyncio.run(_http_calls(url, job_id, args.calls)),
                "txt2img_concurrent": lambda: asyncio.run(_txt2img(url, args, concurrent=True)),
                "txt2img_sequential": lambda: asyncio.run(_txt2img(url, args, concurrent=False)),
            },
            rounds,
        )
    overhead = rounds.ratio("http_job", "grpc_job")
    per_call = rounds.ratio("http_status_calls", "grpc_get_calls")
    gain = rounds.ratio("txt2img_sequential", "txt2img_concurrent")
    return {
        "description": "HTTP service against gRPC for the same image job and for status calls; "
        f"{args.callers} concurrent /sdapi/v1/txt2img callers against the same callers in sequence",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "images": args.images,
            "size": f"{args.size}x{args.size}",
            "steps": args.steps,
            "callers": args.callers,
            "status_calls": args.calls,
            "rounds": args.rounds,
            "torch_threads": args.threads or "torch default",
        },
        "times": rounds.as_dict(),
        "http_over_grpc_job": overhead,
        "http_over_grpc_per_call": per_call,
        "per_call_ms": {
            "grpc": round(1000 * rounds.median("grpc_get_calls") / args.calls, 3),
            "http": round(1000 * rounds.median("http_status_calls") / args.calls, 3),
        },
        "txt2img_concurrent_speedup": gain,
        "target": f"http / grpc for the same job <= {TARGET}",
        "met": overhead["ratio_of_medians"] <= TARGET,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    job = result["http_over_grpc_job"]["ratio_of_medians"]
    calls = result["per_call_ms"]
    gain = result["txt2img_concurrent_speedup"]["ratio_of_medians"]
    n = result["params"]["callers"]
    return [
        common.row(NAME, "same image job: HTTP + SSE / gRPC wall time", f"{job:.3f}", f"<= {TARGET}", result["met"]),
        common.row(NAME, f"status call: HTTP {calls['http']} ms / gRPC {calls['grpc']} ms", f"{calls['http'] / calls['grpc']:.2f}"),
        common.row(NAME, f"{n} txt2img callers: sequential / concurrent wall time", f"{gain:.2f}"),
    ]  # fmt: skip


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image")
    p.add_argument("--images", type=int, default=8, help="images in the job of the overhead arms (default 8)")
    p.add_argument("--size", type=int, default=64, help="width and height (default 64)")
    p.add_argument("--steps", type=int, default=4, help="denoising steps (default 4)")
    p.add_argument("--callers", type=int, default=8, help="txt2img callers (default 8)")
    p.add_argument("--calls", type=int, default=200, help="status calls per round (default 200)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    p.add_argument("--seed", type=int, default=1234)
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
