"""`serve` and `up` plumbing: kwargs, the import guard, the stack's env, and `Stack` over real servers."""

from __future__ import annotations

import os
import sys
import types
from pathlib import Path

import pytest
from servers import free_port, pinned

from synthmill.client.cli import build_parser
from synthmill.client.local import check_serve_flags, cmd_serve, serve_kwargs
from synthmill.client.stack import Stack, StackError


def args(*argv: str):
    return build_parser().parse_args(list(argv))


def test_serve_kwargs_pass_none_for_unset_flags():
    assert serve_kwargs(args("serve", "text")) == {
        "host": None, "port": None, "allow_unauthenticated": None, "allow_cleartext": None, "model": None, "device": None,
        "cache_dir": None,
    }  # fmt: skip
    assert serve_kwargs(args("serve", "image", "--model", "tiny-sd", "--model", "sd15", "--port", "7")) == {
        "host": None, "port": 7, "allow_unauthenticated": None, "allow_cleartext": None, "models": ("tiny-sd", "sd15"),
        "device": None, "cache_dir": None,
    }  # fmt: skip
    assert serve_kwargs(args("serve", "gateway", "--output-dir", "o", "--text-target", "t:1")) == {
        "host": None, "port": None, "allow_unauthenticated": None, "allow_cleartext": None, "output_dir": Path("o"), "text_target": "t:1", "image_target": None,
    }  # fmt: skip
    assert serve_kwargs(args("serve", "http", "--gateway", "g:1", "--port", "8", "--allow-cleartext")) == {
        "host": None, "port": 8, "allow_unauthenticated": None, "allow_cleartext": True, "gateway": "g:1",
    }  # fmt: skip
    assert (
        check_serve_flags(args("serve", "http", "--model", "x")) == "--model does not apply to `serve http`"
    )
    assert (
        check_serve_flags(args("serve", "text", "--gateway", "g:1"))
        == "--gateway does not apply to `serve text`"
    )


def test_serve_calls_the_server_run(monkeypatch):
    calls = {}
    module = types.ModuleType("synthmill.image.serving.main")
    module.run = lambda **kw: calls.update(kw)
    monkeypatch.setitem(sys.modules, "synthmill.image.serving.main", module)
    assert cmd_serve(args("serve", "image", "--model", "tiny-sd", "--device", "cpu")) == 0
    assert calls["models"] == ("tiny-sd",) and calls["device"] == "cpu"


def test_serve_import_guard_names_the_extra(monkeypatch, capsys):
    def run(**kw):
        raise ModuleNotFoundError("No module named 'torch'", name="torch")

    module = types.ModuleType("synthmill.text.main")
    module.run = run
    monkeypatch.setitem(sys.modules, "synthmill.text.main", module)
    assert cmd_serve(args("serve", "text")) == 1
    assert "install synthmill[text]" in capsys.readouterr().err


def test_stack_env():
    stack = Stack(text_model="tiny-llama", image_models=["tiny-sd", "sd15"], device="cpu", output_dir="out",
                  host="0.0.0.0", gateway_port=1, text_port=2, image_port=3)  # fmt: skip
    assert stack.gateway_target == "127.0.0.1:1"
    text, image, gateway = (stack.child_env(k) for k in ("text", "image", "gateway"))
    assert text == {"SYNTHMILL_TEXT_HOST": "0.0.0.0", "SYNTHMILL_TEXT_PORT": "2", "SYNTHMILL_TEXT_MODEL": "tiny-llama",
                    "SYNTHMILL_TEXT_DEVICE": "cpu"}  # fmt: skip
    assert image["SYNTHMILL_IMAGE_MODELS"] == "tiny-sd,sd15" and image["SYNTHMILL_IMAGE_PORT"] == "3"
    assert gateway["SYNTHMILL_GATEWAY_TEXT_TARGET"] == "127.0.0.1:2"
    assert gateway["SYNTHMILL_GATEWAY_IMAGE_TARGET"] == "127.0.0.1:3"
    assert gateway["SYNTHMILL_GATEWAY_OUTPUT_DIR"].endswith("/out")
    assert "SYNTHMILL_TEXT_MODEL" not in Stack().child_env("text")
    assert stack.kinds == ("text", "image", "gateway")  # no HTTP service without a port
    with_http = Stack(gateway_port=1, http_port=4)
    assert with_http.kinds[-1] == "http" and with_http.ui_url == "http://127.0.0.1:4/ui"
    assert with_http.child_env("http") == {"SYNTHMILL_HTTP_HOST": "127.0.0.1", "SYNTHMILL_HTTP_PORT": "4",
                                           "SYNTHMILL_HTTP_GATEWAY": "127.0.0.1:1"}  # fmt: skip


def _real_stack(tmp_path):
    return Stack(
        text_model="tiny-llama", image_models=["tiny-sd"], device="cpu", output_dir=tmp_path / "out",
        gateway_port=free_port(), text_port=free_port(), image_port=free_port(), http_port=free_port(),
        log_dir=tmp_path, env={**pinned("text"), **pinned("image")}, on_status=lambda line: None, stop_timeout=30,
    )  # fmt: skip


@pytest.mark.e2e
def test_stack_starts_every_child_and_stops_all_when_one_dies(tmp_path):
    """Real text, image, gateway and HTTP servers; the gateway is then killed, and the stack stops the rest."""
    stack = _real_stack(tmp_path).start()
    try:
        assert all(child.serving and child.alive() for child in stack.children.values())
        stack.children["gateway"].proc.kill()
        assert stack.run_until_signal() == 1
    finally:
        stack.stop()
    codes = {kind: child.proc.returncode for kind, child in stack.children.items()}
    assert codes == {"text": 0, "image": 0, "gateway": -9, "http": 0}  # the others: SIGTERM, clean exit


# Dying while loading on cue, without a torch import, needs the health-only stand-in client_fake_server.py.
def _fake_stack(tmp_path, **env):
    here = str(Path(__file__).parent)
    return Stack(
        gateway_port=free_port(), text_port=free_port(), image_port=free_port(), log_dir=tmp_path,
        env={"PYTHONPATH": here + os.pathsep + os.environ.get("PYTHONPATH", ""), **env},
        modules=dict.fromkeys(("text", "image", "gateway"), "client_fake_server"),
        on_status=lambda line: None, stop_timeout=10,
    )  # fmt: skip


def test_stack_start_fails_when_a_child_dies_while_loading(tmp_path):
    stack = _fake_stack(tmp_path, FAKE_DIE_EARLY="text")
    with pytest.raises(StackError, match="text server exited with code 4"):
        stack.start()
    assert all(not child.alive() for child in stack.children.values())


def test_stack_refuses_tls_settings_it_cannot_probe(tmp_path):
    stack = _fake_stack(tmp_path, SYNTHMILL_GATEWAY_TLS_CERT="/certs/gw.pem", SYNTHMILL_TEXT_TLS_KEY="")
    with pytest.raises(StackError, match=r"clear text on loopback; unset SYNTHMILL_GATEWAY_TLS_CERT, or"):
        stack.start()
    assert stack.children == {}  # nothing was started
