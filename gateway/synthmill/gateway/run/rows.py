"""The rows of one job, over many text replicas at once.

Chunks. The job's rows are cut into fixed chunks of `rows_per_request` (chunk c holds rows
c·R … c·R+R-1), whatever the number of replicas. Up to `row_requests_in_flight` chunk requests are
in flight at once, and gRPC's `round_robin` spreads them over the text replicas. A request carries
its chunk alone, never earlier rows: the text server makes each chunk's rows valid and distinct
from each other, and nothing more.

The gateway is the authority on `unique` and whole-row duplicates across the job (and, for a job
made from a sample, on rows equal to a sample record: those are asked for again the same way). It accepts rows
strictly in index order, each against every row accepted before it. A row that repeats one is
asked for again, alone, with the seed of its next sample (`synthmill.common.seeds`, the text
server's own rule for retries), until a sample is new or `max_row_samples` samples were drawn. Only
accepted rows are stored, and they are stored in index order.

Sampled columns. Fields with a declared distribution are drawn here for each row from the job's
seed (`synthmill.common.sampler`), sent with the request as pinned values, and checked unchanged in
the row that comes back; the text server gets the schema without the distributions.

Determinism. Which rows a seeded job makes depends on the spec, the text model and its settings
(batch size, device), and `rows_per_request`; not on the number of replicas or requests in flight,
and not on a restart (a resumed job asks for the chunk of its first missing row again, whole).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from synthmill.common.sampler import ColumnSampler, plain
from synthmill.common.schema import InvalidRow, Schema
from synthmill.common.seeds import sample_seed
from synthmill.common.uniqueness import RowDeduper
from synthmill.gateway.outputs.records import RowRecord
from synthmill.gateway.run.retries import JobFailed
from synthmill.gateway.upstream import REQUEST_TIMEOUT_S
from synthmill.v1 import gateway_pb2 as pb
from synthmill.v1 import text_pb2


@dataclass
class _Chunk:
    rows: dict[int, text_pb2.GeneratedRow] = field(default_factory=dict)
    error: str = ""  # why the chunk's request failed, after the rows it did return


class RowMaker:
    """Makes the missing rows of one job and hands each accepted one to `accept`, in index order.

    `retrying(attempt, progress, pending)` runs upstream calls by the job's retry policy while work is
    pending; `accept`
    stores a row (its index, sample seed and samples drawn) before the next is considered.
    """

    def __init__(
        self,
        spec: pb.TextJobSpec,
        schema: Schema,
        seed: int,
        stub,
        settings,
        retrying: Callable[
            [Callable[[], Awaitable[None]], Callable[[], int], Callable[[], bool]], Awaitable[None]
        ],
        accept: Callable[[text_pb2.GeneratedRow, dict], Awaitable[None]],
        pinned: Callable[[int, int], list[dict]] | None = None,
        context: Callable[[int, int], list[dict]] | None = None,
        forbidden: Callable[[dict], bool] | None = None,
    ):
        self.spec = spec
        self.schema = schema
        self.seed = seed
        self.stub = stub
        self.size = settings.rows_per_request
        self.window = settings.row_requests_in_flight
        self.max_samples = settings.max_row_samples
        self.retrying = retrying
        self.accept = accept
        self.forbidden = forbidden  # rows never to accept (equal to a fitted sample's records)
        self._schema_json = json.dumps(plain(schema).json_schema())
        self.sampler = ColumnSampler(schema)
        self._pins = pinned
        self._context = context

    def _pinned(self, start: int, count: int) -> list[dict]:
        """The sampled values of rows start .. start + count - 1 (always from the job's seed), or
        what `pinned` gives (a tables job: keys, references and sampled columns)."""
        if self._pins is not None:
            return self._pins(start, count)
        return self.sampler.rows(self.seed, range(start, start + count)) if self.sampler.sampled else []

    def _request(self, start: int, count: int, seed: int) -> text_pb2.GenerateRowsRequest:
        pinned = self._pinned(start, count)
        return text_pb2.GenerateRowsRequest(
            pinned_rows_json=[json.dumps(values, ensure_ascii=False) for values in pinned],
            context_rows_json=[
                json.dumps(row, ensure_ascii=False)
                for row in (self._context(start, count) if self._context else [])
            ],
            schema_json=self._schema_json,
            start_index=start,
            count=count,
            seed=seed,
            instructions=self.spec.instructions,
            model=self.spec.model,
            sampling=self.spec.sampling,
        )

    async def make(self, done: dict[int, RowRecord]) -> None:
        """Makes rows from the first index not in `done` (rows already accepted) to the end."""
        deduper = RowDeduper(self.schema, self.forbidden, self.spec.count)
        for record in done.values():
            deduper.add(record.row)
        index = next(i for i in range(self.spec.count + 1) if i not in done)
        chunks: dict[int, asyncio.Task[_Chunk]] = {}
        try:
            while index < self.spec.count:
                first = index // self.size
                last = min(first + self.window, -(-self.spec.count // self.size))
                for c in range(first, last):
                    if c not in chunks:
                        chunks[c] = asyncio.create_task(self._chunk(c), name=f"rows-{c}")
                chunk = await chunks.pop(first)
                while index < min((first + 1) * self.size, self.spec.count):
                    generated = chunk.rows.get(index)
                    if generated is None:
                        raise JobFailed(chunk.error)
                    generated, row = await self._distinct(generated, deduper)
                    deduper.add(row)
                    await self.accept(generated, row)
                    index += 1
        finally:
            for task in chunks.values():
                task.cancel()
            await asyncio.gather(*chunks.values(), return_exceptions=True)

    async def _chunk(self, c: int) -> _Chunk:
        """Asks for chunk `c` whole (again, after a transient failure: same request, same rows)."""
        start = c * self.size
        request = self._request(start, min(self.size, self.spec.count - start), self.seed)
        chunk = _Chunk()

        async def attempt() -> None:
            async for reply in self.stub.GenerateRows(request, timeout=REQUEST_TIMEOUT_S):
                if reply.HasField("row"):
                    chunk.rows[reply.row.index] = reply.row

        try:
            count = request.count
            await self.retrying(attempt, lambda: len(chunk.rows), lambda: len(chunk.rows) < count)
        except JobFailed as exc:
            chunk.error = str(exc)
        return chunk

    async def _distinct(
        self, generated: text_pb2.GeneratedRow, deduper: RowDeduper
    ) -> tuple[text_pb2.GeneratedRow, dict]:
        """`generated` if it is new to the job, else the next samples of its row until one is."""
        while True:
            row = json.loads(generated.row_json)
            try:  # the text server validated it; a row is checked again before it is stored
                self.schema.validate(row)
                for name, value in next(iter(self._pinned(generated.index, 1)), {}).items():
                    if row[name] != value:
                        raise InvalidRow(name, f"the pinned value {value!r} came back as {row[name]!r}")
            except InvalidRow as exc:
                raise JobFailed(f"text server returned an invalid row {generated.index}: {exc}") from None
            conflict = deduper.conflict(row)
            if conflict is None:
                return generated, row
            drawn = generated.attempts
            if drawn >= self.max_samples:
                raise JobFailed(
                    f"row {generated.index}: no sample in {drawn} differs from the rows before it "
                    f"(last: {conflict}); the unique fields or the schema leave too few distinct rows"
                )
            generated = await self._again(generated.index, drawn)

    async def _again(self, index: int, drawn: int) -> text_pb2.GeneratedRow:
        """Row `index` alone, from its sample number `drawn` on."""
        request = self._request(index, 1, sample_seed(self.seed, 0, drawn))
        got: list[text_pb2.GeneratedRow] = []

        async def attempt() -> None:
            async for reply in self.stub.GenerateRows(request, timeout=REQUEST_TIMEOUT_S):
                if reply.HasField("row"):
                    got.append(reply.row)

        await self.retrying(attempt, lambda: len(got), lambda: not got)
        if not got:
            raise JobFailed(f"row {index}: the text server returned no row")
        row = got[0]
        return text_pb2.GeneratedRow(
            index=index, row_json=row.row_json, seed=row.seed, attempts=drawn + row.attempts
        )
