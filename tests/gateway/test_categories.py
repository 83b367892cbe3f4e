"""The class names a job with annotations records: when the image server cannot say its detector's
classes, the job goes on and the COCO file names the categories its boxes carry."""

from __future__ import annotations

import asyncio
from pathlib import Path

from servers import free_port

from synthmill.gateway.outputs.records import ImageRecord
from synthmill.gateway.run.judging import CATEGORIES, categories, note_categories
from synthmill.gateway.store.job_store import open_store
from synthmill.gateway.upstream import image_upstream
from synthmill.v1 import common_pb2
from synthmill.v1 import gateway_pb2 as pb


def test_an_unreachable_image_server_leaves_the_categories_to_the_boxes(tmp_path: Path) -> None:
    async def scenario() -> None:
        store = open_store("", tmp_path / "jobs.db", retry_s=5.0)
        await store.open()
        upstream = image_upstream(f"127.0.0.1:{free_port()}", 1 << 20)  # nothing listens there
        try:
            params = common_pb2.ImageParams(annotations=["bbox"])
            await note_categories(store, upstream, pb.Job(id="j1"), "me", params)
            assert await store.items("j1", CATEGORIES) == {}
            boxes = [ImageRecord("images/a.png", 8, 8, boxes=[{"category_id": 2, "label": "dog"}])]
            assert await categories(store, "j1", boxes) == ["class 1", "dog"]
        finally:
            await upstream.close()
            await store.close()

    asyncio.run(scenario())
