"""The dynamic batcher's rules with a fake runner and an injected clock: no torch, no server, no waiting
on wall time. Every wait is on an event the fake runner or the batcher itself sets."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Sequence

import pytest
from PIL import Image

from synthmill.common.errors import OutOfMemory
from synthmill.image.domain import GenerationParams, ImageEvent, Item, StepEvent
from synthmill.image.serving.batcher import Batcher, Ticket

HOUR = 3600.0  # a merge delay no test waits out: a batch forms only when full, or not at all


def params(model: str = "m", steps: int = 3) -> GenerationParams:
    return GenerationParams(model, 64, 64, steps, 7.5, "euler", "")


def items(*indices: int) -> list[Item]:
    return [Item(index=i, prompt=f"p{i}", seed=100 + i) for i in indices]


class FakeRunner:
    """Records every batch it is given and runs its steps; `hold()` pauses it after its first step."""

    def __init__(self, fail: Exception | None = None):
        self.batches: list[tuple[GenerationParams, list[int]]] = []
        self.steps: list[list[int]] = []  # steps reported per batch, up to the one that said stop
        self.results: list[str] = []  # "images" or "stopped" per batch
        self.started = asyncio.Event()  # set when a batch has reported its first step
        self.release = asyncio.Event()
        self.release.set()
        self.fail = fail

    def hold(self) -> None:
        self.release.clear()

    async def __call__(self, p: GenerationParams, batch: Sequence[Item], on_step) -> list[Image.Image] | None:
        self.batches.append((p, [item.index for item in batch]))
        self.steps.append([])
        if self.fail is not None:
            raise self.fail
        for step in range(1, p.steps + 1):
            self.steps[-1].append(step)
            keep_going = on_step(step)
            if step == 1:
                self.started.set()
                await self.release.wait()
            if not keep_going:
                self.results.append("stopped")
                return None
        self.results.append("images")
        return [Image.new("RGB", (p.width, p.height), (item.index, 0, 0)) for item in batch]


async def collect(ticket: Ticket) -> list[StepEvent | ImageEvent]:
    return [event async for event in ticket.events()]


async def running(batcher: Batcher) -> asyncio.Task[None]:
    return asyncio.create_task(batcher.run())


def run(coro):
    return asyncio.run(coro)


def test_batcher_imports_no_torch():
    code = "import sys, synthmill.image.serving.batcher; assert not {'torch', 'diffusers'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True)


def test_compatible_requests_merge_in_arrival_order_up_to_max_batch():
    async def main():
        runner = FakeRunner()
        batcher = Batcher(runner, max_batch=3, delay=0.0)
        a = batcher.submit(params("m"), items(0, 1))
        b = batcher.submit(params("other"), items(0))
        c = batcher.submit(params("m"), items(2, 3))
        task = await running(batcher)
        events = await asyncio.gather(collect(a), collect(b), collect(c))
        task.cancel()
        return runner, events

    runner, (a, b, c) = run(main())
    # The oldest item decides: its params' items, oldest first, up to 3; then the next oldest's.
    assert [(p.model, idx) for p, idx in runner.batches] == [("m", [0, 1, 2]), ("other", [0]), ("m", [3])]
    # Batches deliver concurrently (PNG encoding off the loop): a request's images come in any order.
    assert sorted(e.index for e in a if isinstance(e, ImageEvent)) == [0, 1]
    assert sorted(e.index for e in c if isinstance(e, ImageEvent)) == [2, 3]
    assert [(e.seed, e.png[:4]) for e in b if isinstance(e, ImageEvent)] == [(100, b"\x89PNG")]


def test_the_oldest_item_waits_for_company_until_the_batch_is_full():
    async def main():
        runner = FakeRunner()
        batcher = Batcher(runner, max_batch=2, delay=HOUR)
        task = await running(batcher)
        first = batcher.submit(params(), items(0))
        await asyncio.sleep(0)  # one turn of the loop (no wall time): the batcher now holds `first` alone
        second = batcher.submit(params(), items(1))
        await asyncio.gather(collect(first), collect(second))
        task.cancel()
        return runner

    assert [idx for _, idx in run(main()).batches] == [[0, 1]]


def test_a_cancelled_request_loses_its_queued_items():
    async def main():
        runner = FakeRunner()
        runner.hold()
        batcher = Batcher(runner, max_batch=4, delay=0.0)
        task = await running(batcher)
        busy = batcher.submit(params("m"), items(0))
        await runner.started.wait()  # "m" is running; what follows queues behind it
        gone = batcher.submit(params("n"), items(1, 2))
        batcher.cancel(gone)
        kept = batcher.submit(params("n"), items(3))
        runner.release.set()
        await asyncio.gather(collect(busy), collect(kept))
        task.cancel()
        return runner

    runner = run(main())
    assert [(p.model, idx) for p, idx in runner.batches] == [("m", [0]), ("n", [3])]


def test_a_running_batch_stops_at_the_next_step_once_every_requester_is_gone():
    async def main():
        runner = FakeRunner()
        runner.hold()
        batcher = Batcher(runner, max_batch=4, delay=0.0)
        task = await running(batcher)
        a = batcher.submit(params(steps=5), items(0))
        b = batcher.submit(params(steps=5), items(1))
        await runner.started.wait()
        batcher.cancel(a)
        batcher.cancel(b)
        runner.release.set()
        after = batcher.submit(params(steps=5), items(2))  # the batcher carries on with the next batch
        events = await collect(after)
        task.cancel()
        return runner, events

    runner, events = run(main())
    assert runner.batches[0][1] == [0, 1]
    assert runner.steps[0] == [1, 2] and runner.results == ["stopped", "images"]
    assert [e.index for e in events if isinstance(e, ImageEvent)] == [2]


def test_a_batch_keeps_running_for_its_remaining_requester():
    async def main():
        runner = FakeRunner()
        runner.hold()
        batcher = Batcher(runner, max_batch=4, delay=0.0)
        task = await running(batcher)
        gone = batcher.submit(params(), items(0))
        kept = batcher.submit(params(), items(1))
        await runner.started.wait()
        batcher.cancel(gone)
        runner.release.set()
        events = await collect(kept)
        task.cancel()
        return runner, events, gone

    runner, events, gone = run(main())
    assert runner.results == ["images"] and runner.steps == [[1, 2, 3]]
    assert [e.index for e in events if isinstance(e, ImageEvent)] == [1]
    assert gone.cancelled


def test_a_failed_batch_raises_in_every_requester():
    async def main():
        batcher = Batcher(FakeRunner(fail=RuntimeError("out of memory")), max_batch=4, delay=0.0)
        a = batcher.submit(params(), items(0))
        b = batcher.submit(params(), items(1))
        task = await running(batcher)
        results = await asyncio.gather(collect(a), collect(b), return_exceptions=True)
        task.cancel()
        return results

    assert [str(r) for r in run(main())] == ["out of memory", "out of memory"]


@pytest.mark.parametrize(
    ("times", "reported"),
    [
        ([0.0] * 6, [1, 6]),  # a clock at 0 (a machine just booted): the first step is still reported
        ([5.0, 6.0, 14.0, 15.0, 16.0, 17.0], [1, 3, 6]),  # then one report per 8 s, and the last step
    ],
)
def test_progress_interval_reports_the_first_step_then_thins_to_the_last(times, reported):
    async def main():
        clock = iter(times)
        batcher = Batcher(
            FakeRunner(), max_batch=1, delay=0.0, progress_interval=8.0, clock=lambda: next(clock)
        )
        ticket = batcher.submit(params(steps=6), items(0))
        task = await running(batcher)
        events = await collect(ticket)
        task.cancel()
        return events

    events = run(main())
    assert [e.step for e in events if isinstance(e, StepEvent)] == reported


class OomRunner(FakeRunner):
    """Runs out of memory after two steps on any batch of more than one item, and on item 2 alone."""

    async def __call__(self, p, batch, on_step):
        if len(batch) > 1 or batch[0].index == 2:
            self.batches.append((p, [item.index for item in batch]))
            on_step(1)
            on_step(2)
            raise OutOfMemory(f"out of device memory: a batch of {len(batch)}")
        return await super().__call__(p, batch, on_step)


def test_a_batch_out_of_memory_is_split_in_halves_and_only_an_item_that_never_fits_fails():
    async def main():
        runner = OomRunner()
        batcher = Batcher(runner, max_batch=4, delay=HOUR)
        first = batcher.submit(params(), items(0, 1))
        second = batcher.submit(params(), items(2, 3))
        task = await running(batcher)
        events = await collect(first)
        with pytest.raises(OutOfMemory, match=r"a batch of 1$"):
            await collect(second)
        task.cancel()
        return runner, events

    runner, events = run(main())
    assert [indices for _, indices in runner.batches] == [[0, 1, 2, 3], [0, 1], [0], [1], [2, 3], [2], [3]]
    # Steps 1 and 2 were reported by the first try; its halves report only what comes after.
    steps = [(e.index, e.step) for e in events if isinstance(e, StepEvent)]
    assert steps == [(0, 1), (1, 1), (0, 2), (1, 2), (0, 3), (1, 3)]
    assert sorted(e.index for e in events if isinstance(e, ImageEvent)) == [0, 1]


def test_the_pixel_budget_caps_a_batch():
    async def main():
        runner = FakeRunner()
        batcher = Batcher(runner, max_batch=8, delay=0, max_pixels=3 * 64 * 64 + 100)
        ticket = batcher.submit(params(), items(0, 1, 2, 3, 4))
        task = await running(batcher)
        await collect(ticket)
        task.cancel()
        return runner

    runner = run(main())
    assert [indices for _, indices in runner.batches] == [[0, 1, 2], [3, 4]]
