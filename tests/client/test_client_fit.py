"""`synthmill fit` and `synthmill quality` as real processes, and a fitted schema run as an ordinary text
job through a real gateway over the tiny servers (its free-text column written by the LLM)."""

from __future__ import annotations

import json
from pathlib import Path

from benchmarks.people import as_csv, people
from synthmill.common.schema import parse_schema


def write_sample(tmp_path: Path, rows: list[dict]) -> Path:
    path = tmp_path / "sample.csv"
    path.write_bytes(as_csv(rows))
    return path


def test_fit_prints_a_schema_and_writes_one_with_o(cli, tmp_path: Path) -> None:
    sample = write_sample(tmp_path, people(500))
    printed = cli("fit", str(sample))
    assert printed.code == 0, printed.stderr
    spec = json.loads(printed.stdout)
    assert spec["plan"]["distribution"].startswith("weights(") and "distribution" in spec["age"]
    assert spec["fitted_from"]["rows"] == 500
    parse_schema(spec)
    out = tmp_path / "fitted.json"
    written = cli("fit", str(sample), "-o", str(out), "--min-count", "3", "--holdout", "0")
    assert written.code == 0 and written.stdout == ""
    assert json.loads(out.read_text())["fitted_from"]["holdout"] == 0


def test_fit_reads_stdin_and_refuses_bad_samples_naming_line_and_column(cli, tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("age,name\n31,a\n42,b\nold,c\n55,d\n")
    result = cli("fit", str(bad))
    assert result.code == 2 and result.stdout == ""
    assert "sample line 4: column 'age' holds 'old'" in result.stderr
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert "sample: has no rows" in cli("fit", str(empty)).stderr
    missing = cli("fit", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "is not a file" in missing.stderr


def test_quality_writes_the_report_and_fails_under_a_threshold(cli, tmp_path: Path) -> None:
    from synthmill.common.sampler import ColumnSampler

    sample = write_sample(tmp_path, people(1000))
    fitted = tmp_path / "fitted.json"
    assert cli("fit", str(sample), "-o", str(fitted)).code == 0
    rows = ColumnSampler(parse_schema(fitted.read_text())).rows(3, range(800))
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "report"
    passed = cli(
        "quality",
        str(sample),
        str(data),
        "--schema",
        str(fitted),
        "-o",
        str(out),
        "--fail-under",
        "quality=0.85,dcr=0.6",
    )
    assert passed.code == 0, passed.stderr
    report = json.loads((out / "quality.json").read_text())
    assert report["score"] >= 0.85 and report["privacy"]["dcr"]["score"] >= 0.6
    assert "Quality" in (out / "quality.html").read_text()
    failed = cli(
        "quality", str(sample), str(data), "--schema", str(fitted), "--fail-under", "quality=0.999", "--json"
    )
    assert failed.code == 1 and "quality 0.9" in failed.stderr and "is below 0.999" in failed.stderr
    assert failed.json()["score"] == report["score"]
    unknown = cli("quality", str(sample), str(data), "--schema", str(fitted), "--fail-under", "speed=1")
    assert unknown.code == 2 and "'speed' is not one of quality, dcr" in unknown.stderr


def test_a_fitted_schema_runs_as_a_text_job(cli, gateway_factory, tmp_path: Path) -> None:
    rows = people(200)
    for k, row in enumerate(rows):
        row["comment"] = f"customer {k} wrote in about billing"
    sample = write_sample(tmp_path, rows)
    fitted = tmp_path / "fitted.json"
    assert cli("fit", str(sample), "-o", str(fitted)).code == 0
    assert "examples" in json.loads(fitted.read_text())["comment"]
    gateway = gateway_factory(output_dir=tmp_path / "out")
    job = cli(
        "text",
        "--gateway",
        gateway.target,
        "--schema",
        f"@{fitted}",
        "-n",
        "6",
        "--seed",
        "4",
        "--json",
        "--quiet",
    )
    assert job.code == 0, job.stderr
    result = job.json()
    assert result["state"] == "COMPLETED"
    folder = Path(result["output_dir"])
    written = [json.loads(line) for line in (folder / "data.jsonl").read_text().splitlines()]
    schema = parse_schema(fitted.read_text())
    assert len(written) == 6 and list(written[0]) == list(schema.names)
    for row in written:
        schema.validate(row)
    assert json.loads((folder / "schema.json").read_text())["x-copula"] == schema.copula.spec()


def test_text_like_a_sample_through_the_cli(cli, gateway_factory, tmp_path: Path) -> None:
    """The issue's acceptance command: `synthmill text --like sample.csv -n 1000 --seed 3 --json`."""
    sample = write_sample(tmp_path, people(2000))
    gateway = gateway_factory(output_dir=tmp_path / "out")
    job = cli(
        "text",
        "--gateway",
        gateway.target,
        "--like",
        str(sample),
        "-n",
        "1000",
        "--seed",
        "3",
        "--json",
        "--quiet",
    )
    assert job.code == 0, job.stderr
    result = job.json()
    assert result["state"] == "COMPLETED" and result["quality_headline"].startswith("quality 0.9")
    report = json.loads((Path(result["output_dir"]) / "quality.json").read_text())
    assert report["score"] >= 0.85 and report["privacy"]["exact_matches"] == 0
    failing = cli(
        "text",
        "--gateway",
        gateway.target,
        "--like",
        str(sample),
        "-n",
        "50",
        "--fail-under",
        "quality=0.999",
        "--json",
    )
    assert failing.code != 0 and "is below 0.999" in failing.json()["error"]
    refused = cli("text", "--gateway", gateway.target, "--like", str(sample), "-n", "0", "--json")
    assert refused.code != 0 and "text.count" in refused.stderr
