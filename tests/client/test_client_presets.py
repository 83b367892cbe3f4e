"""Model presets: `synthmill models` lists them, each with a model for every role; `up --preset` turns
one into the servers' own settings; offline, a preset with a model missing from the Hugging Face cache
stops `up` at once, naming the model and the command that fetches it. Nothing is downloaded: the hub
cache is a folder these tests fill with local snapshots."""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path

import pytest

from synthmill.client import presets
from synthmill.gateway.settings import GatewaySettings
from synthmill.image.serving.settings import ImageSettings
from synthmill.text.settings import TextSettings

ROLES = {"text", "image", "scorer", "detector", "open_detector", "segmenter", "captioner"}


def test_models_json_lists_every_preset_with_a_model_for_every_role(cli) -> None:
    result = cli("models", "--json")
    assert result.code == 0, result.stderr
    listed = result.json()["presets"]
    assert set(listed) == {"embedded", "cpu-small", "gpu", "gpu-xl"}
    for name, roles in listed.items():
        assert {role for role in roles if role != "about"} == ROLES, name
        assert all(roles[role] for role in ROLES), name
    assert listed["gpu"]["image"] == "stable-diffusion-v1-5/stable-diffusion-v1-5"
    assert listed["gpu"]["captioner"] == "Salesforce/blip-image-captioning-base"


@pytest.mark.parametrize("name", list(presets.PRESETS))
def test_a_preset_sets_settings_the_servers_have(name: str) -> None:
    fields = {
        "SYNTHMILL_TEXT_": {f.name for f in dataclasses.fields(TextSettings)},
        "SYNTHMILL_IMAGE_": {f.name for f in dataclasses.fields(ImageSettings)},
    }
    env = presets.preset(name).env()
    assert len(env) == len(ROLES)
    for variable in env:
        prefix = next(p for p in fields if variable.startswith(p))
        assert variable.removeprefix(prefix).lower() in fields[prefix], variable
    assert not any(variable.startswith("SYNTHMILL_GATEWAY_") for variable in env)
    assert GatewaySettings  # the gateway needs no model of its own


def test_the_embedded_preset_is_the_servers_defaults() -> None:
    env = presets.preset("embedded").env()
    assert env["SYNTHMILL_TEXT_MODEL"] == TextSettings().model
    image = ImageSettings()
    for role in ("scorer", "detector", "segmenter", "captioner"):
        assert env[f"SYNTHMILL_IMAGE_{role.upper()}"] == getattr(image, role)
    assert env["SYNTHMILL_IMAGE_MODELS"] == image.models[0]
    assert presets.preset("embedded").hub_ids() == []


def test_unknown_preset_is_refused_naming_the_flag(cli) -> None:
    for args in (("up", "--preset", "huge"), ("models", "pull", "--preset", "huge")):
        result = cli(*args)
        assert result.code == 2
        assert "--preset: unknown preset 'huge'; one of embedded, cpu-small, gpu, gpu-xl" in result.stderr


def _cache(hub: Path, repo_id: str) -> None:
    """A snapshot of `repo_id` in the hub cache, as huggingface_hub lays it out."""
    repo = hub / f"models--{repo_id.replace('/', '--')}"
    (repo / "refs").mkdir(parents=True)
    (repo / "refs" / "main").write_text("0" * 40)
    (repo / "snapshots" / ("0" * 40)).mkdir(parents=True)
    (repo / "snapshots" / ("0" * 40) / "config.json").write_text("{}")


def test_up_preset_offline_stops_at_once_naming_the_missing_model(cli, tmp_path: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "HF_HOME": str(tmp_path / "hf")}
    started = time.monotonic()
    result = cli("up", "--preset", "gpu", "--port", "0", env=env, timeout=60)
    assert result.code == 1
    assert time.monotonic() - started < 60
    first = presets.preset("gpu").hub_ids()[0]
    assert f"model {first!r} is not in the Hugging Face cache" in result.stderr
    assert "synthmill models pull --preset gpu" in result.stderr
    # With every model but the captioner cached, the captioner is the one named.
    captioner = presets.preset("gpu").captioner
    for repo_id in presets.preset("gpu").hub_ids():
        if repo_id != captioner:
            _cache(tmp_path / "hf" / "hub", repo_id)
    result = cli("up", "--preset", "gpu", env=env, timeout=60)
    assert result.code == 1 and f"model {captioner!r} is not in the Hugging Face cache" in result.stderr
    _cache(tmp_path / "hf" / "hub", captioner)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("HF_HUB_OFFLINE", "1")
        patch.setenv("HF_HOME", str(tmp_path / "hf"))
        import importlib

        from huggingface_hub import constants

        importlib.reload(constants)
        try:
            assert presets.missing_offline(presets.preset("gpu"), "gpu") is None  # all cached: up goes on
        finally:
            patch.undo()
            importlib.reload(constants)


def test_a_preset_model_given_as_a_local_folder_is_not_fetched(tmp_path: Path) -> None:
    folder = tmp_path / "my" / "captioner"
    folder.mkdir(parents=True)
    chosen = dataclasses.replace(presets.preset("gpu"), captioner=str(folder))
    assert str(folder) not in chosen.hub_ids()
    assert chosen.env()["SYNTHMILL_IMAGE_CAPTIONER"] == str(folder)
