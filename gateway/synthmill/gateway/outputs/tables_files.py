"""The files of a tables job: one file per table, schema.sql, and the relational report.

A table is written only when every table it references is complete, so the files never hold a
reference to a missing row, even for a job that failed half way. Tables drawn alone are drawn and
written `ROWS_PER_STEP` rows at a time; memory holds one step, plus the keys of referenced tables
for the report's integrity check.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from synthmill.common.tables import Table, Tables
from synthmill.common.tables.draws import Draws, Lookup
from synthmill.common.tables.sql import schema_sql
from synthmill.gateway.outputs.folder import write_atomic
from synthmill.gateway.outputs.relations import RelationsReport
from synthmill.gateway.outputs.table_files import TableFile

ROWS_PER_STEP = 4096


def write_tables(
    folder: Path,
    tables: Tables,
    draws: Draws,
    row_format: int,
    written: Mapping[str, Mapping[int, dict]],
    lookup: Lookup | None = None,
) -> tuple[dict[str, str], dict[str, Any]]:
    """Writes the tables' files and schema.sql into `folder`; `written` holds the stored rows of the
    LLM-written tables. Returns the file of each table written, and the report (stats.json)."""
    report = RelationsReport(tables)
    complete: set[str] = set()
    files: dict[str, str] = {}
    for table in tables.tables:
        if not all(ref.table in complete or ref.table == table.name for ref in table.refs):
            continue
        out = TableFile(folder, table.name, table.schema, row_format)
        try:
            rows = _write(table, draws, written, lookup, out, report)
        except BaseException:
            out.abort()
            raise
        files[table.name] = out.close()
        if rows == draws.counts[table.name]:
            complete.add(table.name)
    csv = {name: file for name, file in files.items() if file.endswith(".csv")}
    write_atomic(folder / "schema.sql", schema_sql(tables, csv).encode())
    return files, report.report()


def _write(
    table: Table,
    draws: Draws,
    written: Mapping[str, Mapping[int, dict]],
    lookup: Lookup | None,
    out: TableFile,
    report: RelationsReport,
) -> int:
    count = draws.counts[table.name]
    if table.all_sampled:
        for first in range(0, count, ROWS_PER_STEP):
            rows = draws.rows(table.name, range(first, min(first + ROWS_PER_STEP, count)), lookup)
            out.write(rows)
            report.add(table.name, rows)
        return count
    stored = written[table.name]  # accepted in index order: a prefix of the table
    rows = [stored[i] for i in range(len(stored))]
    out.write(rows)
    report.add(table.name, rows)
    return len(rows)
