"""`synthmill serve` and `synthmill up`: servers on this machine. Heavy modules are imported only here,
lazily, behind an import guard that names the extra to install."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from typing import Any

# Top-level modules the `text` / `image` extras bring; missing one means the extra is not installed.
EXTRA_MODULES = {
    "torch",
    "transformers",
    "diffusers",
    "accelerate",
    "safetensors",
    "tokenizers",
    "huggingface_hub",
    "gguf",
    "xgrammar",
    "numpy",
    "PIL",
    "fastapi",
    "uvicorn",
    "sse_starlette",
}
# The flags each server does not take.
SERVER_ONLY = {
    "gateway": ("model", "device", "cache_dir", "gateway"),
    "text": ("output_dir", "text_target", "image_target", "gateway"),
    "http": ("model", "device", "cache_dir", "output_dir", "text_target", "image_target"),
}
SERVER_ONLY["image"] = SERVER_ONLY["text"]
# Each kind is served by the `run` of `synthmill.<kind>.<module>`, imported by path only when served:
# the client depends on no server package (the HTTP service, for one, imports the client).
ENTRY_MODULE = {"text": "main", "image": "serving.main", "gateway": "main", "http": "main"}
# The line `up` prints on stdout once every server is SERVING: the stack's own readiness signal.
READY = "synthmill is up:"


def _path(value: str | None) -> Path | None:
    return None if value is None else Path(value).expanduser()


def serve_kwargs(args: Any) -> dict[str, Any]:
    """The keyword arguments of the kind's `ENTRY_MODULE`'s `run`; None leaves the env/default setting.
    Values have the settings' types (Path folders, a tuple of image models)."""
    kind = args.kind
    common = {
        "host": args.host,
        "port": args.port,
        "allow_unauthenticated": args.allow_unauthenticated,
        "allow_cleartext": args.allow_cleartext,
    }
    if kind == "http":
        return {**common, "gateway": args.gateway}
    if kind == "text":
        model = args.model[-1] if args.model else None
        return {**common, "model": model, "device": args.device, "cache_dir": _path(args.cache_dir)}
    if kind == "image":
        models = tuple(args.model) if args.model else None
        return {**common, "models": models, "device": args.device, "cache_dir": _path(args.cache_dir)}
    return {
        **common,
        "output_dir": _path(args.output_dir),
        "text_target": args.text_target,
        "image_target": args.image_target,
    }


def check_serve_flags(args: Any) -> str | None:
    """An error message when a flag does not apply to the chosen server."""
    for name in SERVER_ONLY[args.kind]:
        if getattr(args, name) not in (None, []):
            return f"--{name.replace('_', '-')} does not apply to `serve {args.kind}`"
    if args.kind == "text" and args.model and len(args.model) > 1:
        return "`serve text` takes one --model"
    return None


def cmd_serve(args: Any) -> int:
    kind = args.kind
    from synthmill.common import logs  # torch-free; configured before the heavy imports

    logs.configure(kind)
    try:
        module = importlib.import_module(f"synthmill.{kind}.{ENTRY_MODULE[kind]}")
        result = module.run(**serve_kwargs(args))
    except ModuleNotFoundError as exc:
        root = (exc.name or "").split(".")[0]
        if kind != "gateway" and root in EXTRA_MODULES:
            print(f"error: `serve {kind}` needs {root}: install synthmill[{kind}]", file=sys.stderr)
            return 1
        raise
    except KeyboardInterrupt:
        return 0
    return int(result or 0)


def cmd_up(args: Any) -> int:
    from synthmill.client.stack import Stack, StackError

    stack = Stack(
        text_model=args.text_model,
        image_models=tuple(args.image_model or ()),
        device=args.device,
        output_dir=args.output_dir,
        host=args.host,
        gateway_port=args.port,
        text_port=args.text_port,
        image_port=args.image_port,
        http_port=args.http_port or None,
        allow_unauthenticated=bool(args.allow_unauthenticated),
        allow_cleartext=bool(args.allow_cleartext),
    )
    # From here on a SIGINT or SIGTERM, whenever it lands (loading included), stops every child: exit 0.
    with stack.stop_on_signals():
        try:
            stack.start()
        except StackError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        if stack.stopping.is_set():
            print("stopped while starting", file=sys.stderr)
            return 0
        page = f", the web page at {stack.ui_url}" if stack.http_port else ""
        print(f"{READY} gateway at {stack.gateway_target}{page} (Ctrl-C stops everything)", flush=True)
        return stack.run_until_signal()
