"""Regenerates the committed stubs in `protos/synthmill/v1` beside the `*.proto` files they come from.

    python -m tools.protogen [OUT_ROOT]

The proto folder is named after the import namespace, so protoc writes `from synthmill.v1 import ...`
as it is and nothing is rewritten. The pinned grpcio-tools (pyproject's `dev` extra) sets the minimum
protobuf and grpcio runtimes users need; `tests/test_protos.py` fails when the committed files drift.
"""

from __future__ import annotations

import argparse
import importlib.resources
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "protos"
PROTO_DIR = PROTO_ROOT / "synthmill" / "v1"
# The committed stubs live with the contract: protos/ is the root of the `synthmill.v1` package.
DEFAULT_OUT = PROTO_ROOT


def proto_files() -> list[Path]:
    return sorted(PROTO_DIR.glob("*.proto"))


def generate(out_root: Path = DEFAULT_OUT) -> list[Path]:
    """Writes `*_pb2.py`, `*_pb2_grpc.py` and `*_pb2.pyi` under `out_root/synthmill/v1`; returns them."""
    try:
        from grpc_tools import protoc
    except ImportError as exc:  # pragma: no cover - dev extra missing
        raise SystemExit("grpcio-tools is missing: install synthmill[dev]") from exc

    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    protos = proto_files()
    if not protos:
        raise SystemExit(f"no .proto files in {PROTO_DIR}")
    with importlib.resources.as_file(importlib.resources.files("grpc_tools") / "_proto") as well_known:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{well_known}",
            f"--python_out={out_root}",
            f"--pyi_out={out_root}",
            f"--grpc_python_out={out_root}",
            *(str(p.relative_to(PROTO_ROOT)) for p in protos),
        ]
        code = protoc.main(args)
    if code != 0:
        raise SystemExit(f"protoc failed with exit code {code}")
    out_dir = out_root / "synthmill" / "v1"
    return sorted(p for p in out_dir.iterdir() if p.name.endswith((".py", ".pyi")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.protogen", description=__doc__.split("\n")[0])
    parser.add_argument(
        "out_root",
        nargs="?",
        type=Path,
        default=DEFAULT_OUT,
        help="root the synthmill/v1 folder is written under (default: protos/)",
    )
    args = parser.parse_args(argv)
    for path in generate(args.out_root):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
