"""`GET /jobs/{job_id}/events`: the job's WatchJob stream as Server-Sent Events.

Each event's `id` is its sequence number, so a browser's EventSource that reconnects sends
`Last-Event-ID` and resumes after it, missing nothing and getting nothing twice. The `event` name is
the kind (state, row, step, image); `data` is JSON with the counts and `progress` (0-100).
The stream ends after the job's final state.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Query
from google.protobuf.json_format import MessageToDict
from sse_starlette import EventSourceResponse

from synthmill.client import AsyncClient, SynthmillError, state_name
from synthmill.http import views
from synthmill.http.deps import Gateway
from synthmill.http.progress import Progress
from synthmill.v1 import gateway_pb2 as pb

router = APIRouter(tags=["jobs"])


def event_data(event: pb.JobEvent, progress: Progress) -> dict[str, Any]:
    kind = event.WhichOneof("event")
    payload = MessageToDict(getattr(event, kind), preserving_proto_field_name=True) if kind else {}
    if kind == "state":
        payload["state"] = state_name(event.state.state).lower()
    return {
        "seq": event.seq,
        "type": kind,
        "time": event.time.ToJsonString(),
        "counts": views.counts(event.counts),
        "progress": progress.update(event),
        **({kind: payload} if kind else {}),
    }


async def _stream(client: AsyncClient, job: pb.Job, after: int) -> AsyncIterator[dict[str, Any]]:
    progress = Progress()
    try:
        async for event in client.watch(job.id, after):
            data = event_data(event, progress)
            yield {"id": str(event.seq), "event": data["type"], "data": json.dumps(data)}
    except SynthmillError as exc:
        yield {"event": "error", "data": json.dumps({"detail": str(exc)})}


@router.get("/jobs/{job_id}/events", response_class=EventSourceResponse)
async def job_events(
    job_id: str,
    client: Gateway,
    last_event_id: str | None = Header(None, description="Resume after this sequence number."),
    after: int | None = Query(None, ge=0, le=2**63 - 1, description="Like Last-Event-ID, for plain clients."),
) -> EventSourceResponse:
    """Live job events as text/event-stream; reconnects resume from Last-Event-ID."""
    if last_event_id is not None and not (last_event_id.isdigit() and int(last_event_id) < 2**63):
        raise HTTPException(400, f"Last-Event-ID: expected a sequence number, got {last_event_id!r}")
    start = int(last_event_id) if last_event_id is not None else after or 0
    job = await client.get(job_id)  # a 404 before the stream starts
    return EventSourceResponse(_stream(client, job, start))
