"""Per-row sampling inside a batched `generate`, so each row's draws come from its own generator.

`generate`'s own sampling draws from one global RNG for the whole batch, so a row's tokens would
depend on its batch neighbours. `RowSampler` is the last logits processor instead: it applies
temperature and top-p, draws one token per row from that row's `torch.Generator` (seeded with the
row's sample seed), and returns scores that are -inf everywhere except that token. `generate` then
runs greedy (argmax), which picks exactly the drawn token.

The draws are uniforms from the row's generator, always on the CPU, so a row's draws are the same
whichever device samples: with `on_device` the temperature, top-p and the search run on the scores'
device (after `GrammarMask(on_device=True)`), and only the batch's uniforms cross to it. Only the
allowed tokens are sorted: after the grammar mask most of the vocabulary has probability 0, and
`topk` over the largest allowed count gives the same descending prefix as a full sort.

What still depends on the batch: the logits themselves carry float noise from the batch shape and
left padding, which can flip a draw that lands within ~1e-6 of a token boundary. Rows are therefore
batched deterministically (see engine), so the same request gives the same rows bit for bit.
"""

from __future__ import annotations

import hashlib

import torch
from transformers import LogitsProcessor


def generator_for(seed: int) -> torch.Generator:
    """A CPU generator for a 64-bit sample seed. The CPU generator keeps only 32 bits of its seed, and
    sample seeds of one row differ in their high bits (attempts), so the seed is hashed first."""
    digest = hashlib.blake2b((seed % 2**64).to_bytes(8, "little"), digest_size=8).digest()
    gen = torch.Generator(device="cpu")
    gen.manual_seed(int.from_bytes(digest, "little"))
    return gen


class RowSampler(LogitsProcessor):
    def __init__(
        self,
        seeds: list[int],
        temperature: float,
        top_p: float,
        device: str | torch.device = "cpu",
        on_device: bool = False,
    ):
        self.device = device  # the model's: generate's argmax and the next step's inputs live there
        self.on_device = on_device  # sample where the scores are, not on the host
        self.temperature = temperature
        self.top_p = top_p
        self.generators = [generator_for(seed) for seed in seeds]

    def __call__(self, input_ids: torch.LongTensor, scores: torch.FloatTensor) -> torch.FloatTensor:
        # a no-op after GrammarMask, which returns float32 logits where this samples
        logits = scores.detach().float() if self.on_device else scores.detach().to("cpu", torch.float32)
        if self.temperature <= 0:
            chosen = logits.argmax(dim=-1)
        else:
            chosen = self._draw(logits / self.temperature)
        out = torch.full(scores.shape, float("-inf"), device=self.device)
        out[torch.arange(scores.shape[0]), chosen.to(self.device)] = 0.0
        return out

    def _draw(self, logits: torch.Tensor) -> torch.Tensor:
        probs = torch.softmax(logits, dim=-1)
        allowed = int((probs > 0).sum(dim=-1).max())
        if allowed < probs.shape[-1] // 2:  # the grammar left few tokens: sort only those
            sorted_probs, order = probs.topk(allowed, dim=-1)
        else:
            sorted_probs, order = probs.sort(dim=-1, descending=True)
        if self.top_p < 1.0:
            # keep the smallest prefix whose mass reaches top_p (the top token always stays)
            before = sorted_probs.cumsum(dim=-1) - sorted_probs
            sorted_probs = sorted_probs.masked_fill(before >= self.top_p, 0.0)
        cdf = sorted_probs.cumsum(dim=-1)
        draws = torch.stack([torch.rand((), generator=g, dtype=torch.float64) for g in self.generators])
        draws = draws.to(logits.device)
        targets = (draws.clamp_min(1e-12) * cdf[:, -1].double()).float().unsqueeze(-1)
        picked = torch.searchsorted(cdf, targets).squeeze(-1)
        # rounding may put a target past the last kept token: never pick a token of probability 0
        last_kept = (sorted_probs > 0).sum(dim=-1) - 1
        picked = torch.minimum(picked, last_kept)
        return order.gather(-1, picked.unsqueeze(-1)).squeeze(-1)
