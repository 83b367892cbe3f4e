"""The `tables` job kind: several tables whose references always join.

At submit the schema is parsed (every error names its path under `tables.schema`), the job's seed
fixes each table's row count, and the counts are held to the limits: `max_rows` for rows the LLM
writes, `max_sampled_rows` for rows drawn alone.

The run goes through the tables in dependency order. Keys, references and sampled columns of every
row are drawn (`synthmill.common.tables.draws`); a table with LLM-written columns has them written
by the text replicas as a text job's rows are (`RowMaker`), with the drawn values pinned into each
row's grammar and the parent row shown in its prompt. Those rows are stored as items `row:<table>`,
so a resumed job goes on where it stopped. A table drawn alone is counted in its turn (an item
`table`) and drawn again, row for row the same, when the files are written (`write_tables`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from functools import lru_cache

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument
from synthmill.common.tables import Table, Tables, parse_tables
from synthmill.common.tables.draws import Draws
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.outputs import stats_html
from synthmill.gateway.outputs.records import ROW, RowRecord
from synthmill.gateway.outputs.results import describe
from synthmill.gateway.outputs.tables_files import write_tables
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.rows import RowMaker
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.store.job_store import Item
from synthmill.v1 import common_pb2, text_pb2
from synthmill.v1 import gateway_pb2 as pb

PATH = "tables.schema"
COUNTED = "table"  # the item that says a table drawn alone had its turn (index: its position)


@lru_cache(maxsize=4)
def _parsed(schema_json: str) -> Tables:
    return parse_tables(schema_json, PATH)


@lru_cache(maxsize=4)
def _draws(schema_json: str, seed: int, scale: int, limit: int | None) -> Draws:
    return Draws(_parsed(schema_json), seed, scale or 1, f"{PATH}.tables", limit)


def draws_of(spec: pb.JobSpec, settings: GatewaySettings | None = None) -> Draws:
    """The job's draws; with `settings`, refused (InvalidArgument) past the rows a job may have."""
    limit = settings.max_rows + settings.max_sampled_rows if settings is not None else None
    return _draws(spec.tables.schema_json, spec.seed, spec.tables.scale, limit)


def _llm(tables: Tables) -> bool:
    return not all(t.all_sampled for t in tables.tables)


class TablesKind(JobKind):
    name = "tables"

    def uses_text(self, spec: pb.JobSpec) -> bool:
        try:
            return _llm(_parsed(spec.tables.schema_json))
        except InvalidArgument:
            return False  # refused by `validate`

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        part = spec.tables
        tables = _parsed(part.schema_json)
        if part.format not in common_pb2.RowFormat.values():
            raise InvalidArgument("tables.format", f"unknown format {part.format}")
        rules.check_count(part.scale, settings.max_sampled_rows, "tables.scale", allow_zero=True)
        if _llm(tables):
            if info.text is not None:
                rules.check_model(part.model, [m.name for m in info.text.models], "tables.model")
            rules.check_sampling(part.sampling, "tables.sampling", info.text)
        if spec.HasField("seed") and spec.seed >= 0:  # the row counts follow from the seed
            counts = draws_of(spec, settings).counts
            written = sum(counts[t.name] for t in tables.tables if not t.all_sampled)
            drawn = sum(counts.values()) - written
            if written > settings.max_rows:
                raise InvalidArgument(
                    PATH, f"{written} LLM-written rows are over the limit of {settings.max_rows}"
                )
            if drawn > settings.max_sampled_rows:
                raise InvalidArgument(
                    PATH, f"{drawn} sampled rows are over the limit of {settings.max_sampled_rows}"
                )

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        return pb.JobCounts(rows_total=sum(draws_of(spec).counts.values()))

    async def run(self, run: JobRun) -> None:
        await TablesRun(run).execute()

    async def finalize(self, run: JobRun) -> None:
        await TablesRun(run).finalize()


def _instructions(spec: pb.TablesJobSpec, table: Table) -> str:
    own = f"table {table.name}" + (f": {table.description}" if table.description else "")
    return f"{spec.instructions.strip()}; {own}" if spec.instructions.strip() else own


class TablesRun:
    """One run of a tables job, inside its `JobRun` (store, events, upstreams, folder)."""

    def __init__(self, run: JobRun):
        self.run = run
        self.spec = run.job.spec.tables
        self.tables = _parsed(self.spec.schema_json)
        self.draws = draws_of(run.job.spec)
        self._written: dict[str, dict[int, dict]] = {}  # stored rows of LLM-written tables

    async def execute(self) -> None:
        await asyncio.to_thread(self.run.folder.write_json, "schema.json", self.tables.json())
        counted = await self.run.store.items(self.run.job.id, COUNTED)
        for position, table in enumerate(self.tables.tables):
            if not table.all_sampled:
                await self._write_rows(table)
            elif position not in counted:
                await self._count(position, table)

    async def _count(self, position: int, table: Table) -> None:
        count = self.draws.counts[table.name]
        job = self.run.job
        job.counts.rows_done += count
        item = Item(COUNTED, position, {"table": table.name, "rows": count})
        event = pb.RowWritten(index=max(count - 1, 0), table=table.name)
        await self.run.ctx.events.append(job, self.run.owner, [item], row=event)

    async def _stored(self, name: str) -> dict[int, dict]:
        if name not in self._written:
            items = await self.run.store.items(self.run.job.id, f"{ROW}:{name}")
            self._written[name] = {index: RowRecord.from_json(item).row for index, item in items.items()}
        return self._written[name]

    def _lookup(self, name: str, indices: Sequence[int]) -> list[dict]:
        """Whole rows of a table: drawn, or as the LLM wrote them (for a `by` or a prompt)."""
        if self.tables[name].all_sampled:
            return self.draws.rows(name, indices)
        rows = self._written[name]
        return [rows[int(i)] for i in indices]

    async def _write_rows(self, table: Table) -> None:
        name = table.parent
        while name is not None:  # the rows its prompts and draws read
            if not self.tables[name].all_sampled:
                await self._stored(name)
            name = self.tables[name].parent
        done = await self.run.store.items(self.run.job.id, f"{ROW}:{table.name}")
        count = self.draws.counts[table.name]
        if len(done) >= count:
            return
        run = self.run
        await run.note_text_model(self.spec.model)
        rows_spec = pb.TextJobSpec(
            count=count,
            instructions=_instructions(self.spec, table),
            model=self.spec.model,
            sampling=self.spec.sampling,
        )

        def pinned(start: int, n: int) -> list[dict]:
            if not table.pinned_names:
                return []
            return self.draws.rows(table.name, range(start, start + n), self._lookup)

        def context(start: int, n: int) -> list[dict]:
            if table.parent is None:
                return []
            parents = self.draws.parent_of(table, range(start, start + n)).tolist()
            return [{table.parent: row} for row in self._lookup(table.parent, parents)]

        async def accept(generated: text_pb2.GeneratedRow, row: dict) -> None:
            await run.record_row(
                generated.index, RowRecord(row, generated.seed, generated.attempts), table.name
            )

        def retrying(attempt, progress, pending):
            return run.retrying(run.ctx.text, attempt, progress, pending)

        seed = self.draws.seeds[table.name]
        stub, settings = run.ctx.text.stub, run.ctx.settings
        maker = RowMaker(rows_spec, table.schema, seed, stub, settings, retrying, accept, pinned, context)
        await maker.make({index: RowRecord.from_json(item) for index, item in done.items()})

    async def finalize(self) -> None:
        """The files of every table whose references are complete, schema.sql, the report, job.json."""
        for table in self.tables.tables:
            if not table.all_sampled:
                await self._stored(table.name)
        counted = await self.run.store.items(self.run.job.id, COUNTED)
        job = self.run.job
        # What is stored is what was made (a record cut short by a cancel had counted itself already).
        job.counts.rows_done = sum(len(rows) for rows in self._written.values()) + sum(
            item["rows"] for item in counted.values()
        )
        await asyncio.to_thread(self._write_files)

    def _write_files(self) -> None:
        job, folder = self.run.job, self.run.folder
        files, summary = write_tables(
            folder.path, self.tables, self.draws, self.spec.format, self._written, self._lookup
        )
        job.stats_headline = summary["headline"]
        job.distinct_row_ratio = summary["distinct_row_ratio"]
        folder.write_json("stats.json", summary)
        folder.write_text("stats.html", stats_html.render_tables(f"synthmill job {job.id}", summary))
        models = {"text": [self.run.text_model]} if self.run.text_model else {}
        listing = [
            {"table": t.name, "rows": self.draws.counts[t.name], "file": files.get(t.name)}
            for t in self.tables.tables
        ]
        folder.write_json("job.json", {**describe(job, models, True), "tables": listing})
