"""docs/settings.md is exactly what `make docs` writes from the settings dataclasses' field docs."""

from __future__ import annotations

import dataclasses

import pytest

from tools import settingsdoc

DRIFT = "docs/settings.md is out of date: run make docs"


def test_the_committed_settings_page_is_what_make_docs_writes() -> None:
    assert settingsdoc.PAGE.read_text() == settingsdoc.render(), DRIFT


@pytest.mark.parametrize(("title", "settings", "prefix"), settingsdoc.SERVICES)
def test_every_setting_has_a_doc_and_a_row(title: str, settings: type, prefix: str) -> None:
    page = settingsdoc.PAGE.read_text()
    for field in dataclasses.fields(settings):
        assert field.metadata.get("doc", "").strip(), f"{settings.__name__}.{field.name} has no doc"
        assert f"| `{prefix}{field.name.upper()}` |" in page, f"{title}: no row for {field.name}"
