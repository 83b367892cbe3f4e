"""Named sets of models, one for every role, so `synthmill up --preset NAME` starts real models with
one flag (torch-free; `up` and `models pull` use the servers' hub helpers, which the server extras bring).

A preset is the server settings it stands for: the text model, the image models, the scorer, the
closed and the open-vocabulary detectors, the segmenter and the captioner. Flags given beside it
(`--text-model`, `--image-model`) win over it. Hub ids are downloaded into the Hugging Face cache on
first use; with HF_HUB_OFFLINE=1, `up` checks the cache first and stops at once on a missing model,
naming it and the command that fetches it.
"""

from __future__ import annotations

import importlib
import os
import sys
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Preset:
    about: str
    text: str
    image: str
    scorer: str
    detector: str
    open_detector: str
    segmenter: str
    captioner: str

    def env(self) -> dict[str, str]:
        """The server settings it stands for, as the environment variables the servers read."""
        return {f"SYNTHMILL_{name.upper()}": value for name, value in _settings(self).items()}

    def hub_ids(self) -> list[str]:
        """Its models that come from the hub: neither embedded names nor local folders."""
        ids = [value for value in _settings(self).values() if "/" in value and not Path(value).exists()]
        return list(dict.fromkeys(ids))


def _settings(preset: Preset) -> dict[str, str]:
    return {
        "text_model": preset.text,
        "image_models": preset.image,
        "image_scorer": preset.scorer,
        "image_detector": preset.detector,
        "image_open_detector": preset.open_detector,
        "image_segmenter": preset.segmenter,
        "image_captioner": preset.captioner,
    }


PRESETS = {
    "embedded": Preset(
        about="the defaults: SmolLM2-135M and tiny random-weight models, no downloads (tests, demos)",
        text="smollm2-135m",
        image="tiny-sd",
        scorer="tiny-clip",
        detector="yolov3-tiny",
        open_detector="tiny-grounding-dino",
        segmenter="tiny-sam",
        captioner="tiny-blip",
    ),
    "cpu-small": Preset(
        about="real but small models that run on a laptop CPU (SD-Turbo at 1-4 steps)",
        text="HuggingFaceTB/SmolLM2-360M-Instruct",
        image="stabilityai/sd-turbo",
        scorer="openai/clip-vit-base-patch32",
        detector="yolov3-tiny",
        open_detector="google/owlvit-base-patch32",
        segmenter="facebook/sam-vit-base",
        captioner="Salesforce/blip-image-captioning-base",
    ),
    "gpu": Preset(
        about="one GPU of 12 GB or more: SD 1.5, Qwen2.5-1.5B-Instruct, CLIP ViT-B/32, SAM ViT-B, BLIP, OWLv2",
        text="Qwen/Qwen2.5-1.5B-Instruct",
        image="stable-diffusion-v1-5/stable-diffusion-v1-5",
        scorer="openai/clip-vit-base-patch32",
        detector="yolov3-tiny",
        open_detector="google/owlv2-base-patch16-ensemble",
        segmenter="facebook/sam-vit-base",
        captioner="Salesforce/blip-image-captioning-base",
    ),
    "gpu-xl": Preset(
        about="one GPU of 24 GB or more: SDXL, Qwen2.5-7B-Instruct, CLIP ViT-L/14, SAM ViT-L, BLIP-2, Grounding DINO",
        text="Qwen/Qwen2.5-7B-Instruct",
        image="stabilityai/stable-diffusion-xl-base-1.0",
        scorer="openai/clip-vit-large-patch14",
        detector="yolov3-tiny",
        open_detector="IDEA-Research/grounding-dino-tiny",
        segmenter="facebook/sam-vit-large",
        captioner="Salesforce/blip2-opt-2.7b",
    ),
}


class UnknownPreset(ValueError):
    def __init__(self, name: str):
        super().__init__(f"--preset: unknown preset {name!r}; one of {', '.join(PRESETS)}")


def preset(name: str) -> Preset:
    if name not in PRESETS:
        raise UnknownPreset(name)
    return PRESETS[name]


def _hub() -> Any:
    """The servers' hub helpers (`synthmill.runtime.hub`), imported by path: the client depends on no
    server package, and `up` and `models pull` run where the server extras are installed."""
    return importlib.import_module("synthmill.runtime.hub")


def missing_offline(chosen: Preset, name: str) -> str | None:
    """With HF_HUB_OFFLINE=1, the message for the first hub model not in the cache; else None."""
    hub = _hub()
    if not hub.offline():
        return None
    for repo_id in chosen.hub_ids():
        if not hub.cached(repo_id):
            return (
                f"preset {name}: model {repo_id!r} is not in the Hugging Face cache ({hub.cache_dir()}) "
                f"and HF_HUB_OFFLINE=1 forbids downloading it. Fetch the preset's models first, on a host "
                f"that reaches the hub with the same HF_HOME: synthmill models pull --preset {name}"
            )
    return None


def cmd_models(args: Any) -> int:
    """`synthmill models`: the presets and their models; `models pull --preset NAME` fetches them."""
    if args.action == "pull":
        chosen = preset(args.preset)
        for repo_id in chosen.hub_ids():
            print(f"fetching {repo_id}", file=sys.stderr, flush=True)
            _hub().pull(repo_id)
        print(f"preset {args.preset}: {len(chosen.hub_ids())} models in the cache", file=sys.stderr)
        return 0
    if args.json:
        from synthmill.client.commands import emit

        emit({"presets": {name: asdict(p) for name, p in PRESETS.items()}})
        return 0
    for name, chosen in PRESETS.items():
        print(f"{name}: {chosen.about}")
        for role, model in asdict(chosen).items():
            if role != "about":
                print(f"  {role:<14} {model}")
    return 0


def environment_with(chosen: Preset | None) -> dict[str, str]:
    """The preset's settings, under any the user set in the environment already."""
    return {k: v for k, v in (chosen.env() if chosen else {}).items() if k not in os.environ}
