"""The CLI prints the stats report's headline when a job with rows ends."""

from __future__ import annotations

import json

SCHEMA = {
    "age": {"type": "int", "minimum": 18, "maximum": 90, "distribution": "normal(41, 13)"},
    "plan": {"type": "enum", "choices": ["free", "pro"], "distribution": 'weights({"free": 3, "pro": 1})'},
}


def test_text_job_prints_the_fit_headline(cli, gateway) -> None:
    r = cli("text", "--gateway", gateway.target, "--schema", json.dumps(SCHEMA), "-n", "200")
    assert r.code == 0, r.stderr
    line = next(line for line in r.stdout.splitlines() if line.startswith("stats: "))
    assert "200 rows, 2 of 2 columns sampled; fit: age KS 0.0" in line and "plan TV 0.0" in line
    r = cli("text", "--gateway", gateway.target, "--schema", json.dumps(SCHEMA), "-n", "20", "--json")
    assert r.json()["stats_headline"].startswith("20 rows, 2 of 2 columns sampled")
