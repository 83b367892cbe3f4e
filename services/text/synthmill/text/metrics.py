"""The text server's metrics: the shared model-server ones, rows, tokens and row latency."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from synthmill.runtime.metrics import LATENCY_BUCKETS, ModelServerMetrics

SERVER = ModelServerMetrics("text", "rows")
ROWS = Counter("synthmill_text_rows", "Valid rows accepted and sent (rate: rows/s).", ["model"])
TOKENS = Counter(
    "synthmill_text_generated_tokens",
    "Tokens generated, for accepted and rejected samples and prompts alike (rate: tokens/s).",
    ["model"],
)
ROW_SECONDS = Histogram(
    "synthmill_text_row_latency_seconds",
    "Seconds from a request's start, or its previous row, to the next row sent.",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
