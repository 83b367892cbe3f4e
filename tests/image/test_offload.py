"""OFFLOAD=model|sequential needs an accelerator: on the CPU the server refuses it at load, naming the
setting (the offload paths themselves run in tests/test_gpu.py)."""

from __future__ import annotations

import pytest

from synthmill.image.generation import loader
from synthmill.image.serving.settings import ImageSettings


@pytest.mark.parametrize("offload", ["model", "sequential"])
def test_offload_on_the_cpu_is_refused_naming_the_setting(offload, tmp_path):
    settings = ImageSettings(models=("tiny-sd",), device="cpu", offload=offload, cache_dir=tmp_path)
    with pytest.raises(ValueError, match=rf"^SYNTHMILL_IMAGE_OFFLOAD={offload} needs an accelerator"):
        loader.load("tiny-sd", settings)
