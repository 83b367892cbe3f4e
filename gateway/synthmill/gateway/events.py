"""Job event log: numbered, durable, and fanned out live to any number of watchers.

Each job's events are numbered 1, 2, 3, ... without gaps and stored before they are
announced, so a watcher that reconnects with the last number it saw resumes exactly
where it left off, across gateway restarts too.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from synthmill.common.states import TERMINAL_STATES
from synthmill.gateway.store import JobStore
from synthmill.v1 import gateway_pb2 as pb


class _Live:
    """Events of a running job kept in memory, and a condition watchers wait on."""

    def __init__(self, first_seq: int):
        self.first_seq = first_seq  # seq of events[0]
        self.events: list[pb.JobEvent] = []
        self.changed = asyncio.Condition()
        self.closed = False


class EventLog:
    def __init__(self, store: JobStore):
        self._store = store
        self._live: dict[str, _Live] = {}

    def _live_for(self, job_id: str) -> _Live:
        live = self._live.get(job_id)
        if live is None:
            live = self._live[job_id] = _Live(self._store.last_seq(job_id) + 1)
        return live

    async def append(self, job: pb.Job, **event: object) -> pb.JobEvent:
        """Records one event (a `JobEvent` oneof field as keyword) with the job's counters."""
        live = self._live_for(job.id)
        message = pb.JobEvent(
            job_id=job.id, seq=live.first_seq + len(live.events), counts=job.counts, **event
        )
        message.time.GetCurrentTime()
        self._store.add_event(message)
        live.events.append(message)
        final = message.WhichOneof("event") == "state" and message.state.state in TERMINAL_STATES
        if final:
            live.closed = True
            del self._live[job.id]  # later watchers read the store; current ones keep `live`
        async with live.changed:
            live.changed.notify_all()
        return message

    async def watch(self, job_id: str, after_seq: int) -> AsyncIterator[pb.JobEvent]:
        """Events after `after_seq`, then live ones until the job's final state event."""
        job = self._store.get_job(job_id)
        live = None if job is None or job.state in TERMINAL_STATES else self._live_for(job_id)
        stored_until = live.first_seq - 1 if live else None
        for event in self._store.events_after(job_id, after_seq):
            if stored_until is not None and event.seq > stored_until:
                break
            after_seq = event.seq
            yield event
        if live is None:
            return
        while True:
            start = max(0, after_seq + 1 - live.first_seq)
            pending = live.events[start:]
            for event in pending:
                after_seq = event.seq
                yield event
            if live.closed and after_seq >= live.first_seq + len(live.events) - 1:
                return
            async with live.changed:
                if after_seq >= live.first_seq + len(live.events) - 1 and not live.closed:
                    await live.changed.wait()
