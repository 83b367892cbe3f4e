"""Job routes: seed 003's `GET /status/{job_id}` and `GET /jobs`, and the job page's detail and cancel."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query

from synthmill.http import views
from synthmill.http.deps import Gateway

router = APIRouter(tags=["jobs"])


@router.get("/status/{job_id}")
async def job_status(job_id: str, client: Gateway) -> dict[str, Any]:
    """`{job_id, status, progress (0-100), output_path}`, plus type, error and counts."""
    return views.job_status(await client.get(job_id))


@router.get("/jobs")
async def list_jobs(
    client: Gateway,
    state: str | None = Query(None, description="queued, running, completed, failed or cancelled"),
    limit: int = Query(0, ge=0, le=2**32 - 1, description="At most this many; 0 lists all."),
) -> list[dict[str, Any]]:
    """Jobs, newest first: `[{job_id, type, status, created_at}]`, plus progress and counts."""
    try:
        jobs = await client.list(state, limit)
    except ValueError as exc:  # an unknown state name
        raise HTTPException(400, f"state: {exc}") from None
    return [views.summary(job) for job in jobs]


@router.get("/jobs/{job_id}")
async def job_detail(job_id: str, client: Gateway) -> dict[str, Any]:
    """The whole job: spec with the resolved seed, counts, timings."""
    return views.detail(await client.get(job_id))


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(job_id: str, client: Gateway) -> dict[str, Any]:
    """Cancels a queued or running job; what it made is kept."""
    return views.detail(await client.cancel(job_id))
