"""schema.sql and the table files load into a real PostgreSQL with every constraint on (psql -f and
the \\copy lines schema.sql lists), and every foreign key joins there."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from pg import pg_bin
from shop import SAMPLED

from synthmill.common.tables import parse_tables
from synthmill.common.tables.draws import Draws
from synthmill.gateway.outputs.relations import RelationsReport
from synthmill.gateway.outputs.tables_files import write_tables
from synthmill.v1 import common_pb2

SEED = 5


def psql(url: str, folder: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [str(pg_bin() / "psql"), url, "-v", "ON_ERROR_STOP=1", "-X", "-q", "-A", "-t", *args]
    return subprocess.run(cmd, cwd=folder, capture_output=True, text=True, timeout=120)


def load(url: str, folder: Path) -> None:
    """What a user does: psql -f schema.sql, then each \\copy line of schema.sql."""
    result = psql(url, folder, "-f", "schema.sql")
    assert result.returncode == 0, result.stderr
    lines = [
        line[3:] for line in (folder / "schema.sql").read_text().splitlines() if line.startswith("-- \\copy")
    ]
    assert lines
    for line in lines:
        result = psql(url, folder, "-c", line)
        if result.returncode != 0:
            raise AssertionError(result.stderr)


def query(url: str, folder: Path, sql: str) -> list[list[str]]:
    result = psql(url, folder, "-F", "|", "-c", sql)
    assert result.returncode == 0, result.stderr
    return [line.split("|") for line in result.stdout.strip().splitlines()]


@pytest.fixture
def dataset(tmp_path: Path) -> tuple[Path, Draws, dict]:
    tables = parse_tables(SAMPLED)
    draws = Draws(tables, SEED)
    files, report = write_tables(tmp_path, tables, draws, common_pb2.ROW_FORMAT_CSV, {})
    assert set(files) == set(tables.names)
    return tmp_path, draws, report


def test_the_files_load_with_every_foreign_key_enforced_and_joining(dataset, pg_url):
    folder, draws, report = dataset
    load(pg_url, folder)
    for name, count in draws.counts.items():
        assert query(pg_url, folder, f'SELECT count(*) FROM "{name}"') == [[str(count)]]
    fks = query(
        pg_url,
        folder,
        "SELECT tc.table_name, kcu.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
        "WHERE tc.constraint_type = 'FOREIGN KEY' ORDER BY 1, 2",
    )
    assert fks == [
        ["customers", "referrer_id"],
        ["order_items", "order_id"],
        ["order_items", "product_code"],
        ["orders", "customer_id"],
    ]
    joins = {
        "orders": "SELECT count(*) FROM orders o JOIN customers c ON o.customer_id = c.id",
        "order_items": "SELECT count(*) FROM order_items i JOIN orders o ON i.order_id = o.id",
    }
    for name, sql in joins.items():
        assert query(pg_url, folder, sql) == [[str(draws.counts[name])]]
    with_product = query(pg_url, folder, "SELECT count(product_code) FROM order_items")[0][0]
    joined = query(
        pg_url, folder, "SELECT count(*) FROM order_items i JOIN products p ON i.product_code = p.code"
    )
    assert joined == [[with_product]] and int(with_product) > 0
    means = dict(
        query(
            pg_url,
            folder,
            "SELECT c.plan, avg(o.amount) FROM orders o JOIN customers c ON o.customer_id = c.id GROUP BY 1",
        )
    )
    assert float(means["pro"]) > float(means["free"]) + 40
    assert all(entry["orphans"] == 0 and entry["joined"] == 1.0 for entry in report["integrity"].values())
    assert set(report["integrity"]) == {
        "customers.referrer_id",
        "orders.customer_id",
        "order_items.order_id",
        "order_items.product_code",
    }


def test_a_broken_reference_is_refused_by_the_database(dataset, pg_url):
    """The constraints are really on: one order pointing at a customer that does not exist fails."""
    folder, _, _ = dataset
    orders = folder / "orders.csv"
    lines = orders.read_text().splitlines()
    cells = lines[1].split(",")
    cells[1] = "999999"
    lines[1] = ",".join(cells)
    orders.write_text("\n".join(lines) + "\n")
    with pytest.raises(AssertionError, match="violates foreign key constraint"):
        load(pg_url, folder)


def test_the_report_counts_an_orphan_and_children_per_parent():
    tables = parse_tables(SAMPLED)
    draws = Draws(tables, SEED)
    report = RelationsReport(tables)
    distinct = 0
    for name in tables.names:
        rows = draws.rows(name, range(draws.counts[name]))
        if name == "order_items":
            rows[0] = {**rows[0], "order_id": "00000000-0000-4000-8000-000000000000"}
        distinct += len({tuple(row.values()) for row in rows})
        report.add(name, rows)
    result = report.report()
    assert result["integrity"]["order_items.order_id"]["orphans"] == 1
    assert result["integrity"]["order_items.order_id"]["joined"] < 1.0
    assert result["integrity"]["orders.customer_id"]["orphans"] == 0
    # keyed tables' rows all differ; order_items (no key) may repeat a row of the same order
    assert result["distinct_row_ratio"] == pytest.approx(distinct / sum(draws.counts.values()))
    assert distinct < sum(draws.counts.values())
    per = draws.children_per_parent(tables["orders"]).tolist()
    children = result["children"]["orders"]
    assert children["count"] == len(per) and sum(children["histogram"]["counts"]) == len(per)
    histogram = children["histogram"]  # a bar per whole number of children, from the fewest
    first = int(histogram["edges"][0] + 0.5)
    assert histogram["counts"] == [per.count(k) for k in range(first, first + len(histogram["counts"]))]
