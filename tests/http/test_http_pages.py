"""`GET /jobs` a page at a time (seed 003's entries, a `Link` to the next page), `DELETE /jobs/{id}`,
and the /ui sidebar's "More jobs", in Chromium, over a real gateway whose store holds 60 finished jobs."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from filled_store import fill
from http_helpers import start_http
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.e2e


@pytest.fixture
def filled(gateway_factory, tmp_path: Path) -> Iterator[tuple[httpx.Client, list[str], str]]:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite3'}"
    with ThreadPoolExecutor(1) as thread:  # Playwright's sync API holds this thread's event loop
        ids = thread.submit(asyncio.run, fill(url, 60)).result()
    gateway = gateway_factory({"SYNTHMILL_GATEWAY_DB_URL": url})
    http = start_http(gateway.target, tmp_path / "http.log")
    base = f"http://{http.target}"
    try:
        with httpx.Client(base_url=base, timeout=60) as api:
            yield api, ids, base
    finally:
        http.stop()


def _next(reply: httpx.Response) -> str | None:
    found = re.fullmatch(r'<([^>]+)>; rel="next"', reply.headers.get("link", ""))
    return found[1] if found else None


def test_pages_links_delete_and_the_sidebar(filled, browser: Browser) -> None:
    api, ids, base = filled
    first = api.get("/jobs")
    assert first.status_code == 200 and [job["job_id"] for job in first.json()] == ids[:50]
    assert set(first.json()[0]) >= {"job_id", "type", "status", "created_at"}  # seed 003's keys
    following = _next(first)
    assert following.startswith(f"{base}/jobs?") and "limit=50" in following
    second = api.get(following)
    assert [job["job_id"] for job in second.json()] == ids[50:] and _next(second) is None
    small = api.get("/jobs", params={"limit": 7, "state": "completed"})
    assert len(small.json()) == 7 and "state=completed" in _next(small)
    assert api.get("/jobs", params={"limit": 0}).json() == first.json()
    bad = api.get("/jobs", params={"cursor": "bogus"})
    assert bad.status_code == 400 and bad.json()["detail"].startswith("cursor: is not a token")
    assert api.get("/jobs", params={"limit": 1001}).status_code == 422
    assert api.get("/jobs", params={"kind": "pictures"}).status_code == 400

    gone = ids[0]
    deleted = api.delete(f"/jobs/{gone}")
    assert deleted.status_code == 200 and deleted.json()["status"] == "completed"
    assert api.get(f"/jobs/{gone}").status_code == 404 and api.delete(f"/jobs/{gone}").status_code == 404

    context = browser.new_context(base_url=base, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/ui")
    cards = page.locator("#jobs .job")
    expect(cards).to_have_count(50)
    expect(cards.first).to_have_attribute("data-job-id", ids[1])
    more = page.locator("#more-jobs")
    expect(more).to_be_visible()
    more.click()
    expect(cards).to_have_count(59)
    expect(cards.last).to_have_attribute("data-job-id", ids[-1])
    expect(more).to_be_hidden()
    page.click("#refresh-jobs")  # a refresh keeps what was loaded
    expect(cards).to_have_count(59)
    expect(more).to_be_hidden()
    context.close()
    assert not errors, f"JavaScript errors: {errors}"
