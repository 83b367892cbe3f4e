"""The README and the manual in docs/ stay true: the two set-up commands exist, every `make` target and
`synthmill` command line they show is one the Makefile and the CLI accept, every Python example
compiles, and every link to another page leads to a file."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from synthmill.client.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
MAKEFILE = (ROOT / "Makefile").read_text()


def _blocks(text: str, language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", text, flags=re.MULTILINE | re.DOTALL)


def _command_lines(text: str) -> list[str]:
    """The shell command lines of a page's bash blocks: continuations joined, comments dropped."""
    lines = []
    for block in _blocks(text, "bash"):
        for line in block.replace("\\\n", " ").splitlines():
            line = re.sub(r"\s+#.*$", "", line).strip()
            if line and not line.startswith("#"):
                lines.append(line)
    return lines


def test_readme_is_a_front_door_of_at_most_250_lines() -> None:
    assert len(README.splitlines()) <= 250


def test_exactly_two_set_up_commands_and_both_are_make_targets() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", setup, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]
    for command in commands:
        assert re.search(rf"^{command.split()[1]}:", MAKEFILE, flags=re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_make_target_a_page_names_exists(page: Path) -> None:
    targets = set(re.findall(r"`make ([\w-]+)", page.read_text()))
    missing = [t for t in sorted(targets) if not re.search(rf"^{t}:", MAKEFILE, flags=re.MULTILINE)]
    assert not missing, f"{page.name} names make targets the Makefile lacks: {missing}"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_synthmill_command_line_parses(page: Path) -> None:
    """Each `synthmill ...` line of a bash block is parsed by the CLI's own parser (nothing runs). A line
    listing alternatives (`jobs | status JOB | ...`) is a summary, not a command, and is skipped."""
    parser = build_parser()
    checked = 0
    for line in _command_lines(page.read_text()):
        if not line.split()[0].endswith("synthmill"):
            continue
        words = shlex.split(line.rstrip("&").strip())
        if "|" in words:
            continue
        try:
            parser.parse_args(words[1:])
        except SystemExit:
            pytest.fail(f"{page.name}: the CLI refuses {line!r}")
        checked += 1
    if page.name in ("README.md", "usage.md"):
        assert checked, f"{page.name} shows no synthmill command"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_python_example_compiles(page: Path) -> None:
    for source in _blocks(page.read_text(), "python"):
        compile(source, f"<{page.name}>", "exec")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_link_to_another_file_leads_to_one(page: Path) -> None:
    text = page.read_text()
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"^[a-z]+:", target) or target.startswith("#"):
            continue
        path, _, anchor = target.partition("#")
        linked = (page.parent / path).resolve()
        assert linked.exists(), f"{page.name} links to {target}, which does not exist"
        if anchor and linked.suffix == ".md":
            headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.MULTILINE)
            slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
            assert anchor in slugs, f"{page.name} links to {target}: no such heading"
