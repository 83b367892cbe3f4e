"""Each judge's memory cost, for `benchmarks.memory`: a fresh process loads the image server's judges
(`judging.models.load`) with only that judge configured and SYNTHMILL_IMAGE_JUDGES_AT_START on, and
reports its RSS before and after; the cost is the difference. The baseline is the same process with
every judge configured but lazy (the server's default): what the idle server pays for them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

JUDGES = ("scorer", "detector", "open_detector", "segmenter", "captioner")
DEFAULTS = {"open_detector": "tiny-grounding-dino"}  # off by default: its embedded test model instead

_PROBE = """
import json, sys
def rss():
    return int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1]) / 1024
from synthmill.image.judging import models
from synthmill.image.serving.settings import ImageSettings
settings = ImageSettings(**json.loads(sys.argv[1]))
before = rss()
models.load(settings)
print(json.dumps({"before_mib": round(before, 1), "after_mib": round(rss(), 1)}))
"""


def _probe(settings: dict[str, Any]) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(settings)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def costs(device: str) -> dict[str, Any]:
    """{judge: MiB its loading adds} and the lazy baseline (every judge configured, none loaded)."""
    off = {name: "none" for name in JUDGES}
    result: dict[str, Any] = {}
    for judge in JUDGES:
        settings = {**off, "device": device, "judges_at_start": True}
        settings[judge] = DEFAULTS.get(judge, _default(judge))
        probe = _probe(settings)
        result[f"{judge}_mib"] = round(probe["after_mib"] - probe["before_mib"], 1)
    lazy = _probe({"device": device, **{judge: DEFAULTS.get(judge, _default(judge)) for judge in JUDGES}})
    result["all_lazy_mib"] = round(lazy["after_mib"] - lazy["before_mib"], 1)
    return result


def _default(judge: str) -> str:
    from synthmill.image.serving.settings import ImageSettings

    return getattr(ImageSettings(), judge)
