"""Job routes: seed 003's `GET /status/{job_id}` and `GET /jobs` (paged), and the job page's detail,
cancel and delete."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response

from synthmill.client import list_request
from synthmill.client.errors import SynthmillError
from synthmill.common.pages import DEFAULT_PAGE, MAX_PAGE
from synthmill.http import views
from synthmill.http.deps import Gateway

router = APIRouter(tags=["jobs"])


@router.get("/status/{job_id}")
async def job_status(job_id: str, client: Gateway) -> dict[str, Any]:
    """`{job_id, status, progress (0-100), output_path}`, plus type, error and counts."""
    return views.job_status(await client.get(job_id))


@router.get("/jobs")
async def list_jobs(
    request: Request,
    response: Response,
    client: Gateway,
    state: str | None = Query(None, description="queued, running, completed, failed or cancelled"),
    kind: str = Query("", description="text, images, unified or annotate; empty lists every kind"),
    limit: int = Query(
        DEFAULT_PAGE, ge=0, le=MAX_PAGE, description=f"Jobs on this page; 0 means {DEFAULT_PAGE}."
    ),
    cursor: str = Query("", description="Where the page starts: the `cursor` of the previous page's `Link`."),
) -> list[dict[str, Any]]:
    """A page of jobs, newest first: `[{job_id, type, status, created_at}]`, plus progress and counts.
    When more jobs follow, the `Link` header holds the next page's URL (`rel="next"`)."""
    try:
        page = await client.page(list_request(state, limit, cursor, kind))
    except ValueError as exc:  # an unknown state name
        raise HTTPException(400, f"state: {exc}") from None
    except SynthmillError as exc:  # the gateway's name of the field is page_token
        if exc.details.startswith("page_token:"):
            raise HTTPException(400, "cursor:" + exc.details.removeprefix("page_token:")) from None
        raise
    if page.next_page_token:
        following = request.url.include_query_params(cursor=page.next_page_token, limit=limit or DEFAULT_PAGE)
        response.headers["Link"] = f'<{following}>; rel="next"'
    return [views.summary(job) for job in page.jobs]


@router.get("/jobs/{job_id}")
async def job_detail(job_id: str, client: Gateway) -> dict[str, Any]:
    """The whole job: spec with the resolved seed, counts, timings."""
    return views.detail(await client.get(job_id))


@router.post("/jobs/{job_id}/cancel")
async def cancel_job(job_id: str, client: Gateway) -> dict[str, Any]:
    """Cancels a queued or running job; what it made is kept."""
    return views.detail(await client.cancel(job_id))


@router.delete("/jobs/{job_id}")
async def delete_job(job_id: str, client: Gateway) -> dict[str, Any]:
    """Cancels the job if it runs, then deletes its outputs and records; returns it as it was last."""
    return views.detail(await client.delete(job_id))
