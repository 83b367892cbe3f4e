"""The text server's row policy (torch-free): which samples form the next batch, which are accepted,
and which rows are sampled again. The engine only runs the model calls it asks for.

Determinism. Sample `attempt` of row `i` uses the sample seed `sample_seed(seed, i, attempt)`
(`synthmill.common.seeds`) for both
its prompt hints and its token draws (`RowSampler`), so its tokens do not depend on which rows share
its batch, up to float noise in the logits from the batch shape. Batches are formed deterministically
(lowest pending index first, fixed batch size), so a request repeated with the same arguments gives
the same rows.

Acceptance. Every sample is parsed and `Schema.validate`d; duplicates (whole row, or a `unique`
field value, also against the caller's existing rows) are rejected. Within one batch samples are
offered in index order, so among duplicates the lower index wins. A rejected row is sampled again
with its next attempt, up to `max_attempts`; then the request stops, its accepted rows are still
returned, and it fails with RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import heapq
import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass

from synthmill.common.errors import ResourceExhausted
from synthmill.common.schema import InvalidRow, Schema
from synthmill.common.seeds import sample_seed
from synthmill.common.uniqueness import RowDeduper
from synthmill.text.domain import AcceptedRow, RowsJob, RowsTotals

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Sample:
    """Sample `attempt` (0-based) of row `index`, drawn with `seed`."""

    index: int
    attempt: int
    seed: int


class RowPolicy:
    """The rows of one request: pending samples, the accepted rows not yet handed out, the counts."""

    def __init__(self, job: RowsJob, max_attempts: int):
        self.job = job
        self.max_attempts = max_attempts
        self.deduper = RowDeduper(job.schema)
        for row in job.existing_rows:
            self.deduper.add(row)
        self._pending = [(job.start_index + k, 0) for k in range(job.count)]  # (index, attempt), a heap
        self._accepted: dict[int, AcceptedRow] = {}
        self._failed: dict[int, str] = {}
        self._next_out = job.start_index
        self.made = self.duplicates = self.invalid = self.tokens = 0

    @property
    def open(self) -> bool:
        """Samples are left to draw and no row has run out of attempts."""
        return bool(self._pending) and not self._failed

    def next_batch(self, size: int) -> list[Sample]:
        """The `size` lowest pending samples, so rows stream early and the batching is fixed."""
        batch = [heapq.heappop(self._pending) for _ in range(min(size, len(self._pending)))]
        return [Sample(i, a, sample_seed(self.job.seed, i, a)) for i, a in batch]

    def offer(self, sample: Sample, text: str, tokens: int) -> None:
        """Accepts the sample's text as its row, or sends the row round again (or fails it)."""
        self.tokens += tokens
        row, reason = _check_row(self.job.schema, text, self.deduper)
        if row is not None:
            self.deduper.add(row)
            row_json = json.dumps(row, ensure_ascii=False)
            self._accepted[sample.index] = AcceptedRow(
                sample.index, row_json, sample.seed, sample.attempt + 1
            )
            return
        if reason.startswith("duplicate"):
            self.duplicates += 1
        else:
            self.invalid += 1
        log.debug("row %d attempt %d rejected: %s", sample.index, sample.attempt + 1, reason)
        if sample.attempt + 1 < self.max_attempts:
            heapq.heappush(self._pending, (sample.index, sample.attempt + 1))
        else:
            self._failed[sample.index] = reason

    def ready(self) -> Iterator[AcceptedRow]:
        """The accepted rows that continue the index order handed out so far."""
        while self._next_out in self._accepted:
            yield self._accepted.pop(self._next_out)
            self._next_out += 1
            self.made += 1

    def close(self, seconds: float) -> Iterator[AcceptedRow | RowsTotals]:
        """After the last batch: the totals; or, when a row failed, the rows made past it (in index
        order), then ResourceExhausted naming the first failed row."""
        if not self._failed:
            yield RowsTotals(self.job.count, self.duplicates, self.invalid, self.tokens, seconds)
            return
        for index in sorted(self._accepted):
            yield self._accepted[index]
            self.made += 1
        first = min(self._failed)
        reason = self._failed[first]
        raise ResourceExhausted(
            f"row {first}: no acceptable sample in {self.max_attempts} attempts "
            f"(last: {reason}); {self.made} of {self.job.count} rows were made. "
            + (
                "The unique fields or the schema leave too few distinct rows."
                if reason.startswith("duplicate")
                else "Raise sampling.max_new_tokens or simplify the schema."
            )
        )


def _check_row(schema: Schema, text: str, deduper: RowDeduper) -> tuple[dict | None, str]:
    try:
        row = json.loads(text)
    except json.JSONDecodeError as exc:
        return None, f"invalid: not complete JSON ({exc.msg}; output may have hit max_new_tokens)"
    try:
        schema.validate(row)
    except InvalidRow as exc:
        return None, f"invalid: {exc}"
    row = {name: row[name] for name in schema.names}  # pinned fields were decoded first
    conflict = deduper.conflict(row)
    if conflict:
        return None, f"duplicate: {conflict}"
    return row, ""


def parse_prompts(text: str) -> list[str]:
    """The prompts of one sampled JSON list, each with its spacing normalized; none if it is not one."""
    try:
        items = json.loads(text)
    except json.JSONDecodeError:
        return []
    if not isinstance(items, list):
        return []
    return [" ".join(item.split()) for item in items if isinstance(item, str)]


def prompt_key(prompt: str) -> str:
    """Prompts equal up to case, spacing and punctuation count as the same prompt."""
    return re.sub(r"[^\w]+", " ", prompt.lower()).strip()
