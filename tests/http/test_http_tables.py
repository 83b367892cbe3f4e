"""`POST /generate/tables` over a real HTTP service and gateway: a job per request, its table files
served like any job file, and the gateway's refusal (400) naming the path in the tables schema."""

from __future__ import annotations

import csv
import io

import pytest
from http_helpers import wait_job
from shop import two_tables

pytestmark = pytest.mark.e2e

SCHEMA = two_tables(20, "poisson(2)")


def test_a_tables_job_over_http(api) -> None:
    reply = api.post("/generate/tables", json={"schema": SCHEMA, "output_format": "csv", "seed": 4})
    assert reply.status_code == 202, reply.text
    job_id = reply.json()["job_id"]
    assert reply.json()["message"] == "Tables generation job queued"
    assert wait_job(api, job_id)["status"] == "completed"
    customers = list(csv.DictReader(io.StringIO(api.get(f"/jobs/{job_id}/files/customers.csv").text)))
    orders = list(csv.DictReader(io.StringIO(api.get(f"/jobs/{job_id}/files/orders.csv").text)))
    assert len(customers) == 20 and orders
    assert {o["customer_id"] for o in orders} <= {c["id"] for c in customers}
    assert "FOREIGN KEY" in api.get(f"/jobs/{job_id}/files/schema.sql").text


def test_a_bad_tables_schema_is_400_naming_its_path(api) -> None:
    bad = {
        "tables": {
            **SCHEMA["tables"],
            "customers": {**SCHEMA["tables"]["customers"], "per_parent": "poisson(1)"},
        }
    }
    reply = api.post("/generate/tables", json={"schema": bad})
    assert reply.status_code == 400, reply.text
    assert reply.json()["detail"].startswith("tables.schema.tables.customers.per_parent: needs a parent")


def test_too_many_rows_are_400_before_any_is_drawn(api) -> None:
    huge = two_tables(10**12, "poisson(2)")
    reply = api.post("/generate/tables", json={"schema": huge, "seed": 1})
    assert reply.status_code == 400, reply.text
    assert reply.json()["detail"].startswith("tables.schema.tables.customers.rows: makes 1000000000000 rows")
