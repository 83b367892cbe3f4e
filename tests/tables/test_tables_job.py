"""A tables job through the real stack (gateway over the shared tiny servers): the CLI door, files
that load into PostgreSQL with every foreign key on, drawn columns as `Draws` gives them, LLM
columns written with the parent row in the prompt, the same seed giving the same files, and a
gateway killed with SIGKILL mid-job resuming to the same files."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import grpc
import pytest
from shop import AMOUNT, PLAN
from test_tables_postgres import load, query

from synthmill.common.sampler import plain
from synthmill.common.tables import parse_tables
from synthmill.common.tables.draws import Draws
from synthmill.v1 import common_pb2, gateway_pb2_grpc, text_pb2, text_pb2_grpc
from synthmill.v1 import gateway_pb2 as pb

ROOT = Path(__file__).resolve().parents[2]
SEED = 3
SHOP = {
    "tables": {
        "customers": {
            "rows": 6,
            "primary_key": "id",
            "fields": {
                "id": "int",
                "name": {"type": "string", "max_length": 16, "description": "the customer's full name"},
                "plan": PLAN,
            },
        },
        "orders": {
            "primary_key": "id",
            "parent": "customers",
            "per_parent": "poisson(2)",
            "fields": {
                "id": "uuid",
                "customer_id": {"ref": "customers.id"},
                "amount": AMOUNT,
                "note": {"type": "string", "max_length": 20, "description": "why the customer ordered"},
            },
        },
        "order_items": {
            "parent": "orders",
            "per_parent": "uniform(1, 3)",
            "fields": {
                "order_id": {"ref": "orders.id"},
                "quantity": {"type": "int", "minimum": 1, "distribution": "poisson(2)"},
            },
        },
    }
}
FILES = {
    "customers.csv",
    "orders.csv",
    "order_items.csv",
    "schema.sql",
    "schema.json",
    "stats.json",
    "stats.html",
    "job.json",
}


def shop_by_cli(target: str, shop_file: Path) -> dict:
    """`synthmill tables --schema @shop.json --format csv --seed 3 --json`, as a real process."""
    args = ["tables", "--schema", f"@{shop_file}", "--format", "csv", "--seed", str(SEED), "--json"]
    proc = subprocess.run(
        [sys.executable, "-m", "synthmill.client.cli", *args, "--gateway", target],
        capture_output=True, text=True, timeout=600, cwd=ROOT,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout)


def read_csv(path: Path) -> list[dict]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {
        name: (folder / name).read_bytes()
        for name in ("customers.csv", "orders.csv", "order_items.csv", "schema.sql")
    }


@pytest.fixture
def shop_file(tmp_path: Path) -> Path:
    path = tmp_path / "shop.json"
    path.write_text(json.dumps(SHOP))
    return path


def test_a_shop_through_the_cli_loads_into_postgres_and_children_read_their_parent(
    gateway_factory, tiny_upstreams, shop_file, tmp_path, pg_url
):
    gateway = gateway_factory()
    out = shop_by_cli(gateway.target, shop_file)
    assert out["state"] == "COMPLETED", out
    folder = Path(out["output_dir"])
    assert FILES <= {p.name for p in folder.iterdir()}
    draws = Draws(parse_tables(SHOP), SEED)
    assert out["rows_total"] == out["rows_done"] == sum(draws.counts.values())

    load(pg_url, folder)  # every constraint on: keys unique, references resolve
    for name, count in draws.counts.items():
        assert query(pg_url, folder, f"SELECT count(*) FROM {name}") == [[str(count)]]
    orphans = "SELECT count(*) FROM order_items i LEFT JOIN orders o ON i.order_id = o.id WHERE o.id IS NULL"
    assert query(pg_url, folder, orphans) == [["0"]]

    customers, orders = read_csv(folder / "customers.csv"), read_csv(folder / "orders.csv")
    drawn = draws.rows("orders", range(len(orders)))
    assert [{k: str(v) for k, v in row.items()} for row in drawn] == [
        {k: row[k] for k in ("id", "customer_id", "amount")} for row in orders
    ]
    report = json.loads((folder / "stats.json").read_text())
    assert all(entry["joined"] == 1.0 for entry in report["integrity"].values())
    assert report["children"]["orders"]["per_parent"] == "poisson(2)"
    listing = json.loads((folder / "job.json").read_text())["tables"]
    assert [(t["table"], t["rows"]) for t in listing] == [
        (n, draws.counts[n]) for n in ("customers", "orders", "order_items")
    ]

    # The notes are what the text server writes for these orders with their customer in the prompt.
    by_id = {int(c["id"]): {"id": int(c["id"]), "name": c["name"], "plan": c["plan"]} for c in customers}
    table = parse_tables(SHOP)["orders"]
    first = drawn[:8]
    request = text_pb2.GenerateRowsRequest(
        schema_json=json.dumps(plain(table.schema).json_schema()),
        start_index=0,
        count=len(first),
        seed=draws.seeds["orders"],
        instructions="table orders",
        pinned_rows_json=[json.dumps(row) for row in first],
        sampling=common_pb2.SamplingParams(),
    )

    def notes(with_parent: bool) -> list[str]:
        del request.context_rows_json[:]
        if with_parent:
            request.context_rows_json.extend(
                json.dumps({"customers": by_id[row["customer_id"]]}) for row in first
            )
        with grpc.insecure_channel(tiny_upstreams.text.target) as channel:
            replies = list(text_pb2_grpc.TextServiceStub(channel).GenerateRows(request, timeout=300))
        return [json.loads(r.row.row_json)["note"] for r in replies if r.HasField("row")]

    written = [row["note"] for row in orders[: len(first)]]
    assert notes(with_parent=True) == written
    assert notes(with_parent=False) != written  # the parent row changes what the LLM writes

    again = shop_by_cli(gateway.target, shop_file)
    assert snapshot(Path(again["output_dir"])) == snapshot(folder)


def test_a_gateway_killed_mid_job_resumes_without_orphans(gateway_factory, tmp_path, pg_url):
    spec = pb.JobSpec(
        seed=SEED, tables=pb.TablesJobSpec(schema_json=json.dumps(SHOP), format=common_pb2.ROW_FORMAT_CSV)
    )
    reference = gateway_factory(output_dir=tmp_path / "reference")
    with grpc.insecure_channel(reference.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec))
        list(stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600))
        expected = snapshot(Path(stub.GetJob(pb.GetJobRequest(job_id=job.id)).output_dir))
    reference.stop()

    out = tmp_path / "crashing"
    gateway = gateway_factory(output_dir=out)
    with grpc.insecure_channel(gateway.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        job = stub.SubmitJob(pb.SubmitJobRequest(spec=spec))
        for event in stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600):
            if event.HasField("row") and event.row.table == "orders":
                break  # customers are written, orders are under way
    gateway.kill()
    assert event.counts.rows_done < event.counts.rows_total

    restarted = gateway_factory(output_dir=out)
    with grpc.insecure_channel(restarted.target) as channel:
        stub = gateway_pb2_grpc.GatewayStub(channel)
        list(stub.WatchJob(pb.WatchJobRequest(job_id=job.id), timeout=600))
        final = stub.GetJob(pb.GetJobRequest(job_id=job.id))
    assert final.state == pb.JOB_STATE_COMPLETED, final.error
    folder = Path(final.output_dir)
    assert snapshot(folder) == expected
    load(pg_url, folder)
    assert not list(folder.rglob(".*.tmp"))
