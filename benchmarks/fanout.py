"""Gateway fan-out: event delivery latency to many watchers of one running job, and submissions per second.

Watchers: `--watchers` WatchJob streams opened from this process, apart from the gateway's (raw
`grpc.aio` stubs over `--channels` channels), on one running image job. Latency is receive time minus
the event's own `JobEvent.time` stamp (the gateway stamps it when it records the event; both clocks
are this machine's). For each watcher, the events stamped before its first one arrived (a replay, the
time it took to attach) are left out; how long attaching took is reported apart. The same job is first watched by a single watcher: that is the baseline the fan-out is
compared with. Every watcher must get every stored event in order; a watcher that lags is sent only
the newest step of each item (the gateway's coalescing), so the steps it got are counted too. The
gateway's CPU seconds (user + system, from /proc) are reported per 1,000 deliveries. A stream that
ends early (CANCELLED or UNAVAILABLE: seen at 1,000 watchers on an overloaded machine, with nothing in
the gateway's log) is resumed after the last stored event it got, as `Client.watch` does, and counted.

Submissions: `--submissions` tiny jobs (one 64x64 image, 1 step), submitted one after another with
`Client.submit`, then all at once with `AsyncClient`. The jobs are real and start running (8 at a time)
while the rest are still being submitted, as they would for a user.

    python -m benchmarks.fanout --device cpu --model tiny-sd
    python -m benchmarks.fanout --watchers 1000 --watch-images 64 --watch-size 64 --watch-steps 20
"""

from __future__ import annotations

import asyncio
import statistics
import time
from typing import Any

import grpc
import psutil

from benchmarks import common
from synthmill.client import AsyncClient, Client, image_job
from synthmill.client._common import CHANNEL_OPTIONS, TERMINAL_STATES
from synthmill.v1 import gateway_pb2, gateway_pb2_grpc

NAME = "fanout"

# --smoke: one round at the smallest sizes
SMOKE = {
    "watchers": 4,
    "channels": 2,
    "watch_images": 1,
    "watch_size": 64,
    "watch_steps": 2,
    "submissions": 4,
}


def _pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def _cpu_seconds(process: psutil.Process) -> float:
    times = process.cpu_times()
    return times.user + times.system


async def _watch(target: str, args, watchers: int, gateway: psutil.Process) -> dict[str, Any]:
    """Submits the watched job, attaches `watchers` streams, collects latencies until the job ends."""
    channels = [
        grpc.aio.insecure_channel(
            target, options=CHANNEL_OPTIONS + ([("grpc.http2.bdp_probe", 0)] if args.no_bdp else [])
        )
        for _ in range(min(args.channels, watchers))
    ]
    stubs = [gateway_pb2_grpc.GatewayStub(ch) for ch in channels]
    first_seen = [0.0] * watchers  # when each watcher got its first event
    # (seq, stamped, received, stored?) of each event each watcher got
    received: list[list[tuple[int, float, float, bool]]] = [[] for _ in range(watchers)]

    resumed = [0] * watchers  # streams that ended early (CANCELLED, UNAVAILABLE) and were resumed

    async def watcher(k: int, job_id: str) -> None:
        after = 0  # the last stored event seen: a resumed stream starts after it, as Client.watch does
        while True:
            call = stubs[k % len(stubs)].WatchJob(gateway_pb2.WatchJobRequest(job_id=job_id, after_seq=after))
            try:
                async for event in call:
                    now = time.time()
                    if not received[k]:
                        first_seen[k] = now
                    stored = event.WhichOneof("event") != "step"
                    after = event.seq if stored else after
                    received[k].append((event.seq, event.time.ToNanoseconds() / 1e9, now, stored))
                    if event.WhichOneof("event") == "state" and event.state.state in TERMINAL_STATES:
                        return
            except grpc.aio.AioRpcError as exc:
                if exc.code() not in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE):
                    raise
                resumed[k] += 1

    try:
        stub = stubs[0]
        spec = image_job(
            "a lighthouse on a cliff at dusk",
            args.watch_images,
            model=args.model,
            size=(args.watch_size, args.watch_size),
            steps=args.watch_steps,
            seed=1,
        )
        process = psutil.Process()
        process.cpu_percent()
        gateway_cpu = _cpu_seconds(gateway)
        started = time.perf_counter()
        submitted = time.time()
        job = await stub.SubmitJob(gateway_pb2.SubmitJobRequest(spec=spec))
        await asyncio.gather(*(watcher(k, job.id) for k in range(watchers)))
        wall = time.perf_counter() - started
        client_cpu = process.cpu_percent()
        gateway_cpu = _cpu_seconds(gateway) - gateway_cpu
    finally:
        for ch in channels:
            await ch.close()
    live = [
        [(stamped, recv - stamped) for _, stamped, recv, _ in events if stamped > first_seen[k]]
        for k, events in enumerate(received)
    ]
    latencies = [latency for events in live for _, latency in events]
    attach = [seen - submitted for seen in first_seen]
    stored = [[seq for seq, _, _, kept in events if kept] for events in received]
    complete = (
        all(seqs == list(range(1, len(seqs) + 1)) for seqs in stored) and len(set(map(len, stored))) == 1
    )
    steps = sorted(sum(1 for *_, kept in events if not kept) for events in received)
    deliveries = sum(len(events) for events in received)
    job_span = received[0][-1][1] - received[0][0][1]
    # Latency by when the event was made, in quarters of the job: flat when nothing backs up.
    begin = received[0][0][1]
    quarters: list[list[float]] = [[], [], [], []]
    for events in live:
        for stamped, latency in events:
            quarters[min(3, int(4 * (stamped - begin) / job_span))].append(latency)
    return {
        "watchers": watchers,
        "stored_events_in_job": len(stored[0]),
        "steps_per_watcher": {"min": steps[0], "median": steps[len(steps) // 2], "max": steps[-1]},
        "deliveries": deliveries,
        "deliveries_measured": len(latencies),
        "every_watcher_got_every_stored_event_in_order": complete,
        "streams_resumed": sum(resumed),
        "job_seconds": round(job_span, 3),
        "deliveries_per_s": round(deliveries / job_span, 1) if job_span else None,
        "wall_seconds": round(wall, 3),
        "gateway_cpu_seconds": round(gateway_cpu, 3),
        "gateway_cpu_ms_per_1000_deliveries": round(1e6 * gateway_cpu / deliveries, 1),
        "latency_ms": {
            "p50": round(1000 * _pct(latencies, 50), 2),
            "p90": round(1000 * _pct(latencies, 90), 2),
            "p99": round(1000 * _pct(latencies, 99), 2),
            "max": round(1000 * max(latencies), 2) if latencies else None,
            "mean": round(1000 * statistics.fmean(latencies), 2) if latencies else None,
        },
        "first_event_after_submit_ms": {
            "p50": round(1000 * _pct(attach, 50), 1),
            "p99": round(1000 * _pct(attach, 99), 1),
        },
        "latency_p50_ms_by_quarter_of_the_job": [round(1000 * _pct(q, 50), 1) for q in quarters],
        "bench_process_cpu_percent": round(client_cpu, 1),
    }


def _submit_sequential(target: str, args) -> float:
    spec = image_job("a red bicycle", 1, model=args.model, size=(64, 64), steps=1, seed=3)
    with Client(target) as client:
        client.health()
        started = time.perf_counter()
        for _ in range(args.submissions):
            client.submit(spec)
        return time.perf_counter() - started


async def _submit_concurrent(target: str, args) -> float:
    spec = image_job("a red bicycle", 1, model=args.model, size=(64, 64), steps=1, seed=3)
    async with AsyncClient(target) as client:
        await client.health()
        started = time.perf_counter()
        await asyncio.gather(*(client.submit(spec) for _ in range(args.submissions)))
        return time.perf_counter() - started


def run(args) -> dict[str, Any]:
    with common.stack(
        NAME,
        image_model=args.model,
        device=args.device,
        threads=args.threads,
        keep=args.keep_logs,
        env={"SYNTHMILL_GATEWAY_WATCH_STEPS_PER_S": str(args.watch_steps_per_s)},
    ) as s:
        gateway_pid = common.server_pids(s)["gateway"]
        gateway = psutil.Process(gateway_pid)
        asyncio.run(_watch(s.gateway_target, args, 1, gateway))  # warm-up: first job, first grpc calls
        single = asyncio.run(_watch(s.gateway_target, args, 1, gateway))
        gateway.cpu_percent()
        many = asyncio.run(_watch(s.gateway_target, args, args.watchers, gateway))
        many["gateway_cpu_percent"] = round(gateway.cpu_percent(), 1)
        common.log(f"  1 watcher p50 {single['latency_ms']['p50']} ms; {args.watchers}: {many['latency_ms']}")
        sequential = _submit_sequential(s.gateway_target, args)
        concurrent = asyncio.run(_submit_concurrent(s.gateway_target, args))
        common.log(
            f"  {args.submissions} submissions: {sequential:.2f}s one by one, {concurrent:.2f}s at once"
        )
        peak = {k: common.mib(common.peak_rss(pid)) for k, pid in common.server_pids(s).items()}
    p50_ratio = many["latency_ms"]["p50"] / single["latency_ms"]["p50"]
    return {
        "description": "event delivery latency to many watchers of one job (JobEvent.time to receipt), "
        "against one watcher of the same job; job submissions per second",
        "machine": common.machine(),
        "params": {
            "model": args.model,
            "watched_job": f"{args.watch_images} images {args.watch_size}x{args.watch_size}, {args.watch_steps} "
            "steps (one step event per image per step)",
            "watchers": args.watchers,
            "channels": args.channels,
            "watcher_channels_without_bdp_probing": args.no_bdp,
            "gateway_watch_steps_per_s": args.watch_steps_per_s,
            "submissions": args.submissions,
            "submitted_job": "1 image 64x64, 1 step",
            "torch_threads": args.threads or "torch default",
        },
        "one_watcher": single,
        "many_watchers": many,
        "p50_latency_ratio_many_over_one": round(p50_ratio, 3),
        "submissions_per_s": {
            "sequential_client": round(args.submissions / sequential, 1),
            "concurrent_async_client": round(args.submissions / concurrent, 1),
        },
        "server_peak_rss_mib": peak,
    }


def summary(result: dict[str, Any]) -> list[list[str]]:
    m, o = result["many_watchers"], result["one_watcher"]
    lat = m["latency_ms"]
    sub = result["submissions_per_s"]
    return [
        common.row(
            NAME,
            f"{m['watchers']} watchers: delivery latency p50 / p99 ({m['deliveries_per_s']:.0f} deliveries/s)",
            f"{lat['p50']:.1f} / {lat['p99']:.1f} ms",
        ),
        common.row(
            NAME,
            "every watcher got every stored event, in order",
            str(m["every_watcher_got_every_stored_event_in_order"]),
            "True",
            m["every_watcher_got_every_stored_event_in_order"],
        ),
        common.row(
            NAME,
            f"gateway CPU per 1,000 deliveries ({m['watchers']} watchers)",
            f"{m['gateway_cpu_ms_per_1000_deliveries']:.0f} ms",
        ),
        common.row(
            NAME,
            "1 watcher: delivery latency p50 / p99",
            f"{o['latency_ms']['p50']:.1f} / {o['latency_ms']['p99']:.1f} ms",
        ),
        common.row(
            NAME,
            "job submissions/s (one by one; all at once)",
            f"{sub['sequential_client']} ; {sub['concurrent_async_client']}",
        ),
    ]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    p = common.parser(NAME, __doc__, "image", model_help="image model for the watched job")
    p.add_argument("--watchers", type=int, default=200)
    p.add_argument("--channels", type=int, default=10, help="gRPC channels the watchers share (default 10)")
    p.add_argument("--watch-images", type=int, default=2, help="images in the watched job (default 2)")
    p.add_argument("--watch-size", type=int, default=128, help="their size (default 128)")
    p.add_argument("--watch-steps", type=int, default=40, help="their steps (default 40)")
    p.add_argument("--submissions", type=int, default=200)
    p.add_argument(
        "--watch-steps-per-s",
        type=float,
        default=0.0,
        help="the gateway's SYNTHMILL_GATEWAY_WATCH_STEPS_PER_S: most steps a watcher is sent a second (0: no cap)",
    )
    p.add_argument(
        "--no-bdp",
        action="store_true",
        help="the watchers' channels keep HTTP/2's initial 64 KiB window (no BDP probing), so little is "
        "buffered in flight for a lagging watcher",
    )
    args = common.parse(p, argv, SMOKE)
    result = run(args)
    return common.finish(args.results_dir, NAME, result, summary(result))


if __name__ == "__main__":
    main()
