"""Batch sizes left at 0 ("auto") come from the device's free memory, with the machine's CUDA state
injected: the exact torch.cuda calls are recorded, no GPU needed."""

from __future__ import annotations

import pytest
import torch
from transformers import LlamaConfig

from synthmill.runtime import devices
from synthmill.text.engine import row_bytes

GIB = 2**30


def test_the_batch_is_what_80_percent_of_the_free_memory_holds_from_1_to_64():
    assert devices.batch_from_memory(10 * GIB, GIB) == 8
    assert devices.batch_from_memory(10 * GIB, 3 * GIB) == 2
    assert devices.batch_from_memory(GIB, 4 * GIB) == 1  # never 0: one item still runs (or OOMs alone)
    assert devices.batch_from_memory(1000 * GIB, GIB) == 64


@pytest.fixture
def fake_cuda(monkeypatch: pytest.MonkeyPatch) -> list[tuple]:
    calls: list[tuple] = []
    monkeypatch.setattr(torch.cuda, "empty_cache", lambda: calls.append(("empty_cache",)))

    def mem_get_info(device):
        calls.append(("mem_get_info", device))
        return 20 * GIB, 24 * GIB

    monkeypatch.setattr(torch.cuda, "mem_get_info", mem_get_info)
    return calls


def test_auto_asks_the_configured_cuda_device_after_freeing_the_cache(fake_cuda):
    assert devices.auto_batch(torch.device("cuda", 1), 2 * GIB) == 8  # 0.8 × 20 GiB / 2 GiB
    assert fake_cuda == [("empty_cache",), ("mem_get_info", torch.device("cuda", 1))]


def test_auto_is_8_on_the_cpu_or_without_a_measure(fake_cuda):
    assert devices.auto_batch(torch.device("cpu"), 2 * GIB) == devices.CPU_BATCH == 8
    assert devices.auto_batch(torch.device("cuda", 0), None) == 8
    assert ("mem_get_info", torch.device("cpu")) not in fake_cuda


def test_a_rows_memory_is_its_kv_cache_and_two_float32_logits():
    # SmolLM2-135M: 30 layers, 9 heads of 64 over 3 KV heads, 49,152 tokens.
    config = LlamaConfig(
        hidden_size=576, num_attention_heads=9, num_key_value_heads=3, num_hidden_layers=30, vocab_size=49152
    )
    kv = 2 * 30 * 3 * 64 * 768 * 2  # keys and values, fp16, 768 tokens
    assert row_bytes(config, torch.float16, 768) == kv + 2 * 4 * 49152
    # A Qwen2.5-7B-like model in bf16 at 768 tokens: ~42 MiB a row, so a 24 GiB card with ~8 GiB free
    # after the weights takes the cap of 64 rows.
    qwen = LlamaConfig(hidden_size=3584, num_attention_heads=28, num_key_value_heads=4, num_hidden_layers=28,
                       vocab_size=152064)  # fmt: skip
    assert devices.batch_from_memory(8 * GIB, row_bytes(qwen, torch.bfloat16, 768)) == 64


def test_a_warm_ups_peak_is_measured_on_the_configured_cuda_device(monkeypatch):
    calls: list[tuple] = []
    allocated = iter([3 * GIB])  # before the run
    for name in ("synchronize", "reset_peak_memory_stats"):
        monkeypatch.setattr(torch.cuda, name, lambda device, name=name: calls.append((name, device)))
    monkeypatch.setattr(
        torch.cuda, "memory_allocated", lambda device: calls.append(("allocated", device)) or next(allocated)
    )
    monkeypatch.setattr(
        torch.cuda, "max_memory_allocated", lambda device: calls.append(("peak", device)) or 5 * GIB
    )
    cuda1 = torch.device("cuda", 1)
    assert devices.peak_bytes(cuda1, lambda: calls.append(("run",))) == 2 * GIB
    assert calls == [
        ("synchronize", cuda1), ("reset_peak_memory_stats", cuda1), ("allocated", cuda1), ("run",),
        ("synchronize", cuda1), ("peak", cuda1),
    ]  # fmt: skip
    calls.clear()
    assert devices.peak_bytes(torch.device("cpu"), lambda: calls.append(("run",))) is None
    assert calls == [("run",)]
