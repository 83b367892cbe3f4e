"""Sampling uses exactly synthmill's parameters: a model whose generation_config.json sets its own
(repetition penalty, top-k, temperature, ...) makes the same rows as the same weights without them, and
transformers logs no warning about them."""

from __future__ import annotations

import json
import logging
import shutil
from pathlib import Path

import pytest

from synthmill.common.errors import ResourceExhausted
from synthmill.common.schema import parse_schema
from synthmill.common.settings import default_cache_dir
from synthmill.text import embedded, loader
from synthmill.text.domain import RowsJob, Sampling
from synthmill.text.engine import TextEngine
from synthmill.text.interrupt import Interrupt
from synthmill.text.settings import TextSettings

pytestmark = pytest.mark.e2e  # loads models

OWN_DEFAULTS = {
    "repetition_penalty": 5.0,  # Qwen2.5 ships 1.1; 5 makes a leak impossible to miss
    "no_repeat_ngram_size": 2,
    "top_k": 3,
    "temperature": 0.2,
    "do_sample": True,
}


def rows_of(path: Path, cache_dir: Path) -> list[str]:
    settings = TextSettings(
        batch_size=2,
        max_attempts=2,
        max_string_length=20,
        device="cpu",
        dtype="float32",
        cache_dir=cache_dir,
        threads=1,
    )
    engine = TextEngine(loader.load(str(path), settings), settings)
    schema = parse_schema({"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}})
    job = RowsJob(schema, 0, 4, 11, "", Sampling(0.9, 0.95, 40))
    made = []
    try:
        made += [
            event.row_json for event in engine.generate_rows(job, Interrupt()) if hasattr(event, "row_json")
        ]
    except ResourceExhausted as exc:  # random weights: a row may fail; the failure must match too
        made.append(str(exc))
    return made


def test_the_models_own_generation_defaults_do_not_leak_into_sampling(tmp_path, caplog):
    cache_dir = default_cache_dir()
    clean = embedded.ensure("tiny-llama", cache_dir)
    own = tmp_path / "tiny-llama-own-defaults"
    shutil.copytree(clean, own)
    config_path = own / "generation_config.json"
    config_path.write_text(json.dumps({**json.loads(config_path.read_text()), **OWN_DEFAULTS}))

    expected = rows_of(clean, cache_dir)
    with caplog.at_level(logging.INFO):
        got = rows_of(own, cache_dir)
    assert got == expected
    assert "ignoring the model's own generation defaults" in caplog.text
    assert "repetition_penalty" in caplog.text
    warned = [r for r in caplog.records if r.levelno >= logging.WARNING and r.name.startswith("transformers")]
    assert not warned, [r.getMessage() for r in warned]
