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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from PIL import Image

from synthmill.common.cards import ModelCard
from synthmill.common.errors import OutOfMemory
from synthmill.image import png
from synthmill.image.domain import GenerationParams, Item

log = logging.getLogger(__name__)

# Runs one merged batch: (params, items, on_step) → one image per item, or None when `on_step` (called
# with the number of steps done, from any thread) returned False to stop it.
Runner = Callable[
    [GenerationParams, Sequence[Item], Callable[[int], bool]], Awaitable[list[Image.Image] | None]
]


@dataclass(frozen=True)
class StepEvent:
    """Item `index` finished denoising step `step` of `total`."""

    index: int
    step: int
    total: int


@dataclass(frozen=True)
class ImageEvent:
    """Item `index` is done: its PNG and the parameters text written into it."""

    index: int
    seed: int
    png: bytes
    parameters_text: str
    seconds: float  # wall time of the batch that made it
    device: str = ""  # of the model that made it, when the batcher knows its card
    dtype: str = ""


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
    ):
        self.runner = runner
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

            def compatible(head: _Entry = head) -> list[_Entry]:
                return [
                    entry
                    for entry in self._pending
                    if entry.ticket.params == head.ticket.params and entry.item.chunks == head.item.chunks
                ]

            limit = self.batch_limit(head.ticket.params)

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
            due = step == params.steps or reported is None or now - reported >= self.progress_interval
            if due and step > batch.shown:  # a half of a split batch skips the steps already shown
                reported = now
                batch.shown = step
                loop.call_soon_threadsafe(self._publish_step, batch, step)
            return batch.stop_requested_after is None

        self._running = batch
        started = time.perf_counter()
        try:
            items = [entry.item for entry in batch.entries]
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
                params.steps,
            )
            return
        log.info(
            "batch done: items=%d requests=%d model=%s size=%dx%d steps=%d seconds=%.3f",
            len(batch.entries),
            len(batch.tickets()),
            params.model,
            params.width,
            params.height,
            params.steps,
            seconds,
        )
        delivery = asyncio.create_task(self._deliver(batch, images, seconds))
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
            entry.ticket.put(StepEvent(entry.item.index, step, batch.params.steps))

    async def _deliver(self, batch: _Batch, images: list[Image.Image], seconds: float) -> None:
        """Encodes the PNGs off the event loop (and off the worker), then hands them out."""
        live = [
            (entry, image)
            for entry, image in zip(batch.entries, images, strict=True)
            if not entry.ticket.cancelled
        ]
        card = self.cards.get(batch.params.model)
        texts = [png.parameters_text(batch.params, entry.item, card) for entry, _ in live]
        try:
            encoded = await asyncio.to_thread(
                lambda: [png.encode(image, text) for (_, image), text in zip(live, texts, strict=True)]
            )
        except Exception as exc:
            log.exception("PNG encoding failed")
            for ticket in batch.tickets():
                ticket.put(exc)
            return
        for (entry, _), text, data in zip(live, texts, encoded, strict=True):
            device, dtype = (card.device, card.dtype) if card else ("", "")
            event = ImageEvent(entry.item.index, entry.item.seed, data, text, seconds, device, dtype)
            entry.ticket.put(event)
