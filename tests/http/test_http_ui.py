"""The /ui page in a real browser (Debian's headless Chromium driven by Playwright) against a running
stack: build a schema, submit, watch the bar reach 100%, open the gallery and see the thumbnails, and
see boxes and masks drawn over a photograph.
Screenshots are kept under test-artifacts/ (gitignored) for a person to look at."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import matplotlib.cbook
import pytest
from playwright.sync_api import Browser, Page, expect
from pycocotools.coco import COCO
from shop import two_tables

from synthmill.client import Client, image_job
from synthmill.client.specs import annotate_job, tables_job

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 120_000  # a generous bound on waits for events, never a sleep
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture
def expected_errors() -> list[str]:
    """Patterns of the console errors a test causes on purpose (a 400 it provokes, a job that does not
    exist); each must then occur."""
    return []


@pytest.fixture
def page(browser: Browser, http_stack, expected_errors: list[str]) -> Iterator[Page]:
    """A page of a context that reaches the HTTP service only, as on a host without internet; the test
    fails on any JavaScript error or console error (a failed load, a 404) it did not expect."""
    context = browser.new_context(base_url=http_stack.url, viewport={"width": 1400, "height": 1000})
    context.route(
        "**/*",
        lambda route: route.continue_() if route.request.url.startswith(http_stack.url) else route.abort(),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on(
        "console",
        lambda message: (
            message.type == "error" and errors.append(f"{message.text} ({message.location['url']})")
        ),
    )
    yield page
    context.close()
    unexpected = [e for e in errors if not any(re.search(p, e) for p in expected_errors)]
    assert not unexpected, f"errors in the browser: {unexpected}"
    missing = [p for p in expected_errors if not any(re.search(p, e) for e in errors)]
    assert not missing, f"expected errors that did not occur: {missing}"


def _shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def test_build_a_schema_submit_and_watch_it_finish(page: Page) -> None:
    page.goto("/ui")
    expect(page.locator(".field")).to_have_count(3)  # the starter schema
    page.click("#add-field")
    new = page.locator(".field").nth(3)
    new.locator(".f-name").fill("city")
    new.locator(".f-type").select_option("enum")
    new.get_by_label("choices (comma-separated)").fill("Berlin, Paris, Rome")
    schema = page.locator("#json-schema")
    expect(schema).to_contain_text('"city"')
    expect(schema).to_contain_text('"Rome"')
    expect(schema).to_contain_text('"minimum": 18')
    page.fill("#num-samples", "3")
    page.select_option("#output-format", "csv")
    page.click("#generate-rows")
    expect(page.locator(".alert.ok")).to_contain_text("Text generation job queued")
    job_id = page.locator(".alert.ok a").inner_text()
    card = page.locator(f'.job[data-job-id="{job_id}"]')
    expect(card.locator(".bar")).to_have_attribute("aria-valuenow", "100")
    expect(card.locator(".pill")).to_have_text("completed")
    _shot(page, "ui-rows.png")
    card.locator("a.job-title").click()
    expect(page.locator("#rows-table tbody tr")).to_have_count(3)
    expect(page.locator("#rows-table thead")).to_contain_text("city")


def test_images_form_gallery_and_thumbnails(page: Page, api) -> None:
    page.goto("/ui#/images")
    page.fill("#prompts", "a floorplan at {lighting}")
    page.fill("#negative", "colors")
    for field, value in (
        ("#width", "64"),
        ("#height", "64"),
        ("#steps", "2"),
        ("#num-images", "4"),
        ("#seed", "7"),
    ):
        page.fill(field, value)
    page.click("#add-axis")
    page.get_by_label("axis name").fill("lighting")
    page.get_by_label("axis values").fill("day, night")
    expect(page.locator("#sampler option")).not_to_have_count(1)  # loaded from the server
    page.select_option("#sampler", "Euler a")
    page.check("#mask")
    page.click("#generate-images")
    expect(page.locator(".alert.ok")).to_contain_text("Image generation job queued")
    job_id = page.locator(".alert.ok a").inner_text()
    assert api.get(f"/jobs/{job_id}").json()["spec"]["images"]["params"]["annotations"] == ["mask"]
    page.locator(".alert.ok a").click()
    expect(page.locator("#job-status")).to_have_text("completed")
    expect(page.locator("#job-progress")).to_have_text("100%")
    thumbs = page.locator("#gallery .thumb img")
    expect(thumbs).to_have_count(4)
    for i in range(4):
        # Fetched with the key, then shown: wait for the decoded picture (an <img> without a src yet
        # is already `complete`).
        expect(thumbs.nth(i)).to_have_js_property("naturalWidth", 64)
    expect(page.locator("#gallery .caption").first).to_contain_text("seed 7")
    expect(page.locator("#gallery")).to_contain_text("at night")
    _shot(page, "ui-gallery.png")
    page.locator("#gallery .thumb").nth(1).click()
    expect(page.locator("#lightbox")).to_contain_text("Euler a")
    _shot(page, "ui-image.png")
    page.keyboard.press("Escape")
    with page.expect_download() as download:
        page.click("#download")
    assert download.value.suggested_filename == f"{job_id}.zip"


def test_the_api_docs_list_every_operation_without_internet(page: Page, api) -> None:
    operations = {
        (method.upper(), route)
        for route, methods in api.get("/openapi.json").json()["paths"].items()
        for method in methods
    }
    page.goto("/docs")
    listed = page.locator(".opblock-summary")
    expect(listed).to_have_count(len(operations))
    shown = {
        (
            block.locator(".opblock-summary-method").inner_text(),
            block.locator(".opblock-summary-path").get_attribute("data-path"),
        )
        for block in listed.all()
    }
    assert shown == operations
    _shot(page, "api-docs.png")


def test_redoc_loads_its_script_from_the_service(api) -> None:
    page = api.get("/redoc").text
    scripts = re.findall(r'<script src="([^"]+)"', page)
    assert scripts and all(src.startswith("/") for src in scripts), scripts
    assert api.get(scripts[0]).status_code == 200


def test_a_plain_image_job_page_asks_only_for_files_the_job_has(page: Page, http_stack) -> None:
    """No boxes were asked for, so the page does not ask for annotations/instances.json (a 404)."""
    with Client(http_stack.gateway.target, timeout=60) as client:
        job = client.wait(client.submit(image_job("a red barn", 2, size=(64, 64), steps=1, seed=3)).id)
    page.goto(f"/ui#/jobs/{job.id}")
    thumbs = page.locator("#gallery .thumb img")
    expect(thumbs).to_have_count(2)
    for i in range(2):
        expect(thumbs.nth(i)).to_have_js_property("complete", True)
    # The page names its own icon, so a browser does not ask for /favicon.ico (a 404).
    expect(page.locator("link[rel=icon]")).to_have_count(1)


def test_errors_are_shown_on_the_page(page: Page, expected_errors: list[str]) -> None:
    expected_errors += [r"status of 400 .*/generate/images\)$", r"status of 404 .*/jobs/no-such-job\)$"]
    page.goto("/ui#/images")
    page.fill("#prompts", "x")
    page.fill("#width", "64")
    page.fill("#height", "64")
    page.fill("#steps", "9999")  # the gateway's limit, not the browser's
    page.click("#generate-images")
    expect(page.locator(".alert.error")).to_contain_text("images.params.steps")
    page.goto("/ui#/jobs/no-such-job")
    expect(page.locator("h1")).to_have_text("Job not found")


def test_a_job_page_draws_each_box_and_its_mask(page: Page, http_stack, tmp_path: Path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    shutil.copy(matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False), photos / "hopper.jpg")
    with Client(http_stack.gateway.target, timeout=60) as client:
        job = client.wait(client.submit(annotate_job(photos, annotations=["bbox", "mask"])).id)
    coco = COCO(str(Path(job.output_dir) / "annotations" / "instances.json"))
    annotations = coco.loadAnns(coco.getAnnIds())
    assert annotations, "the detector finds the tie and the person"
    page.goto(f"/ui#/jobs/{job.id}")
    expect(page.locator("#gallery .thumb .box")).to_have_count(len(annotations))
    masks = page.locator("#gallery .thumb canvas.mask")
    expect(masks).to_have_count(len(annotations))
    # The page decodes COCO's compressed RLE itself: it paints exactly the pixels pycocotools decodes.
    painted = masks.evaluate_all(
        """canvases => canvases.map((c) => {
            const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i]) n++;
            return n;
        })"""
    )
    assert painted == [int(coco.annToMask(a).sum()) for a in annotations]
    assert all(painted)
    _shot(page, "ui-masks.png")


def test_a_tables_job_page_lists_its_tables_and_row_counts(page: Page, http_stack) -> None:
    schema = two_tables(12, "uniform(1, 3)")
    with Client(http_stack.gateway.target, timeout=60) as client:
        job = client.wait(client.submit(tables_job(schema, format="csv", seed=2)).id)
    orders = len(Path(job.output_dir, "orders.csv").read_text().splitlines()) - 1
    page.goto(f"/ui#/jobs/{job.id}")
    rows = page.locator("#tables-table tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_have_text("customers12customers.csv")
    expect(rows.nth(1)).to_have_text(f"orders{orders}orders.csv")
    expect(page.get_by_role("link", name="schema.sql")).to_be_visible()
    _shot(page, "ui-tables.png")


def test_start_from_a_file_fills_the_builder_with_a_fitted_schema(
    page: Page, tmp_path: Path, expected_errors: list[str]
) -> None:
    expected_errors.append(r"status of 400 .*/fit\?format=csv\)$")  # the bad file at the end
    from benchmarks.people import as_csv, people

    sample = tmp_path / "people.csv"
    sample.write_bytes(as_csv(people(400)))
    page.goto("/ui")
    expect(page.locator(".field")).to_have_count(3)  # the starter schema
    page.set_input_files("#sample-file", str(sample))
    expect(page.locator(".field")).to_have_count(5)  # age, income, plan, churned, name
    expect(page.locator(".field").nth(2).locator(".f-name")).to_have_value("plan")
    expect(page.locator(".field").nth(3)).to_contain_text("sampled: by plan")
    schema = page.locator("#json-schema")
    expect(schema).to_contain_text('"x-copula"')
    expect(schema).to_contain_text('"x-fitted-from"')
    expect(schema).to_contain_text('"x-distribution": "weights(')
    page.fill("#num-samples", "20")
    page.click("#generate-rows")
    expect(page.locator(".alert.ok")).to_contain_text("Text generation job queued")
    job_id = page.locator(".alert.ok a").inner_text()
    card = page.locator(f'.job[data-job-id="{job_id}"]')
    expect(card.locator(".pill")).to_have_text("completed")
    _shot(page, "ui-fit.png")
    bad = tmp_path / "bad.csv"
    bad.write_text("age\n1\n2\nold\n4\n")
    page.set_input_files("#sample-file", str(bad))
    expect(page.locator(".alert.error").first).to_contain_text("bad.csv: 400: sample line 4: column 'age'")
