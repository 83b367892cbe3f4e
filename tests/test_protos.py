"""The committed stubs in protos/synthmill/v1 are exactly what the pinned grpcio-tools makes."""

from __future__ import annotations

import re
import tomllib
from importlib.metadata import version
from pathlib import Path

import pytest

from tools import protogen

ROOT = Path(__file__).resolve().parents[1]
COMMITTED = ROOT / "protos" / "synthmill" / "v1"
DRIFT = "Generated files are out of date: run make protos"


def _pins() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    deps = [*project["dependencies"], *project["optional-dependencies"]["dev"]]
    pins = {}
    for dep in deps:
        match = re.match(r"^([A-Za-z0-9_.-]+)\s*(==|>=)\s*([0-9][^,;\s]*)", dep)
        if match:
            pins[match.group(1).lower()] = match.group(3)
    return pins


def test_grpcio_tools_is_pinned_and_installed():
    pinned = _pins().get("grpcio-tools")
    assert pinned, "pyproject's dev extra must pin grpcio-tools==X.Y.Z"
    assert version("grpcio-tools") == pinned, f"installed grpcio-tools differs from the pin {pinned}"


def test_committed_stubs_match_the_protos(tmp_path: Path):
    if version("grpcio-tools") != _pins().get("grpcio-tools"):
        pytest.skip("installed grpcio-tools is not the pinned one")
    generated = {p.name: p.read_bytes() for p in protogen.generate(tmp_path)}
    committed = {p.name: p.read_bytes() for p in COMMITTED.iterdir() if p.name.endswith((".py", ".pyi"))}
    assert generated, "protoc generated nothing"
    missing = sorted(set(generated) - set(committed))
    extra = sorted(set(committed) - set(generated))
    changed = sorted(name for name in set(generated) & set(committed) if generated[name] != committed[name])
    assert not (missing or extra or changed), f"{DRIFT} (missing {missing}, stale {extra}, changed {changed})"


def test_generated_versions_match_the_pins():
    pins = _pins()
    for path in sorted(COMMITTED.glob("*_pb2_grpc.py")):
        found = re.search(r"GRPC_GENERATED_VERSION = '([^']+)'", path.read_text())
        assert found, f"{path.name}: no GRPC_GENERATED_VERSION"
        assert found.group(1) == pins["grpcio-tools"], (
            f"{path.name} was made by another grpcio-tools: {DRIFT}"
        )
        assert found.group(1) == pins["grpcio"], "grpcio's minimum must equal the grpcio-tools pin"
    for path in sorted(COMMITTED.glob("*_pb2.py")):
        found = re.search(r"# Protobuf Python Version: (\S+)", path.read_text())
        assert found, f"{path.name}: no protobuf version header"
        assert found.group(1) == pins["protobuf"], (
            "protobuf's minimum must equal the generating protoc's version"
        )
