"""A watcher that lags is sent only the newest step of each item (and phase) it has not been sent yet;
stored events all reach it, in order. On both stores (live steps go through PostgreSQL's NOTIFY there)."""

from __future__ import annotations

import asyncio

from store_helpers import opened, queued_job

from synthmill.gateway.store.events import EventLog, Mailbox
from synthmill.gateway.store.job_store import Item
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb


def _step(index: int, step: int, phase: int = common_pb2.PHASE_DENOISING) -> pb.JobEvent:
    return pb.JobEvent(job_id="j", step=pb.ImageStep(index=index, step=step, total_steps=99, phase=phase))


def _short(event: pb.JobEvent) -> str:
    kind = event.WhichOneof("event")
    if kind == "step":
        return f"step {event.step.index}:{event.step.step}"
    if kind == "state":
        return f"{kind} {pb.JobState.Name(event.state.state)}"
    return f"{kind} {getattr(event, kind).index}"


def test_a_mailbox_replaces_a_waiting_step_of_the_same_item() -> None:
    async def scenario() -> list[str]:
        box = Mailbox()
        for step in range(1, 4):
            box.put(_step(0, step))
            box.put(_step(1, step))
        box.put(pb.JobEvent(seq=5, row=pb.RowWritten(index=7)))
        box.put(_step(0, 4))
        box.put(_step(1, 1, common_pb2.PHASE_SCORING))  # another phase: the last denoising step stays
        got = [await box.get() for _ in range(4)]
        box.put(_step(0, 5))  # the waiting step was sent: this one queues anew
        got.append(await box.get())
        assert box.superseded == 5
        return [_short(event) for event in got]

    assert asyncio.run(scenario()) == ["step 1:3", "row 7", "step 0:4", "step 1:1", "step 0:5"]


def test_a_lagging_watcher_gets_every_stored_event_and_the_newest_steps(store_url: str) -> None:
    async def scenario() -> tuple[list[str], list[str]]:
        store = await opened(store_url)
        log = EventLog(store)
        job = await queued_job(store)
        assert (await store.claim("gw", 30)).job.id == job.id
        job.state = pb.JOB_STATE_RUNNING
        await log.append(job, "gw", state=pb.StateChanged(state=job.state))
        lagging = log.watch(job.id, 0)
        first = [_short(await anext(lagging)) for _ in range(2)]  # attached, then reads nothing
        eager_events: list[pb.JobEvent] = []

        async def eager() -> None:
            async for event in log.watch(job.id, 2):
                eager_events.append(event)

        reader = asyncio.create_task(eager())
        await asyncio.sleep(0)  # the eager watcher attaches
        for step in range(1, 51):
            await log.progress(job, step=pb.ImageStep(index=0, step=step, total_steps=60))
            await log.progress(job, step=pb.ImageStep(index=1, step=step, total_steps=60))
        job.counts.images_done = 1
        await log.append(job, "gw", [Item("image", 1, {})], image=pb.ImageWritten(index=1))
        for step in range(51, 61):
            await log.progress(job, step=pb.ImageStep(index=0, step=step, total_steps=60))
        job.state = pb.JOB_STATE_COMPLETED
        job.finished_at.GetCurrentTime()
        await log.append(job, "gw", state=pb.StateChanged(state=job.state))
        await reader  # the final event reached the eager watcher: every event is in both mailboxes
        rest = [_short(event) async for event in lagging]
        stored = [e.seq for e in eager_events if not e.HasField("step")]
        assert stored == [3, 4] and eager_events[-1].state.state == pb.JOB_STATE_COMPLETED
        await store.close()
        return first + rest, [_short(e) for e in eager_events if e.HasField("step")]

    lagging, eager_steps = asyncio.run(scenario())
    stored = [event for event in lagging if not event.startswith("step")]
    assert stored == [
        "state JOB_STATE_QUEUED",
        "state JOB_STATE_RUNNING",
        "image 1",
        "state JOB_STATE_COMPLETED",
    ]
    assert sorted(event for event in lagging if event.startswith("step")) == ["step 0:60", "step 1:50"]
    for index in (0, 1):  # whatever the eager watcher got of each item, it got in order, up to the last
        steps = [int(s.split(":")[1]) for s in eager_steps if s.startswith(f"step {index}:")]
        assert steps == sorted(steps) and steps[-1] == (60 if index == 0 else 50)


def test_a_step_cap_sends_the_newest_step_when_its_turn_comes_and_stored_events_at_once() -> None:
    async def scenario() -> list[str]:
        box = Mailbox(steps_per_s=0.001)  # after a step, the next one waits 1,000 s
        box.put(_step(0, 1))
        got = [await box.get()]
        for step in (2, 3):
            box.put(_step(0, step))
        box.put(_step(1, 1))
        box.put(pb.JobEvent(seq=5, row=pb.RowWritten(index=7)))
        got.append(await box.get())  # at once: the steps ahead of it go unsent
        box.put(_step(0, 4))
        waiting = asyncio.create_task(box.get())
        await asyncio.sleep(0)
        assert not waiting.done()  # the next step waits for its turn
        box.put(pb.JobEvent(seq=6, image=pb.ImageWritten(index=0)))
        got.append(await waiting)  # a stored event does not
        return [_short(event) for event in got]

    assert asyncio.run(scenario()) == ["step 0:1", "row 7", "image 0"]


def test_a_step_cap_lets_a_step_go_when_its_turn_comes() -> None:
    async def scenario() -> list[str]:
        box = Mailbox(steps_per_s=50)  # one step each 20 ms at most
        box.put(_step(0, 1))
        got = [await box.get()]
        for step in (2, 3):
            box.put(_step(0, step))
        got.append(await box.get())
        return [_short(event) for event in got]

    assert asyncio.run(scenario()) == ["step 0:1", "step 0:3"]
