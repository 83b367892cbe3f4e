"""The text engine: batched, grammar-constrained generation of rows and image prompts (torch only).

Rows. Which samples form each batch, their seeds, and which rows are accepted or sampled again is
the row policy's (`row_policy`); this module runs the model calls it asks for.

Memory. A `generate` call that runs out of device memory is redone as two halves, down to single rows
(each row keeps its seed, so only float noise from the batch shape changes); a single row that still
does not fit fails the request with OutOfMemory (RESOURCE_EXHAUSTED), and the server serves on.

Cancellation. Every request carries an `Interrupt`; a stopping criterion reads it at each decoding
step, so a caller that leaves stops the work within one step, and the request raises Cancelled.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import torch
import xgrammar as xgr
from transformers import GenerationConfig, LogitsProcessorList, StoppingCriteria, StoppingCriteriaList

from synthmill.common.errors import Cancelled, InvalidArgument, OutOfMemory, ResourceExhausted
from synthmill.common.schema import Schema, parse_schema
from synthmill.common.seeds import sample_seed
from synthmill.runtime import devices, oom
from synthmill.text import grammar, pinning, prompting
from synthmill.text.domain import AcceptedRow, PromptsJob, RowsJob, RowsTotals, Sampling
from synthmill.text.interrupt import Interrupt
from synthmill.text.loader import LoadedModel
from synthmill.text.masking import GrammarMask
from synthmill.text.row_policy import RowPolicy, parse_prompts, prompt_key
from synthmill.text.sampling import RowSampler
from synthmill.text.settings import TextSettings
from synthmill.text.token_floor import TokenFloor

log = logging.getLogger(__name__)

# Told of each finished generate call: (rows in it, tokens generated, decoding steps, seconds).
CallObserver = Callable[[int, int, int, float], None]

PROMPT_BUDGET = 512  # prompt tokens a row's memory is sized for ("auto" batch)
PROMPTS_PER_LIST = 8
PROMPT_TOKENS = 48  # per prompt in a list; the grammar caps prompts at 128 characters


def row_bytes(config: Any, dtype: torch.dtype, tokens: int) -> int:
    """Device bytes one row of a generate call holds at `tokens` tokens of context: its KV cache (keys
    and values of every layer) and two float32 copies of its logits (the model's and the mask's)."""
    text = getattr(config, "text_config", None) or config
    heads = text.num_attention_heads
    kv_heads = getattr(text, "num_key_value_heads", None) or heads
    head_dim = getattr(text, "head_dim", None) or text.hidden_size // heads
    kv = 2 * text.num_hidden_layers * kv_heads * head_dim * tokens * dtype.itemsize
    return kv + 2 * 4 * text.vocab_size


@dataclass(frozen=True)
class _Sample:
    text: str
    tokens: int


@dataclass(frozen=True)
class _Call:
    """One batched `generate`: row b follows grammars[b] and draws with seeds[b]; its answer starts with
    prefixes[b], pre-filled (pinned values; "" for none)."""

    conversations: list[list[dict[str, str]]]
    seeds: list[int]
    grammars: list[xgr.CompiledGrammar]
    sampling: Sampling
    interrupt: Interrupt
    prefixes: list[str]

    def halves(self) -> tuple[_Call, _Call]:
        half = (len(self.conversations) + 1) // 2
        parts = (slice(None, half), slice(half, None))
        return tuple(
            _Call(
                self.conversations[p], self.seeds[p], self.grammars[p], self.sampling, self.interrupt,
                self.prefixes[p],
            )
            for p in parts
        )  # fmt: skip


class TextEngine:
    """One loaded model, its grammar cache, and the generation loops. Not thread-safe: one worker."""

    def __init__(self, loaded: LoadedModel, settings: TextSettings):
        self.loaded = loaded
        self.settings = settings
        self.grammars = grammar.GrammarCache(loaded.tokenizer, loaded.model.config.vocab_size)
        # Rows per generate call: the setting, or what the device's free memory holds ("auto").
        self.batch_size = settings.batch_size or devices.auto_batch(
            loaded.device,
            row_bytes(loaded.model.config, loaded.dtype, PROMPT_BUDGET + settings.max_new_tokens),
        )
        tok = loaded.tokenizer
        self._stop_ids = sorted({tok.eos_token_id, *_as_list(loaded.model.generation_config.eos_token_id)})
        self.observe: CallObserver = lambda *_: None  # the server's metrics, set once it is warm
        self._floor: TokenFloor | None = None
        self._floor_lock = threading.Lock()

    def row_floor(self, schema: Schema) -> int | None:
        """The fewest tokens of a valid row of `schema` (see `token_floor`); thread-safe, off the worker."""
        with self._floor_lock:
            if self._floor is None:
                self._floor = TokenFloor(self.grammars.vocabulary)
        return self._floor.of(schema)

    # ---- rows --------------------------------------------------------------------------------------

    def compile_rows(
        self, schema: Schema, path: str = "schema", pinned: tuple[str, ...] = ()
    ) -> xgr.CompiledGrammar:
        """Checks the schema's patterns (InvalidArgument naming the field) and compiles its grammar."""
        grammar.check_patterns(schema, path)
        decoding = grammar.decoding_schema(schema, self.settings.max_string_length)
        if pinned:  # the pinned fields first (see `pinning`)
            decoding = pinning.pinned_first(decoding, pinned)
        try:
            return self.grammars.compile(decoding)
        except RuntimeError as exc:  # xgrammar rejects some patterns only when compiling the grammar
            for name, prop in decoding["properties"].items():
                if "pattern" in prop:
                    try:
                        self.grammars.compile(
                            {"type": "object", "properties": {name: prop}, "required": [name]}
                        )
                    except RuntimeError:
                        raise InvalidArgument(
                            f"{path}.{name}.pattern",
                            "the decoding grammar cannot enforce this pattern (xgrammar fails on it; "
                            "very large repetition counts such as {1,500} are a known cause)",
                        ) from None
            raise InvalidArgument(path, f"the decoding grammar cannot be built: {exc}") from None

    def generate_rows(self, job: RowsJob, interrupt: Interrupt) -> Iterator[AcceptedRow | RowsTotals]:
        """Yields accepted rows in index order, then the totals; raises ResourceExhausted on failure
        and Cancelled once `interrupt` is set."""
        started = time.monotonic()
        compiled = self.compile_rows(job.schema, pinned=job.pinned_names)
        policy = RowPolicy(job, self.settings.max_attempts)
        try:
            while policy.open:
                batch = policy.next_batch(self.batch_size)
                conversations = [
                    prompting.row_messages(
                        job.schema,
                        job.instructions,
                        s.index,
                        s.seed,
                        job.pinned_row(s.index),
                        job.context_row(s.index),
                    )
                    for s in batch
                ]
                prefixes = [pinning.prefix(job.pinned_row(s.index), len(job.schema.fields)) for s in batch]
                seeds = [s.seed for s in batch]
                call = _Call(conversations, seeds, [compiled] * len(batch), job.sampling, interrupt, prefixes)
                for sample, made in zip(batch, self._generate(call), strict=True):
                    policy.offer(sample, made.text, made.tokens)
                yield from policy.ready()
        except GeneratorExit:  # the caller left between batches: nothing more is generated
            _log_stopped(interrupt)
            raise
        yield from policy.close(time.monotonic() - started)

    # ---- prompts -----------------------------------------------------------------------------------

    def expand_prompts(self, job: PromptsJob, interrupt: Interrupt) -> list[str]:
        """`count` distinct prompts on `topic`, written as JSON lists of up to PROMPTS_PER_LIST."""
        topic, count, seed, sampling = job.topic, job.count, job.seed, job.sampling
        log.info("expanding %r into %d prompts", topic, count)
        prompts: list[str] = []
        seen: set[str] = set()
        for attempt in range(self.settings.max_attempts):
            missing = count - len(prompts)
            if missing <= 0:
                break
            sizes = [min(PROMPTS_PER_LIST, missing - k) for k in range(0, missing, PROMPTS_PER_LIST)]
            for start in range(0, len(sizes), self.batch_size):
                part = sizes[start : start + self.batch_size]
                seeds = [sample_seed(seed, start + j, attempt) for j in range(len(part))]
                convs = [
                    prompting.prompt_messages(topic, n, prompts, s) for n, s in zip(part, seeds, strict=True)
                ]
                grammars = [self.grammars.compile(grammar.prompts_schema(n)) for n in part]
                budget = Sampling(sampling.temperature, sampling.top_p, max(part) * PROMPT_TOKENS + 8)
                for sample in self._generate(
                    _Call(convs, seeds, grammars, budget, interrupt, [""] * len(part))
                ):
                    for prompt in parse_prompts(sample.text):
                        key = prompt_key(prompt)
                        if key and key not in seen and len(prompts) < count:
                            seen.add(key)
                            prompts.append(prompt)
        if len(prompts) < count:
            raise ResourceExhausted(
                f"count: wrote only {len(prompts)} distinct prompts of {count} "
                f"in {self.settings.max_attempts} rounds; try a broader topic"
            )
        return prompts

    # ---- the model call ------------------------------------------------------------------------------

    def _generate(self, call: _Call) -> list[_Sample]:
        """One batched, constrained `generate`; on a device OOM, its two halves in turn. Raises
        Cancelled when the call's interrupt stopped it."""
        try:
            return self._generate_batch(call)
        except OutOfMemory as exc:
            if len(call.conversations) == 1:
                raise
            log.warning("%s; retrying as two halves", exc)
        first, rest = call.halves()
        return self._generate(first) + self._generate(rest)

    def _generate_batch(self, call: _Call) -> list[_Sample]:
        conversations, seeds, grammars = call.conversations, call.seeds, call.grammars
        sampling, interrupt = call.sampling, call.interrupt
        tok, model = self.loaded.tokenizer, self.loaded.model
        prefilled = any(call.prefixes)
        if prefilled:
            conversations = [
                [*c, {"role": "assistant", "content": p}]
                for c, p in zip(conversations, call.prefixes, strict=True)
            ]
        enc = tok.apply_chat_template(
            conversations,
            add_generation_prompt=not prefilled,
            continue_final_message=prefilled,
            padding=True,
            return_dict=True,
            return_tensors="pt",
        )
        input_ids = enc["input_ids"].to(self.loaded.device)
        attention_mask = enc["attention_mask"].to(self.loaded.device)
        on_device = self.settings.mask_on_device
        processors = LogitsProcessorList(
            [
                GrammarMask(grammars, call.prefixes, on_device),  # a fresh one per call: it keeps state
                RowSampler(seeds, sampling.temperature, sampling.top_p, self.loaded.device, on_device),
            ]
        )
        config = GenerationConfig(
            do_sample=False,  # RowSampler has already drawn; argmax picks its token
            max_new_tokens=sampling.max_new_tokens,
            eos_token_id=self._stop_ids,
            pad_token_id=tok.pad_token_id,
        )
        rows = len(conversations)
        self.loaded.faults.load = rows * sampling.max_new_tokens

        def run() -> torch.Tensor:
            with torch.inference_mode():
                return model.generate(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    generation_config=config,
                    logits_processor=processors,
                    stopping_criteria=StoppingCriteriaList([_StopWhen(interrupt)]),
                )

        def describe(reason: str) -> str:
            return (
                f"out of device memory: a generate call of {rows} row(s), {input_ids.shape[1]} prompt "
                f"tokens + max_new_tokens {sampling.max_new_tokens}, on {self.loaded.name} "
                f"({self.loaded.device}, {devices.dtype_name(self.loaded.dtype)}): {reason}"
            )

        started = time.monotonic()
        out = oom.isolated(run, lambda: None, describe)
        if interrupt.gone_after is not None:
            _log_stopped(interrupt)
            raise Cancelled("the caller cancelled or left")
        new = out[:, input_ids.shape[1] :].cpu()
        samples = []
        for row, start in zip(new, call.prefixes, strict=True):
            stops = torch.isin(row, torch.tensor(self._stop_ids)).nonzero()
            length = int(stops[0]) + 1 if len(stops) else len(row)
            text = tok.decode(row[:length], skip_special_tokens=True)
            samples.append(_Sample(start + text, length))
        self.observe(rows, sum(s.tokens for s in samples), new.shape[1], time.monotonic() - started)
        return samples

    def warm_up(self) -> None:
        """One small request, so the first real one does not pay for lazy initialization."""
        schema = parse_schema({"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}})
        job = RowsJob(schema, 0, 1, 0, "", Sampling(0.0, 1.0, 48))
        try:
            for _ in self.generate_rows(job, Interrupt()):
                pass
        except OutOfMemory:
            raise  # the model does not fit the device: the server must not start
        except ResourceExhausted:
            log.warning("warm-up row was not accepted (a random-weight model?); continuing")


def _log_stopped(interrupt: Interrupt) -> None:
    gone = interrupt.steps if interrupt.gone_after is None else interrupt.gone_after
    log.info("generation stopped: caller gone after step %d, stopped after step %d", gone, interrupt.steps)


class _StopWhen(StoppingCriteria):
    """Stops every row of the batch at the first decoding step after the interrupt is set."""

    def __init__(self, interrupt: Interrupt):
        self.interrupt = interrupt

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor, **kwargs) -> torch.BoolTensor:
        stop = self.interrupt.step()
        return torch.full((input_ids.shape[0],), stop, dtype=torch.bool, device=input_ids.device)


def _as_list(value: int | list[int] | None) -> list[int]:
    if value is None:
        return []
    return [value] if isinstance(value, int) else list(value)
