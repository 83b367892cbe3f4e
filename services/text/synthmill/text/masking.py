"""The grammar mask: a logits processor that sets every token the row's grammar forbids to -inf.

Two places to apply it (`SYNTHMILL_TEXT_MASK_ON_DEVICE`):
- on the host (the default): each step's logits come to the CPU as float32 and xgrammar's CPU kernel
  masks them there;
- on the model's device: only xgrammar's bitmask (batch × vocabulary / 32 int32) goes to the device,
  where torch ops unpack it and mask the logits in place, so the batch × vocabulary float32 logits never
  cross to the host. `RowSampler` then samples on the device too.

xgrammar's own `contrib.hf.LogitsProcessor` (0.2.8) masks CUDA logits with its Triton kernel
(`apply_token_bitmask_inplace`, backend "auto" picks triton/cuda for a CUDA tensor). That kernel needs a
C compiler at its first launch (the slim server image has none) and has no device guard, so on
`cuda:1` it launches on device 0. Neither path here uses it: the host path calls `backend="cpu"`, and
the device path is plain torch, which runs on the tensor's own device.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import xgrammar as xgr
from transformers import LogitsProcessor

BITS = 32  # tokens per bitmask word: bit i of word j allows token 32 j + i


def unpack(bitmask: torch.Tensor, vocab_size: int) -> torch.Tensor:
    """xgrammar's int32 bitmask (rows × words) → a bool tensor rows × vocab_size, True where allowed,
    on the bitmask's device."""
    shifts = torch.arange(BITS, device=bitmask.device, dtype=torch.int32)
    bits = (bitmask.unsqueeze(-1) >> shifts) & 1
    return bits.flatten(start_dim=1)[:, :vocab_size].bool()


class GrammarMask(LogitsProcessor):
    """Row b follows grammars[b], from after prefixes[b] (its pre-filled answer start, see `pinning`).
    Returns float32 logits with the forbidden tokens at -inf: on the host, or where the scores are when
    `on_device`. Keeps state across steps: a fresh one per `generate` call."""

    def __init__(
        self, grammars: list[xgr.CompiledGrammar], prefixes: Sequence[str] = (), on_device: bool = False
    ):
        self.matchers = [xgr.GrammarMatcher(g) for g in grammars]
        for matcher, text in zip(self.matchers, prefixes, strict=False):
            if text and not matcher.accept_string(text):
                raise RuntimeError(f"the decoding grammar rejects the pre-filled answer {text!r}")
        self.vocab_size = grammars[0].tokenizer_info.vocab_size
        self.bitmask = xgr.allocate_token_bitmask(len(grammars), self.vocab_size)
        self.on_device = on_device
        self.started = False

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        if self.started:  # the token drawn at the previous step moves each row's grammar on
            last = input_ids[:, -1].tolist()
            for matcher, token in zip(self.matchers, last, strict=True):
                if not matcher.is_terminated():
                    assert matcher.accept_token(token), "a token outside the grammar was drawn"
        self.started = True
        for row, matcher in enumerate(self.matchers):
            if not matcher.is_terminated():
                matcher.fill_next_token_bitmask(self.bitmask, row)
        if not self.on_device:
            logits = scores.detach().to("cpu", torch.float32)
            xgr.apply_token_bitmask_inplace(logits, self.bitmask, vocab_size=self.vocab_size, backend="cpu")
            return logits
        logits = scores.detach().float()
        allowed = unpack(self.bitmask.to(logits.device), self.vocab_size)
        logits[:, : self.vocab_size].masked_fill_(~allowed, float("-inf"))
        return logits
