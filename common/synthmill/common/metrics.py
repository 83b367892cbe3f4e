"""Prometheus metrics: the exporter every server (gateway included) runs on its metrics port, and
`Scrape`, a reading of such a page for benchmarks and tests. The metrics both inference servers have
are in `synthmill.runtime.metrics`.
"""

from __future__ import annotations

import logging
import urllib.request
from dataclasses import dataclass

from prometheus_client import start_http_server
from prometheus_client.parser import text_string_to_metric_families

log = logging.getLogger(__name__)


def serve(name: str, host: str, port: int) -> None:
    """Serves /metrics on `host:port` from a thread of its own; port 0 leaves metrics off."""
    if not port:
        return
    try:
        start_http_server(port, addr=host)
    except OSError as exc:
        raise SystemExit(f"error: {name}: cannot serve metrics on {host}:{port}: {exc}") from None
    log.info("%s metrics on http://%s:%d/metrics", name, host, port)


@dataclass(frozen=True)
class Scrape:
    """One reading of a /metrics page, for benchmarks and tests."""

    samples: tuple[tuple[str, dict[str, str], float], ...]

    @classmethod
    def of(cls, address: str, timeout: float = 10.0) -> Scrape:
        """Reads http://`address`/metrics (`address` is host:port)."""
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=timeout) as reply:
            text = reply.read().decode()
        return cls(
            tuple(
                (sample.name, sample.labels, sample.value)
                for family in text_string_to_metric_families(text)
                for sample in family.samples
            )
        )

    def value(self, name: str, **labels: str) -> float:
        """The sum of the samples called `name` whose labels include `labels`; 0 when there are none."""
        return sum(
            value for sample, have, value in self.samples if sample == name and labels.items() <= have.items()
        )
