"""The grammar mask, applied on the host: a logits processor that brings each step's logits to the CPU
as float32 and masks them there with xgrammar's CPU kernel.

xgrammar's own `contrib.hf.LogitsProcessor` (0.2.8) masks CUDA logits in place with its Triton kernel
(`apply_token_bitmask_inplace`, backend "auto" picks triton/cuda for a CUDA tensor). That kernel needs a
C compiler at its first launch (the slim server image has none) and has no device guard, so on
`cuda:1` it launches on device 0. `RowSampler` draws on the host anyway, so the copy is paid once here
instead, and `backend="cpu"` never touches the GPU.
"""

from __future__ import annotations

import torch
import xgrammar as xgr
from transformers import LogitsProcessor


class HostGrammarMask(LogitsProcessor):
    """Row b follows grammars[b]. Returns host float32 logits with the forbidden tokens at -inf. Keeps
    state across steps: a fresh one per `generate` call."""

    def __init__(self, grammars: list[xgr.CompiledGrammar]):
        self.matchers = [xgr.GrammarMatcher(g) for g in grammars]
        self.vocab_size = grammars[0].tokenizer_info.vocab_size
        self.bitmask = xgr.allocate_token_bitmask(len(grammars), self.vocab_size)
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
        logits = scores.detach().to("cpu", torch.float32)
        xgr.apply_token_bitmask_inplace(logits, self.bitmask, vocab_size=self.vocab_size, backend="cpu")
        return logits
