"""Relational datasets: several tables whose references always join (see `parse` for the schema,
`draws` for how counts, keys and references are drawn, `sql` for the PostgreSQL DDL)."""

from synthmill.common.tables.model import Key, Ref, Table, Tables
from synthmill.common.tables.parse import parse_tables

__all__ = ["Key", "Ref", "Table", "Tables", "parse_tables"]
