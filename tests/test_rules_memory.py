"""The memory rules a server states in GetInfo (each model's largest side, the batch pixel budget) are
applied by the same function on the server and at the gateway's submit."""

from __future__ import annotations

import pytest

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.v1 import common_pb2, image_pb2


def info(max_batch_pixels: int = 0) -> image_pb2.ImageServerInfo:
    models = [
        common_pb2.ModelInfo(name="sd", family="sd15", size_multiple=8, max_size=1024, is_default=True),
        common_pb2.ModelInfo(name="xl", family="sdxl", size_multiple=8, max_size=2048),
    ]
    return image_pb2.ImageServerInfo(
        models=models, max_size=2048, max_steps=50, max_batch_pixels=max_batch_pixels
    )


def test_each_model_has_its_familys_largest_side():
    rules.check_image_params(common_pb2.ImageParams(model="xl", width=1536, height=1536), "p", info())
    with pytest.raises(InvalidArgument, match=r"^p\.width: 1536 is over the limit of 1024 for sd \(sd15\)$"):
        rules.check_image_params(common_pb2.ImageParams(width=1536, height=512), "p", info())


def test_an_image_over_the_batch_pixel_budget_is_refused_naming_the_setting():
    rules.check_image_params(common_pb2.ImageParams(width=1024, height=1024), "p", info(1024 * 1024))
    with pytest.raises(InvalidArgument, match=r"^p\.width: 1024x1032 is over the server's pixel budget"):
        rules.check_image_params(
            common_pb2.ImageParams(model="xl", width=1024, height=1032), "p", info(1024 * 1024)
        )
