"""Job event log: numbered, durable, and fanned out live to any number of watchers on any gateway.

Stored events (state changes, rows, images) are numbered 1, 2, 3, ... without gaps and stored
before they are announced, so a watcher that reconnects with the last number it saw resumes
exactly where it left off, on any gateway. Denoising steps are progress, not history: they go
live to the watchers of the moment and are never stored. A step carries the number of the last
stored event before it, and resuming never replays steps.

Each job with watchers on this gateway has one feed: on every notice of a stored event it reads
the new events from the store once and hands them to each of its watchers.

A watcher that reads slower than events come (a slow client, or more deliveries than the gateway's
CPU can send) is not sent stale progress: a step of an item that it has not been sent yet is
replaced by the newer step of the same item in the same phase (`Mailbox`), so it never falls further
behind than the items in flight, and still sees each phase's last step. Stored events are never
dropped. An operator may also cap the steps each watcher is sent a second (`steps_per_s`): a watcher
then waits for its next step, which meanwhile coalesces, and a stored event that comes meanwhile goes
at once, the steps ahead of it unsent; so a gateway with many watchers sends a bounded number of
deliveries whatever the job's step rate.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Sequence
from typing import Any

from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.store.database import Notice, StoreUnavailable
from synthmill.gateway.store.job_store import Item, JobStore, make_event
from synthmill.v1 import gateway_pb2 as pb

log = logging.getLogger(__name__)


def is_final(event: pb.JobEvent) -> bool:
    return event.WhichOneof("event") == "state" and event.state.state in TERMINAL_STATES


class Mailbox:
    """The events one watcher has yet to be sent, in order. A step replaces the step of the same item
    and phase still waiting here (the watcher lags: that one is stale); every stored event stays."""

    def __init__(self, steps_per_s: float = 0.0) -> None:
        self._slots: deque[pb.JobEvent | None] = deque()  # None: a step replaced by a newer one
        self._step_gap_s = 1.0 / steps_per_s if steps_per_s else 0.0  # 0: steps as fast as they come
        self._next_step_at = 0.0
        self._first = 0  # the number of the slot at the left end
        self._steps: dict[tuple[int, int], int] = {}  # (item, phase) -> the slot number of its waiting step
        self._ready = asyncio.Event()
        self.superseded = 0  # steps replaced by newer ones, never sent

    def put(self, event: pb.JobEvent) -> None:
        if event.WhichOneof("event") == "step":
            key = (event.step.index, event.step.phase)
            waiting = self._steps.get(key)
            if waiting is not None:
                self._slots[waiting - self._first] = None
                self.superseded += 1
            self._steps[key] = self._first + len(self._slots)
        self._slots.append(event)
        self._ready.set()

    async def get(self) -> pb.JobEvent:
        while True:
            while not self._slots:
                self._ready.clear()
                await self._ready.wait()
            head = self._slots[0]
            if self._step_gap_s and head is not None and head.WhichOneof("event") == "step":
                wait = self._next_step_at - asyncio.get_running_loop().time()
                if wait > 0 and self._stored_waiting():  # a stored event never waits for the cap:
                    self._pop()  # the steps ahead of it go unsent (newer ones follow)
                    self.superseded += 1
                    continue
                if wait > 0:  # the cap: this step may be superseded, or a stored event come, meanwhile
                    self._ready.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._ready.wait(), wait)
                    continue
                self._next_step_at = asyncio.get_running_loop().time() + self._step_gap_s
            event = self._pop()
            if event is not None:
                return event

    def _stored_waiting(self) -> bool:
        return any(e is not None and e.WhichOneof("event") != "step" for e in self._slots)

    def _pop(self) -> pb.JobEvent | None:
        event = self._slots.popleft()
        number = self._first
        self._first += 1
        if event is not None and event.WhichOneof("event") == "step":
            key = (event.step.index, event.step.phase)
            if self._steps.get(key) == number:
                del self._steps[key]
        return event


class _Feed:
    """New stored events and live steps of one job, for this gateway's watchers of it."""

    def __init__(self, store: JobStore, job_id: str, last_seq: int):
        self.store = store
        self.job_id = job_id
        self.last = last_seq  # the feed has handed out every stored event up to here
        self.queues: set[Mailbox] = set()
        self._dirty = False
        self._task: asyncio.Task | None = None

    def poke(self) -> None:
        """New stored events exist: read them (once, however many pokes arrive meanwhile)."""
        self._dirty = True
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._read(), name=f"feed-{self.job_id}")

    async def _read(self) -> None:
        while self._dirty:
            self._dirty = False
            try:
                events = await self.store.events_after(self.job_id, self.last)
            except StoreUnavailable as exc:  # the next notice (resync at the latest) reads again
                log.warning("watchers of %s: %s", self.job_id, exc)
                return
            for event in events:
                self.last = event.seq
                for queue in self.queues:
                    queue.put(event)

    def step(self, event: pb.JobEvent) -> None:
        for queue in self.queues:
            queue.put(event)


class EventLog:
    def __init__(self, store: JobStore, steps_per_s: float = 0.0):
        self._store = store
        self._steps_per_s = steps_per_s  # the steps each watcher is sent a second at most; 0: no cap
        self._feeds: dict[str, _Feed] = {}
        self._last_seq: dict[str, int] = {}  # last stored seq of jobs this gateway runs
        store.listen(self._on_notice)

    async def append(
        self, job: pb.Job, owner: str | None, items: Sequence[Item] = (), **event: Any
    ) -> pb.JobEvent:
        """Stores the job, `items` and one event (a `JobEvent` oneof field as keyword) together,
        fenced on `owner`'s lease; the event is announced to every gateway."""
        message = await self._store.commit(job, owner, make_event(job, **event), items)
        if is_final(message):
            self._last_seq.pop(job.id, None)
        else:
            self._last_seq[job.id] = message.seq
        return message

    async def progress(self, job: pb.Job, **event: Any) -> None:
        """A live-only event (a denoising step) for the watchers of this moment."""
        message = make_event(job, **event)
        message.seq = self._last_seq.get(job.id, 0)
        await self._store.publish(message)

    def _on_notice(self, notice: Notice) -> None:
        if notice.kind == "resync":
            for feed in self._feeds.values():
                feed.poke()
            return
        feed = self._feeds.get(notice.job_id)
        if feed is None:
            return
        if notice.kind == "event":
            feed.poke()
        elif notice.kind == "step":
            feed.step(notice.event)

    async def watch(self, job_id: str, after_seq: int) -> AsyncIterator[pb.JobEvent]:
        """Stored events after `after_seq`, then live ones until the job's final state event."""
        feed = self._feeds.get(job_id)
        if feed is None:
            last = await self._store.last_seq(job_id)
            feed = self._feeds.setdefault(job_id, _Feed(self._store, job_id, last))
        queue = Mailbox(self._steps_per_s)
        feed.queues.add(queue)
        try:
            job = await self._store.get_job(job_id)
            ended = job is None or job.state in TERMINAL_STATES  # then every event is stored already
            # events the feed may also deliver are skipped below by their number
            for event in await self._store.events_after(job_id, after_seq):
                yield event
                after_seq = event.seq
                if is_final(event):
                    return
            if ended:
                return
            while True:
                event = await queue.get()
                if event.WhichOneof("event") == "step":
                    yield event
                elif event.seq > after_seq:
                    yield event
                    after_seq = event.seq
                    if is_final(event):
                        return
        finally:
            feed.queues.discard(queue)
            if not feed.queues and self._feeds.get(job_id) is feed:
                del self._feeds[job_id]

    async def wait_final(self, job_id: str, timeout_s: float) -> None:
        """Returns once the job reached a final state, or after `timeout_s`."""
        after = await self._store.last_seq(job_id)
        try:
            async with asyncio.timeout(timeout_s):
                async for event in self.watch(job_id, max(0, after - 1)):
                    if is_final(event):
                        return
        except TimeoutError:
            return
