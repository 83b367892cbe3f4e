"""Dynamic batching, as Triton does it: concurrent compatible requests share one pipeline batch.

Every request's items join one FIFO queue. The oldest item decides the next batch: items whose
`GenerationParams` and prompt length in 77-token chunks equal its own are merged, in arrival order, up
to `max_batch` (and within the pixel budget: batch × width × height ≤ `max_pixels`), and the oldest
item waits at most `delay` from its arrival for such company. Each item keeps its own seed, so
merging does not change its image beyond float noise. One batch runs at a time, on the device
worker. A requester that goes away has its queued items dropped and receives nothing more; a
running batch whose requesters have all gone is stopped within one step.

A batch that runs out of device memory (the runner raises OutOfMemory) is split in two halves that run
in turn, down to single images; only a single image that still does not fit fails, and only its
requester gets the RESOURCE_EXHAUSTED. Steps already reported are not reported again by the halves.

The batcher knows nothing of models or devices: it is given a `Runner`, the coroutine that runs one
merged batch (on the device worker, in the server), and a clock for its progress interval. So its
rules are tested with fakes, without torch.

With `best_of` N each item renders N candidates in the same pipeline batch (so a batch holds
max_batch // N items), which are then judged by the `Judge` it is given (`judging.verdicts`: scored,
selected, labelled); an item whose best score stays below `min_score` goes back to the head of the
queue for its next round.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from synthmill.common.cards import ModelCard
from synthmill.common.errors import OutOfMemory
from synthmill.common.judging import candidate_seed
from synthmill.image.domain import CandidateEvent, GenerationParams, ImageEvent, Item, StepEvent
from synthmill.image.generation import png
from synthmill.image.judging.verdicts import Judge, Rendered, Verdict, unjudged

log = logging.getLogger(__name__)

# Runs one merged batch: (params, items, on_step) → one image per item, or None when `on_step` (called
# with the number of steps done, from any thread) returned False to stop it.
Runner = Callable[
    [GenerationParams, Sequence[Item], Callable[[int], bool]], Awaitable[list[Image.Image] | None]
]


class Ticket:
    """One request's place in the batcher: the stream of its events."""

    def __init__(self, params: GenerationParams, items: Sequence[Item], arrival: float):
        self.params = params
        self.items = tuple(items)
        self.arrival = arrival
        self.cancelled = False
        self._queue: asyncio.Queue[StepEvent | ImageEvent | Exception] = asyncio.Queue()

    def put(self, event: StepEvent | ImageEvent | Exception) -> None:
        if not self.cancelled:
            self._queue.put_nowait(event)

    async def events(self) -> AsyncIterator[StepEvent | ImageEvent]:
        """Step and image events until every item has its image; a failed batch raises its error."""
        remaining = len(self.items)
        while remaining:
            event = await self._queue.get()
            if isinstance(event, Exception):
                raise event
            remaining -= isinstance(event, ImageEvent)
            yield event


@dataclass(frozen=True, eq=False)  # identity: the same item may be queued by two requests
class _Entry:
    ticket: Ticket
    item: Item
    round: int = 0  # render rounds done before this one (min_score)
    earlier: tuple[Rendered, ...] = ()  # scored candidates of those rounds

    def renders(self, best_of: int) -> list[Item]:
        """This round's candidates, numbered on from the earlier rounds'."""
        first = self.round * best_of
        return [
            dataclasses.replace(self.item, seed=candidate_seed(self.item.seed, number))
            for number in range(first, first + best_of)
        ]


@dataclass
class _Batch:
    params: GenerationParams
    entries: list[_Entry]
    steps_done: int = 0  # written by the worker thread
    shown: int = 0  # the last step reported to its requesters (a split batch's halves inherit it)
    stop_requested_after: int | None = None  # steps done when the last requester went away

    def tickets(self) -> list[Ticket]:
        return list({id(entry.ticket): entry.ticket for entry in self.entries}.values())


class Batcher:
    """Forms batches from submitted tickets and runs them, one at a time, with `runner`."""

    def __init__(
        self,
        runner: Runner,
        max_batch: int,
        delay: float,
        progress_interval: float = 0.0,
        clock: Callable[[], float] = time.monotonic,
        max_pixels: int = 0,
        cards: Mapping[str, ModelCard] | None = None,
        judge: Judge = unjudged,
    ):
        self.runner = runner
        self.judge = judge  # scores, selects and labels each finished batch
        self.clock = clock  # times the progress interval
        self.max_batch = max_batch
        self.max_pixels = max_pixels  # batch × width × height cap; 0: none
        self.cards = cards or {}  # model name → card: its device and dtype go into each image
        self.delay = delay  # seconds the oldest queued item waits for company
        # Seconds between step reports of a batch; 0 reports every step. The last step always is.
        self.progress_interval = progress_interval
        self._pending: list[_Entry] = []
        self._changed = asyncio.Event()  # set whenever _pending changes
        self._running: _Batch | None = None
        self._deliveries: set[asyncio.Task[None]] = set()

    def submit(self, params: GenerationParams, items: Sequence[Item]) -> Ticket:
        """Queues the items of one request; read the results from the ticket's events."""
        ticket = Ticket(params, items, asyncio.get_running_loop().time())
        self._pending.extend(_Entry(ticket, item) for item in ticket.items)
        self._changed.set()
        return ticket

    def cancel(self, ticket: Ticket) -> None:
        """The requester is gone: drop its queued items, and stop a batch that has nobody left."""
        if ticket.cancelled:
            return
        ticket.cancelled = True
        self._pending = [entry for entry in self._pending if entry.ticket is not ticket]
        self._changed.set()
        batch = self._running
        if batch and batch.stop_requested_after is None and all(t.cancelled for t in batch.tickets()):
            batch.stop_requested_after = batch.steps_done

    def batch_limit(self, params: GenerationParams) -> int:
        """The most items of `params` one batch holds: max_batch, within the pixel budget, at least 1."""
        if not self.max_pixels:
            return self.max_batch
        return max(1, min(self.max_batch, self.max_pixels // (params.width * params.height)))

    async def run(self) -> None:
        """Forms and runs batches until cancelled."""
        while True:
            await self._run(await self._next_batch())

    async def _wait_until(self, predicate: Callable[[], bool], limit: float | None = None) -> None:
        """Returns once `predicate` holds (checked at every queue change) or `limit` seconds pass."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(limit):
                while not predicate():
                    self._changed.clear()
                    await self._changed.wait()

    async def _next_batch(self) -> _Batch:
        loop = asyncio.get_running_loop()
        while True:
            await self._wait_until(lambda: bool(self._pending))
            head = self._pending[0]
            # Items, of best_of candidates each.
            limit = max(1, self.batch_limit(head.ticket.params) // head.ticket.params.best_of)

            def compatible(head: _Entry = head) -> list[_Entry]:
                return [
                    entry
                    for entry in self._pending
                    if entry.ticket.params == head.ticket.params and entry.item.chunks == head.item.chunks
                ]

            def full_or_gone(head: _Entry = head, limit: int = limit) -> bool:
                return len(compatible()) >= limit or head not in self._pending

            await self._wait_until(full_or_gone, limit=head.ticket.arrival + self.delay - loop.time())
            if head in self._pending:  # else its requester left while it waited: start over
                chosen = compatible()[:limit]
                self._pending = [entry for entry in self._pending if entry not in chosen]
                return _Batch(head.ticket.params, chosen)

    async def _run(self, batch: _Batch) -> None:
        loop = asyncio.get_running_loop()
        params = batch.params

        reported: float | None = None  # when the last step report went out; the first step always does

        def on_step(step: int) -> bool:  # on the worker thread
            nonlocal reported
            batch.steps_done = step
            now = self.clock()
            due = (
                step == params.denoising_steps or reported is None or now - reported >= self.progress_interval
            )
            if due and step > batch.shown:  # a half of a split batch skips the steps already shown
                reported = now
                batch.shown = step
                loop.call_soon_threadsafe(self._publish_step, batch, step)
            return batch.stop_requested_after is None

        self._running = batch
        started = time.perf_counter()
        try:
            renders = [entry.renders(params.best_of) for entry in batch.entries]
            items = [item for item_renders in renders for item in item_renders]
            images = await self.runner(params, items, on_step)
        except OutOfMemory as exc:
            await self._split_or_fail(batch, exc)
            return
        except Exception as exc:
            log.exception("batch failed: %s", params)
            for ticket in batch.tickets():
                ticket.put(exc)
            return
        finally:
            self._running = None
        seconds = time.perf_counter() - started
        if images is None:
            log.info(
                "batch interrupted: requesters gone after step %d, stopped after step %d of %d",
                batch.stop_requested_after,
                batch.steps_done,
                params.denoising_steps,
            )
            return
        log.info(
            "batch done: items=%d requests=%d model=%s size=%dx%d steps=%d seconds=%.3f",
            len(batch.entries),
            len(batch.tickets()),
            params.model,
            params.width,
            params.height,
            params.denoising_steps,
            seconds,
        )
        try:
            verdicts = await self._judge(batch, renders, images)
        except Exception as exc:
            log.exception("judging failed: %s", params)
            for ticket in batch.tickets():
                ticket.put(exc)
            return
        judge_seconds = time.perf_counter() - started - seconds
        again = [(entry, v) for entry, v in zip(batch.entries, verdicts, strict=True) if not v.final]
        if again:  # below min_score: the next round goes first
            self._pending[:0] = [
                _Entry(entry.ticket, entry.item, entry.round + 1, tuple(v.candidates))
                for entry, v in again
                if not entry.ticket.cancelled
            ]
            self._changed.set()
        final = [(entry, v) for entry, v in zip(batch.entries, verdicts, strict=True) if v.final]
        delivery = asyncio.create_task(self._deliver(batch.params, final, seconds, judge_seconds))
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)

    async def _split_or_fail(self, batch: _Batch, exc: OutOfMemory) -> None:
        """Runs the two halves of a batch that ran out of memory in turn; a single image fails."""
        size = len(batch.entries)
        if size == 1:
            log.warning("batch failed: %s", exc)
            batch.entries[0].ticket.put(exc)
            return
        half = (size + 1) // 2
        log.warning("batch of %d ran out of device memory; retrying as %d + %d", size, half, size - half)
        for part in (batch.entries[:half], batch.entries[half:]):
            live = [entry for entry in part if not entry.ticket.cancelled]
            if live:
                await self._run(_Batch(batch.params, live, shown=batch.shown))

    def _publish_step(self, batch: _Batch, step: int) -> None:
        for entry in batch.entries:
            entry.ticket.put(StepEvent(entry.item.index, step, batch.params.denoising_steps))

    async def _judge(
        self, batch: _Batch, renders: list[list[Item]], images: list[Image.Image]
    ) -> list[Verdict]:
        """Scores, selects and labels the batch's candidates (see `judging.verdicts`)."""
        fresh: list[list[Rendered]] = []
        flat = iter(images)
        for entry, item_renders in zip(batch.entries, renders, strict=True):
            numbers = range(entry.round * batch.params.best_of, (entry.round + 1) * batch.params.best_of)
            fresh.append(
                [Rendered(n, r.seed, next(flat)) for n, r in zip(numbers, item_renders, strict=True)]
            )

        def on_phase(phase: str, positions) -> None:
            for p in positions:
                entry = batch.entries[p]
                entry.ticket.put(StepEvent(entry.item.index, 1, 1, phase))

        return await self.judge(
            batch.params,
            [entry.item.prompt for entry in batch.entries],
            [entry.round for entry in batch.entries],
            [entry.earlier for entry in batch.entries],
            fresh,
            on_phase,
        )

    async def _deliver(
        self,
        params: GenerationParams,
        final: list[tuple[_Entry, Verdict]],
        seconds: float,
        judge_seconds: float,
    ) -> None:
        """Encodes the PNGs off the event loop (and off the worker), then hands them out."""
        live = [(entry, verdict) for entry, verdict in final if not entry.ticket.cancelled]
        try:
            card = self.cards.get(params.model)
            events = await asyncio.to_thread(
                lambda: [
                    self._image_event(params, card, entry, v, seconds, judge_seconds) for entry, v in live
                ]
            )
        except Exception as exc:
            log.exception("PNG encoding failed")
            for ticket in {id(entry.ticket): entry.ticket for entry, _ in final}.values():
                ticket.put(exc)
            return
        for (entry, _), event in zip(live, events, strict=True):
            entry.ticket.put(event)

    @staticmethod
    def _image_event(
        params: GenerationParams,
        card: ModelCard | None,
        entry: _Entry,
        verdict: Verdict,
        seconds: float,
        judge_seconds: float,
    ) -> ImageEvent:
        def encoded(rendered: Rendered) -> tuple[bytes, str]:
            item = dataclasses.replace(entry.item, seed=rendered.seed)
            text = png.parameters_text(params, item, card, rendered.score, rendered.number)
            return png.encode(rendered.image, text), text

        kept = verdict.kept
        data, text = encoded(kept)
        candidates = tuple(
            CandidateEvent(
                c.number,
                c.seed,
                c.score,
                encoded(c)[0] if params.keep_candidates and c is not kept else b"",
            )
            for c in verdict.candidates
        )
        return ImageEvent(
            entry.item.index,
            kept.seed,
            data,
            text,
            seconds,
            card.device if card else "",
            card.dtype if card else "",
            score=kept.score,
            candidate=kept.number,
            candidates=candidates if len(candidates) > 1 else (),
            boxes=tuple(verdict.boxes),
            judge_seconds=judge_seconds,
            denoising_steps=params.denoising_steps,
            init_sha256=entry.item.init_sha256,
            control_pngs=tuple(png.encode(image) for image in entry.item.controls),
            edit_mask=entry.item.edit_mask,
            edit_labels=entry.item.edit_labels,
        )
