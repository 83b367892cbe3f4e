"""The parts' dependencies, read from the source: who may import whom, and no import loops.

Every import counts, those inside functions and under `if TYPE_CHECKING:` too: a loop that only a
lazy import keeps from failing at start-up is still a loop to whoever reads the code.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Each part's folder, the package root its modules are named from.
PARTS = {
    "client": ROOT / "clients",
    "common": ROOT / "common",
    "gateway": ROOT / "gateway",
    "http": ROOT / "http",
    "text": ROOT / "services" / "text",
    "image": ROOT / "services" / "image",
    "runtime": ROOT / "services" / "runtime",
}
SERVERS = {"text", "image", "runtime"}
# Who may import which part of synthmill (`v1`, the protos, is everyone's).
MAY_IMPORT = {
    "common": set(),
    "client": {"common"},
    "gateway": {"common"},
    "http": {"common", "client"},
    "runtime": {"common"},
    "text": {"common", "runtime"},
    "image": {"common", "runtime"},
}
TORCH = {"torch", "diffusers", "transformers", "xgrammar", "huggingface_hub"}


def _modules(part: str) -> dict[str, Path]:
    base = PARTS[part]
    found = {}
    for path in (base / "synthmill").rglob("*.py"):
        name = ".".join(path.relative_to(base).with_suffix("").parts)
        found[name.removesuffix(".__init__")] = path
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every module `path` imports, anywhere in the file: `from p import m` names module p.m when
    there is one, else p itself."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *([base] if base else [])])
            for alias in node.names:
                names.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in _ALL_NAMES else base)
    return names


_ALL_NAMES = {name for part in PARTS for name in _modules(part)}
ALL = {name: path for part in PARTS for name, path in _modules(part).items()}


@pytest.mark.parametrize("part", sorted(PARTS))
def test_each_part_imports_only_the_parts_below_it(part: str) -> None:
    allowed = {"v1", part} | MAY_IMPORT[part]
    wrong = []
    for module, path in _modules(part).items():
        for name in _imports(path, module):
            top = name.split(".")
            if top[0] == "synthmill" and len(top) > 1 and top[1] not in allowed:
                wrong.append(f"{module} imports {name}")
            if part not in SERVERS and top[0] in TORCH:
                wrong.append(f"{module} imports {name} (server-only)")
    assert not wrong, "\n".join(sorted(wrong))


LOOP_FREE = sorted(PARTS)


@pytest.mark.parametrize("part", LOOP_FREE)
def test_no_import_loops(part: str) -> None:
    ours = _modules(part)
    graph = {
        module: {name for name in _imports(path, module) if name in ours and name != module}
        for module, path in ours.items()
    }
    loops: list[list[str]] = []
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(module: str) -> None:
        state[module] = 1
        stack.append(module)
        for name in sorted(graph[module]):
            if state.get(name) == 1:
                loops.append([*stack[stack.index(name) :], name])
            elif name not in state:
                visit(name)
        stack.pop()
        state[module] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)
    assert not loops, "\n".join(" → ".join(loop) for loop in loops)
