"""The README stays true: its set-up commands exist and every setting is documented."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest

from synthmill.gateway.settings import PREFIX as GATEWAY_PREFIX
from synthmill.gateway.settings import GatewaySettings
from synthmill.http.settings import PREFIX as HTTP_PREFIX
from synthmill.http.settings import HttpSettings
from synthmill.image.serving.settings import PREFIX as IMAGE_PREFIX
from synthmill.image.serving.settings import ImageSettings
from synthmill.text.settings import PREFIX as TEXT_PREFIX
from synthmill.text.settings import TextSettings

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def test_exactly_two_set_up_commands_and_both_are_make_targets() -> None:
    setup = README.split("## Set up", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^(make \w+)", setup, flags=re.MULTILINE)
    assert commands == ["make demo", "make test"]
    makefile = (ROOT / "Makefile").read_text()
    for command in commands:
        assert re.search(rf"^{command.split()[1]}:", makefile, flags=re.MULTILINE)
    assert "make test" in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    ("settings", "prefix"),
    [
        (GatewaySettings, GATEWAY_PREFIX),
        (TextSettings, TEXT_PREFIX),
        (ImageSettings, IMAGE_PREFIX),
        (HttpSettings, HTTP_PREFIX),
    ],
)
def test_every_setting_is_documented(settings: type, prefix: str) -> None:
    missing = [
        f"{prefix}{field.name.upper()}"
        for field in dataclasses.fields(settings)
        if f"`{prefix}{field.name.upper()}`" not in README
    ]
    assert not missing, f"README lacks {missing}"
