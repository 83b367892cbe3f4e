"""Saved styles, as A1111 keeps them in `styles.csv`, applied to a job's prompts at submit.

The file has a header row and the columns `name`, `prompt`, `negative_prompt` (others are ignored).
A style's prompt holds the user's prompt where it says `{prompt}`; without that marker it is
appended after a comma. Negative prompts are joined the same way. Styles apply in the order named,
each to the result of the one before, as the WebUI does. A job's spec is rewritten with the styled
prompts when it is submitted, so it is recorded and resumed exactly as it ran; only prompts that the
LLM writes later (`expand_topic`) are styled as they arrive.
"""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path

from synthmill.common.errors import InvalidArgument
from synthmill.v1 import gateway_pb2 as pb

_MARKER = "{prompt}"


def merge(style_text: str, prompt: str) -> str:
    """`prompt` placed into one style's text."""
    if _MARKER in style_text:
        return style_text.replace(_MARKER, prompt)
    return ", ".join(part for part in (prompt.strip(), style_text.strip()) if part)


class Styles:
    """The styles of one styles.csv, by name, in file order."""

    def __init__(self, styles: Sequence[pb.Style] = ()):
        self.by_name = {style.name: style for style in styles}

    @classmethod
    def load(cls, path: Path | None) -> Styles:
        """Reads an A1111 styles.csv; no path means no styles."""
        if path is None:
            return cls()
        with open(path, encoding="utf-8-sig", newline="") as handle:
            rows = list(csv.DictReader(handle))
        return cls(
            [
                pb.Style(
                    name=row["name"].strip(),
                    prompt=row.get("prompt") or "",
                    negative_prompt=row.get("negative_prompt") or "",
                )
                for row in rows
                if (row.get("name") or "").strip()
            ]
        )

    def listed(self) -> list[pb.Style]:
        return list(self.by_name.values())

    def resolve(self, names: Sequence[str], path: str) -> list[pb.Style]:
        """The named styles; an unknown name is an InvalidArgument listing the known ones."""
        for i, name in enumerate(names):
            if name not in self.by_name:
                known = ", ".join(self.by_name) or "none (set SYNTHMILL_GATEWAY_STYLES to a styles.csv)"
                raise InvalidArgument(f"{path}[{i}]", f"unknown style {name!r}; known styles: {known}")
        return [self.by_name[name] for name in names]


def styled(text: str, styles: Sequence[pb.Style], column: str = "prompt") -> str:
    """`text` with each style's `column` (prompt or negative_prompt) merged in, in order."""
    for style in styles:
        text = merge(getattr(style, column), text)
    return text
