"""The grammar mask on the device against xgrammar's CPU kernel, the sampler that sorts only the allowed
tokens against a full sort, and an engine masking on the device making the same rows as one masking on
the host (here the device is the CPU: the same torch code as on a GPU, placed on the scores' device)."""

from __future__ import annotations

import pytest
import torch
import xgrammar as xgr

from synthmill.common.schema import parse_schema
from synthmill.text import loader
from synthmill.text.domain import AcceptedRow, RowsJob, Sampling
from synthmill.text.engine import TextEngine
from synthmill.text.interrupt import Interrupt
from synthmill.text.masking import unpack
from synthmill.text.sampling import RowSampler


@pytest.mark.parametrize("vocab", [32, 1000, 49152])
def test_the_unpacked_bitmask_masks_exactly_as_xgrammars_cpu_kernel(vocab: int) -> None:
    generator = torch.Generator().manual_seed(vocab)
    bitmask = xgr.allocate_token_bitmask(3, vocab)
    bitmask.copy_(torch.randint(-(2**31), 2**31 - 1, bitmask.shape, generator=generator, dtype=torch.int32))
    logits = torch.randn(3, vocab, generator=generator)
    theirs = logits.clone()
    xgr.apply_token_bitmask_inplace(theirs, bitmask, vocab_size=vocab, backend="cpu")
    ours = logits.masked_fill(~unpack(bitmask, vocab), float("-inf"))
    assert torch.equal(ours, theirs)


def _full_sort_draws(logits: torch.Tensor, seeds: list[int], top_p: float, steps: int) -> list[list[int]]:
    """The draw as defined before only the allowed tokens were sorted: a full sort of the vocabulary."""
    from synthmill.text.sampling import generator_for

    generators = [generator_for(seed) for seed in seeds]
    picks = []
    for _ in range(steps):
        probs = torch.softmax(logits, dim=-1)
        sorted_probs, order = probs.sort(dim=-1, descending=True)
        before = sorted_probs.cumsum(dim=-1) - sorted_probs
        sorted_probs = sorted_probs.masked_fill(before >= top_p, 0.0)
        cdf = sorted_probs.cumsum(dim=-1)
        draws = torch.stack([torch.rand((), generator=g, dtype=torch.float64) for g in generators])
        targets = (draws.clamp_min(1e-12) * cdf[:, -1].double()).float().unsqueeze(-1)
        picked = torch.minimum(torch.searchsorted(cdf, targets).squeeze(-1), (sorted_probs > 0).sum(-1) - 1)
        picks.append(order.gather(-1, picked.unsqueeze(-1)).squeeze(-1).tolist())
    return picks


def test_sorting_only_the_allowed_tokens_draws_what_a_full_sort_draws() -> None:
    logits = torch.randn(4, 5000, generator=torch.Generator().manual_seed(1))
    logits[:, 40:] = float("-inf")  # the grammar allows 40 tokens
    logits[2, 10:] = float("-inf")  # and this row only 10
    sampler = RowSampler([5, 6, 7, 8], temperature=1.0, top_p=0.9)
    ours = [sampler(None, logits).argmax(dim=-1).tolist() for _ in range(30)]
    assert ours == _full_sort_draws(logits, [5, 6, 7, 8], 0.9, 30)
    assert len({row[0] for row in ours}) > 5  # it does sample


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> loader.LoadedModel:
    torch.set_num_threads(1)  # the CPU is shared with other test processes
    from synthmill.text.settings import TextSettings

    settings = TextSettings(
        model="tiny-llama", device="cpu", dtype="float32", cache_dir=tmp_path_factory.mktemp("c")
    )
    return loader.load("tiny-llama", settings)


def test_masking_and_sampling_on_the_device_makes_the_same_rows_as_on_the_host(tiny, tmp_path) -> None:
    from synthmill.text.settings import TextSettings

    schema = parse_schema(
        {"name": "string", "age": {"type": "int", "minimum": 18, "maximum": 90}, "tier": ["a", "b", "c"]}
    )
    made = {}
    for on_device in (False, True):
        settings = TextSettings(cache_dir=tmp_path, batch_size=4, max_attempts=20, max_string_length=20,
                                mask_on_device=on_device)  # fmt: skip
        engine = TextEngine(tiny, settings)
        job = RowsJob(schema, 0, 6, 11, "", Sampling(0.9, 0.95, 48))
        made[on_device] = [r for r in engine.generate_rows(job, Interrupt()) if isinstance(r, AcceptedRow)]
    assert len(made[False]) == 6
    assert made[True] == made[False]
