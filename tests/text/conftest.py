"""Fixtures of the text server tests: a real tiny-llama server shared by the session, and its stub."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from synthmill.v1 import text_pb2_grpc

ROOT = Path(__file__).resolve().parents[2]
TINY_ENV = {
    "SYNTHMILL_TEXT_MODEL": "tiny-llama",
    "SYNTHMILL_TEXT_BATCH_SIZE": "4",
    "SYNTHMILL_TEXT_MAX_ROWS": "50",
    "SYNTHMILL_TEXT_MAX_STRING_LENGTH": "40",
    "SYNTHMILL_TEXT_MAX_ATTEMPTS": "20",
}


def root_conftest():
    # Both conftest files are top-level modules named "conftest", so the root one is loaded by path.
    name = "synthmill_root_conftest"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, ROOT / "tests" / "conftest.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


def _serve(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> Iterator:
    logs = tmp_path_factory.mktemp("text-logs")
    process = root_conftest().ServerProcess("text", env, logs / "text.log").start()
    yield process
    process.stop()


@pytest.fixture(scope="session")
def tiny_text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """`python -m synthmill.text` on the embedded tiny-llama (random weights, the SmolLM2 tokenizer)."""
    yield from _serve(tmp_path_factory, TINY_ENV)


@pytest.fixture(scope="module")
def oom_text_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator:
    """tiny-llama with the FAULTS hook: an OOM in the forward of a generate call whose rows ×
    max_new_tokens is over 100."""
    env = {**TINY_ENV, "SYNTHMILL_TEXT_FAULTS": "oom@generate:100"}
    yield from _serve(tmp_path_factory, env)


@pytest.fixture(scope="session")
def text_stub(tiny_text_server) -> Iterator[text_pb2_grpc.TextServiceStub]:
    with grpc.insecure_channel(tiny_text_server.target) as channel:
        yield text_pb2_grpc.TextServiceStub(channel)
