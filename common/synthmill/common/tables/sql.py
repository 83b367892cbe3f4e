"""schema.sql: PostgreSQL DDL for the tables of a job, with every key and constraint the rows obey.

Tables are created in dependency order with PRIMARY KEY, UNIQUE, NOT NULL, CHECK (enum choices,
minimum/maximum, lengths) and FOREIGN KEY constraints, so `psql -f schema.sql` and one `\\copy` per
table file (the lines at the end, for CSV) load the dataset with every constraint checked.
"""

from __future__ import annotations

from synthmill.common.schema import Field
from synthmill.common.tables.model import Table, Tables

_TYPES = {
    "int": "bigint",
    "float": "double precision",
    "bool": "boolean",
    "date": "date",
    "datetime": "timestamp",
    "uuid": "uuid",
}


def ident(name: str) -> str:
    """A quoted SQL identifier (names are already ^[A-Za-z_][A-Za-z0-9_]*$)."""
    return f'"{name}"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _number(value: float, field: Field) -> str:
    return str(int(value)) if field.type == "int" else repr(float(value))


def _column(field: Field) -> str:
    parts = [ident(field.name), _TYPES.get(field.type, "text")]
    if not field.nullable:
        parts.append("NOT NULL")
    checks = []
    if field.type == "enum":
        checks.append(f"{ident(field.name)} IN ({', '.join(_literal(c) for c in field.choices)})")
    if field.minimum is not None:
        checks.append(f"{ident(field.name)} >= {_number(field.minimum, field)}")
    if field.maximum is not None:
        checks.append(f"{ident(field.name)} <= {_number(field.maximum, field)}")
    if field.min_length is not None:
        checks.append(f"char_length({ident(field.name)}) >= {field.min_length}")
    if field.max_length is not None:
        checks.append(f"char_length({ident(field.name)}) <= {field.max_length}")
    if checks:
        parts.append(f"CHECK ({' AND '.join(checks)})")
    return " ".join(parts)


def _table(table: Table) -> str:
    lines = [_column(field) for field in table.schema.fields]
    if table.key is not None:
        lines.append(f"PRIMARY KEY ({ident(table.key.field)})")
    for field in table.schema.fields:
        if field.unique and (table.key is None or field.name != table.key.field):
            lines.append(f"UNIQUE ({ident(field.name)})")
    for ref in table.refs:
        lines.append(f"FOREIGN KEY ({ident(ref.field)}) REFERENCES {ident(ref.table)} ({ident(ref.column)})")
    body = ",\n".join(f"    {line}" for line in lines)
    comment = f"-- {table.description}\n" if table.description else ""
    return f"{comment}CREATE TABLE {ident(table.name)} (\n{body}\n);\n"


def schema_sql(tables: Tables, files: dict[str, str] | None = None) -> str:
    """The DDL of `tables`; with `files` (table -> CSV file name), the psql lines that load them."""
    out = ["-- synthmill tables: psql -f schema.sql, then the \\copy lines below, in this order.\n"]
    out += [_table(table) for table in tables.tables]
    for name, file in (files or {}).items():
        out.append(f"-- \\copy {ident(name)} FROM '{file}' WITH (FORMAT csv, HEADER true)\n")
    return "\n".join(out)
