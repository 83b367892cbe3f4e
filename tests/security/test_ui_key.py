"""The /ui page in front of a keyed gateway, in Chromium: without a key it shows the refusal; with the
key typed in the top bar (kept in the tab's sessionStorage, sent as a bearer header) it lists the
tenant's jobs, follows a job live, shows its images and downloads it; a new tab starts without it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

pytestmark = pytest.mark.e2e
expect.set_options(timeout=120_000)  # a bound on waits for events, never a sleep


@pytest.fixture
def context(browser: Browser, keyed_stack) -> Iterator[BrowserContext]:
    context = browser.new_context(base_url=keyed_stack.url)
    yield context
    context.close()


def test_the_page_sends_the_key_from_session_storage(context: BrowserContext, keyed_stack) -> None:
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto("/ui")
    expect(page.locator("#jobs")).to_contain_text("401")  # no key: the list is refused
    expect(page.locator("#health")).to_contain_text("healthy")  # health needs none

    page.fill("#api-key", keyed_stack.keys["bob"])
    page.locator("#api-key").blur()  # a change event
    assert page.evaluate("sessionStorage.getItem('synthmill-api-key')") == keyed_stack.keys["bob"]
    expect(page.locator("#jobs")).not_to_contain_text("401")

    page.goto("/ui#/images")
    for field, value in (("#prompts", "a red door"), ("#width", "64"), ("#height", "64"), ("#steps", "2")):
        page.fill(field, value)
    page.fill("#num-images", "2")
    page.click("#generate-images")
    expect(page.locator(".alert.ok")).to_contain_text("Image generation job queued")
    job_id = page.locator(".alert.ok a").inner_text()
    card = page.locator(f'.job[data-job-id="{job_id}"]')
    expect(card.locator(".pill")).to_have_text("completed")  # followed live over the keyed stream
    page.locator(".alert.ok a").click()
    thumbs = page.locator("#gallery .thumb img")
    expect(thumbs).to_have_count(2)
    for i in range(2):
        # Fetched with the key, then shown: wait for the decoded picture (an <img> without a src yet
        # is already `complete`).
        expect(thumbs.nth(i)).to_have_js_property("naturalWidth", 64)
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == f"{job_id}.zip"

    with keyed_stack.http("bob") as bob:  # the page acted as bob
        assert job_id in [job["job_id"] for job in bob.get("/jobs").json()]
    other = context.new_page()  # sessionStorage is per tab: a new tab has no key
    other.goto("/ui")
    assert other.evaluate("sessionStorage.getItem('synthmill-api-key')") is None
    expect(other.locator("#jobs")).to_contain_text("401")
    assert not errors, f"JavaScript errors: {errors}"
