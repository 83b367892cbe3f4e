"""Text jobs: rows from a schema. Its checks and its row making serve the unified kind's rows too."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import grpc

from synthmill.common import rules
from synthmill.common.errors import InvalidArgument, Unavailable
from synthmill.common.sampler import ColumnSampler
from synthmill.common.schema import InvalidRow, Schema, parse_schema
from synthmill.common.schema.capacity import check_capacity
from synthmill.common.schema.shares import check_shares
from synthmill.gateway.kinds import fitted
from synthmill.gateway.kinds.base import JobKind, ServerInfo
from synthmill.gateway.outputs.folder import JobFolder
from synthmill.gateway.outputs.records import ROW, RowRecord
from synthmill.gateway.outputs.results import Recorded, write_rows
from synthmill.gateway.run.job_run import JobRun
from synthmill.gateway.run.retries import JobFailed
from synthmill.gateway.run.rows import RowMaker
from synthmill.gateway.settings import GatewaySettings
from synthmill.gateway.upstream import Upstream
from synthmill.v1 import common_pb2, text_pb2
from synthmill.v1 import gateway_pb2 as pb

_SAMPLED_ROWS_PER_STEP = 256  # rows drawn at once when every field is sampled

OnRow = Callable[[int, dict], Awaitable[None]]
Forbidden = Callable[[dict], bool]


class Text(JobKind):
    name = "text"

    def uses_text(self, spec: pb.JobSpec) -> bool:
        return True

    def rows(self, spec: pb.JobSpec) -> pb.TextJobSpec:
        return spec.text

    def prepare(self, spec: pb.JobSpec, settings: GatewaySettings) -> None:
        fitted.prepare(spec.text, settings)

    def validate(self, spec: pb.JobSpec, settings: GatewaySettings, info: ServerInfo) -> None:
        validate_rows(spec.text, "text", settings, info.text)

    def store_inputs(self, folder: JobFolder, spec: pb.JobSpec) -> None:
        fitted.store_inputs(folder, spec.text)

    def totals(self, spec: pb.JobSpec) -> pb.JobCounts:
        return pb.JobCounts(rows_total=spec.text.count)

    async def run(self, run: JobRun) -> None:
        spec = run.job.spec.text
        forbidden = await asyncio.to_thread(fitted.forbidden, run.folder, spec)
        await make_rows(run, spec, forbidden=forbidden)
        if forbidden is not None:  # made from a sample: its quality and privacy report
            stored = await run.store.items(run.job.id, ROW)
            rows = [RowRecord.from_json(stored[i]).row for i in sorted(stored)]
            await asyncio.to_thread(fitted.judge, run.job, run.folder, rows)

    def write_results(self, job: pb.Job, folder: JobFolder, recorded: Recorded) -> None:
        write_rows(job, folder, job.spec.text, recorded.rows)


def validate_rows(
    rows: pb.TextJobSpec, path: str, settings: GatewaySettings, info: text_pb2.TextServerInfo | None
) -> Schema:
    """The checks of a job's rows at `path`; returns their schema."""
    if rows.HasField("like") and not rows.schema_json:  # text jobs have theirs fitted by now
        raise InvalidArgument(f"{path}.like", "only text jobs are fitted to a sample; pass a fitted schema")
    schema = parse_schema(rows.schema_json, f"{path}.schema")
    rules.check_count(rows.count, settings.max_rows, f"{path}.count")
    check_capacity(schema, rows.count, f"{path}.count")
    check_shares(schema, rows.count, f"{path}.count")
    if rows.format not in common_pb2.RowFormat.values():
        raise InvalidArgument(f"{path}.format", f"unknown format {rows.format}")
    if info is not None:
        rules.check_model(rows.model, [m.name for m in info.models], f"{path}.model")
    rules.check_sampling(rows.sampling, f"{path}.sampling", info)
    return schema


_FLOOR_TIMEOUT_S = 60.0


async def check_row_budget(text: Upstream, rows: pb.TextJobSpec, path: str) -> None:
    """InvalidArgument at `path.sampling.max_new_tokens` when the row budget is under the fewest tokens
    any valid row takes with the model's tokenizer, as the text server reckons it (RowFloor)."""
    request = text_pb2.RowFloorRequest(
        schema_json=rows.schema_json, model=rows.model, max_new_tokens=rows.sampling.max_new_tokens
    )
    try:
        reply = await text.stub.RowFloor(request, timeout=_FLOOR_TIMEOUT_S)
    except grpc.RpcError as exc:
        if exc.code() == grpc.StatusCode.UNIMPLEMENTED:  # a text server from before RowFloor
            return
        raise Unavailable(f"text server: {exc.code().name} {exc.details()}") from None
    if reply.min_tokens and reply.max_new_tokens < reply.min_tokens:
        raise InvalidArgument(
            f"{path}.sampling.max_new_tokens",
            f"{reply.max_new_tokens} tokens is under the {reply.min_tokens} the shortest valid row of "
            "this schema takes with the text model's tokenizer",
        )


async def make_rows(
    run: JobRun, spec: pb.TextJobSpec, on_row: OnRow | None = None, forbidden: Forbidden | None = None
) -> None:
    """Makes the job's missing rows, in index order, each recorded, then handed to `on_row` (rows
    already recorded are handed over first). A row that `forbidden` rejects is drawn again."""
    schema = parse_schema(spec.schema_json)
    await asyncio.to_thread(run.folder.write_json, "schema.json", schema.json_schema())
    stored = await run.store.items(run.job.id, ROW)
    done = {index: RowRecord.from_json(item) for index, item in stored.items()}
    if on_row:
        for index, record in done.items():
            await on_row(index, record.row)

    async def accept(index: int, record: RowRecord) -> None:
        await run.record_row(index, record)
        if on_row:
            await on_row(index, record.row)

    sampler = ColumnSampler(schema, exclude=forbidden)
    if sampler.all_sampled:  # no LLM: the rows are drawn here, at the sampler's speed
        await _sample_rows(run, spec.count, schema, sampler, set(done), accept)
        return
    await run.note_text_model(spec.model)

    async def accept_generated(generated: text_pb2.GeneratedRow, row: dict) -> None:
        await accept(generated.index, RowRecord(row, generated.seed, generated.attempts))

    def retrying(attempt, progress, pending) -> Awaitable[None]:
        return run.retrying(run.ctx.text, attempt, progress, pending)

    maker = RowMaker(
        spec, schema, run.seed, run.ctx.text.stub, run.ctx.settings, retrying, accept_generated, forbidden
    )
    await maker.make(done)


async def _sample_rows(
    run: JobRun,
    count: int,
    schema: Schema,
    sampler: ColumnSampler,
    done: set[int],
    accept: Callable[[int, RowRecord], Awaitable[None]],
) -> None:
    for first in range(0, count, _SAMPLED_ROWS_PER_STEP):
        indices = [i for i in range(first, min(first + _SAMPLED_ROWS_PER_STEP, count)) if i not in done]
        try:
            rows = await asyncio.to_thread(sampler.rows, run.seed, indices)
            for row in rows:
                schema.validate(row)
        except InvalidRow as exc:
            raise JobFailed(f"a sampled row is invalid: {exc}") from None
        for index, row in zip(indices, rows, strict=True):
            await accept(index, RowRecord(row, run.seed + index))
