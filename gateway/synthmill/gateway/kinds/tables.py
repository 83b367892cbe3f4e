"""The `tables` job kind: several tables whose references always join.

At submit the schema is parsed (every error names its path under `tables.schema`), the job's seed
fixes each table's row count, and the counts are held to the limits: `max_rows` for rows the LLM
writes, `max_sampled_rows` for rows drawn alone.

The run goes through the tables in dependency order. Keys, references and sampled columns of every
row are drawn (`synthmill.common.tables.draws`); a table with LLM-written columns has them written
by the text replicas as a text job's rows are (`RowMaker`), with the drawn values pinned into each
row's grammar and the parent row shown in its prompt. Those rows are stored as items
`row:<table>`, so a resumed job goes on where it stopped. A table drawn alone is counted in order
and written with the files.

The files: one per table (`<table>.<ext>`), `schema.json`, `schema.sql` and the relational report
(`stats.json`, `stats.html`). A table is written only when every table it references is complete,
so a file set never holds a reference to a row that is missing, even after a failure.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.tables import Table, Tables, parse_tables
from synthmill.common.tables.draws import Draws
from synthmill.gateway.outputs import stats_html
from synthmill.gateway.outputs.results import describe
from synthmill.gateway.outputs.tables_files import write_tables
from synthmill.gateway.run.rows import RowMaker
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.job_store import Item
from synthmill.v1 import common_pb2, text_pb2
from synthmill.v1 import gateway_pb2 as pb

if TYPE_CHECKING:
    from synthmill.gateway.run.job_run import JobRun

PATH = "tables.schema"


def parse(spec: pb.TablesJobSpec) -> Tables:
    return parse_tables(spec.schema_json, PATH)


def validate(spec: pb.TablesJobSpec, settings: GatewaySettings, info: text_pb2.TextServerInfo | None) -> None:
    tables = parse(spec)
    if spec.format not in common_pb2.RowFormat.values():
        raise InvalidArgument("tables.format", f"unknown format {spec.format}")
    if spec.scale > settings.max_sampled_rows:
        raise InvalidArgument(
            "tables.scale", f"{spec.scale} is over the limit of {settings.max_sampled_rows}"
        )
    if uses_text(tables):
        if info is not None:
            rules.check_model(spec.model, [m.name for m in info.models], "tables.model")
        rules.check_sampling(spec.sampling, "tables.sampling", info)


def uses_text(tables: Tables) -> bool:
    return not all(t.all_sampled for t in tables.tables)


def spec_uses_text(spec: pb.TablesJobSpec) -> bool:
    try:
        return uses_text(parse(spec))
    except InvalidArgument:
        return False  # refused by `validate`


def totals(spec: pb.TablesJobSpec, seed: int, settings: GatewaySettings) -> pb.JobCounts:
    """Rows of every table for this seed, held to the limits (InvalidArgument naming the path)."""
    tables = parse(spec)
    counts = Draws(tables, seed, spec.scale or 1, f"{PATH}.tables").counts
    written = sum(counts[t.name] for t in tables.tables if not t.all_sampled)
    drawn = sum(counts.values()) - written
    if written > settings.max_rows:
        raise InvalidArgument(PATH, f"{written} LLM-written rows are over the limit of {settings.max_rows}")
    if drawn > settings.max_sampled_rows:
        raise InvalidArgument(PATH, f"{drawn} sampled rows are over the limit of {settings.max_sampled_rows}")
    return pb.JobCounts(rows_total=sum(counts.values()))


def _instructions(spec: pb.TablesJobSpec, table: Table) -> str:
    own = f"table {table.name}" + (f": {table.description}" if table.description else "")
    return f"{spec.instructions.strip()}; {own}" if spec.instructions.strip() else own


class TablesRun:
    """One run of a tables job, inside its `JobRun` (store, events, upstreams, folder)."""

    def __init__(self, run: JobRun):
        self.run = run
        self.spec = run.job.spec.tables
        self.tables = parse(self.spec)
        self.draws = Draws(self.tables, run.job.spec.seed, self.spec.scale or 1, f"{PATH}.tables")
        self._written: dict[str, dict[int, dict]] = {}  # stored rows of LLM-written tables

    async def execute(self) -> None:
        await asyncio.to_thread(self.run.folder.write_json, "schema.json", self.tables.json())
        counted = await self.run.store.items(self.run.job.id, "table")
        for position, table in enumerate(self.tables.tables):
            if table.all_sampled:
                if position not in counted:
                    await self._count(position, table)
            else:
                await self._write_rows(table)

    async def _count(self, position: int, table: Table) -> None:
        """A table drawn alone: its rows are known now and written with the files."""
        count = self.draws.counts[table.name]
        job = self.run.job
        job.counts.rows_done += count
        item = Item("table", position, {"table": table.name, "rows": count})
        event = pb.RowWritten(index=max(count - 1, 0), table=table.name)
        await self.run.ctx.events.append(job, self.run.owner, [item], row=event)

    async def _stored(self, name: str) -> dict[int, dict]:
        if name not in self._written:
            items = await self.run.store.items(self.run.job.id, f"row:{name}")
            self._written[name] = {index: item["row"] for index, item in items.items()}
        return self._written[name]

    def _lookup(self, name: str, indices) -> list[dict]:
        """Full rows of a table: drawn, or as the LLM wrote them (for a `by` or a prompt)."""
        if self.tables[name].all_sampled:
            return self.draws.rows(name, indices)
        rows = self._written[name]
        return [rows[int(i)] for i in indices]

    async def _write_rows(self, table: Table) -> None:
        for name in self._ancestors(table):
            if not self.tables[name].all_sampled:
                await self._stored(name)
        done = await self.run.store.items(self.run.job.id, f"row:{table.name}")
        count = self.draws.counts[table.name]
        if len(done) >= count:
            return
        run = self.run
        spec = pb.TextJobSpec(
            count=count,
            instructions=_instructions(self.spec, table),
            model=self.spec.model,
            sampling=self.spec.sampling,
        )
        await run._note_text_model(self.spec.model)

        def pinned(start: int, n: int) -> list[dict]:
            return (
                self.draws.rows(table.name, range(start, start + n), self._lookup)
                if table.pinned_names
                else []
            )

        def context(start: int, n: int) -> list[dict]:
            if table.parent is None:
                return []
            parents = self.draws.parent_of(table, range(start, start + n)).tolist()
            return [{table.parent: row} for row in self._lookup(table.parent, parents)]

        async def accept(generated: text_pb2.GeneratedRow, row: dict) -> None:
            await run._record_row(generated, row, table.name)

        def retrying(attempt, progress, pending):
            return run._retrying(run.ctx.text, attempt, progress, pending)

        seed = self.draws.seeds[table.name]
        maker = RowMaker(
            spec, table.schema, seed, run.ctx.text.stub, run.ctx.settings, retrying, accept, pinned, context
        )
        await maker.make(done)
        self._written.pop(table.name, None)

    def _ancestors(self, table: Table) -> list[str]:
        """Tables whose rows this one's draws or prompts read: its parent and what that reads."""
        out, name = [], table.parent
        while name is not None:
            out.append(name)
            name = self.tables[name].parent
        return out

    async def finalize(self) -> None:
        """Writes each table whose references are all complete, then schema.sql and the report."""
        for table in self.tables.tables:
            if not table.all_sampled:
                await self._stored(table.name)
        await asyncio.to_thread(self._write_files)

    def _write_files(self) -> None:
        job, folder = self.run.job, self.run.folder
        files, summary = write_tables(
            folder.path, self.tables, self.draws, self.spec.format, self._written, self._lookup
        )
        job.stats_headline = summary["headline"]
        folder.write_json("stats.json", summary)
        folder.write_text("stats.html", stats_html.render_tables(f"synthmill job {job.id}", summary))
        models = {"text": [self.run.text_model]} if self.run.text_model else {}
        folder.write_json("job.json", {**describe(job, models), "tables": self._listing(files)})

    def _listing(self, files: dict[str, str]) -> list[dict]:
        return [
            {"table": t.name, "rows": self.draws.counts[t.name], "file": files.get(t.name)}
            for t in self.tables.tables
        ]
