"""With HF_HUB_OFFLINE=1, a server configured with a hub model that is not in the cache does not start,
and its log says which model, which setting, and what to do."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("kind", "setting"),
    [
        ("image", "SYNTHMILL_IMAGE_MODELS"),
        ("image", "SYNTHMILL_IMAGE_SEGMENTER"),
        ("text", "SYNTHMILL_TEXT_MODEL"),
    ],
)
def test_offline_mode_names_the_missing_model(server_factory, tmp_path, kind, setting):
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf"), setting: "nobody/not-cached-model"}
    server = server_factory(kind, env, wait=False)
    assert server.proc.wait(timeout=300) != 0
    log = server.log_path.read_text()
    assert (
        f"{setting}: model 'nobody/not-cached-model' is not in the Hugging Face cache" in log
        and "HF_HUB_OFFLINE=1 forbids downloading it" in log
    ), log[-3000:]
