"""The image server's metrics: the shared model-server ones, images made and their latency."""

from __future__ import annotations

from prometheus_client import Counter, Histogram

from synthmill.runtime.metrics import LATENCY_BUCKETS, ModelServerMetrics

SERVER = ModelServerMetrics("image", "images")
IMAGES = Counter("synthmill_image_images", "Images made and sent (rate: images/s).", ["model"])
IMAGE_SECONDS = Histogram(
    "synthmill_image_latency_seconds",
    "Seconds from a request's arrival to one of its images being sent (queueing and batching included).",
    ["model"],
    buckets=LATENCY_BUCKETS,
)
