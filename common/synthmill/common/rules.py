"""What an inference server accepts: counts, models, image parameters and sampling, in one place.

Each server checks every request against its own GetInfo; the gateway checks a job at submit against
the GetInfo of the servers that will make it. Both call these functions with the same info, so the
gateway refuses at submit everything a server would refuse later. Without an info (a unit test, a
client-side check) only the rules that need no server are applied.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from synthmill.common import judging, prompt_syntax
from synthmill.common.cards import ModelCard
from synthmill.common.errors import InvalidArgument
from synthmill.v1 import common_pb2, image_pb2, text_pb2

MAX_TEMPERATURE = 5.0
# The file endings of the images an annotate job takes (the image server decodes PNG and JPEG).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")
# Width and height are multiples of this when the model (and so its own multiple) is not known.
SIZE_MULTIPLE = 8


def check_count(count: int, limit: int, path: str, allow_zero: bool = False) -> None:
    if count == 0 and not allow_zero:
        raise InvalidArgument(path, "must be at least 1")
    if count > limit:
        raise InvalidArgument(path, f"{count} is over the limit of {limit}")


def check_not_empty(text: str, path: str) -> None:
    """A prompt, caption or topic must hold more than blanks."""
    if not text.strip():
        raise InvalidArgument(path, "is empty")


def check_model(name: str, loaded: Sequence[str], path: str) -> None:
    """An empty name picks the server's default; any other must be loaded."""
    if name and name not in loaded:
        raise InvalidArgument(path, f"model {name!r} is not loaded; loaded: {', '.join(loaded)}")


def _finite(value: float, path: str) -> None:
    if not math.isfinite(value):
        raise InvalidArgument(path, f"{value} is not a finite number")


def check_image_params(
    params: common_pb2.ImageParams, path: str, info: image_pb2.ImageServerInfo | None
) -> common_pb2.ModelInfo | None:
    """Checks the model, size, steps, guidance, scheduler, negative prompt and the judging fields
    (`judging`); returns the model that will run them (None without an info)."""
    model = None
    if info is not None:
        models = {m.name: m for m in info.models}
        check_model(params.model, list(models), f"{path}.model")
        model = models.get(params.model) or next((m for m in info.models if m.is_default), None)
    multiple = model.size_multiple if model and model.size_multiple else SIZE_MULTIPLE
    for name in ("width", "height"):
        value = getattr(params, name)
        if value % multiple:
            suffix = f" for {model.name}" if model else ""
            raise InvalidArgument(f"{path}.{name}", f"{value} is not a multiple of {multiple}{suffix}")
        limit = model.max_size if model and model.max_size else info.max_size if info else 0
        if limit and value > limit:
            suffix = f" for {model.name} ({model.family})" if model and model.max_size else ""
            raise InvalidArgument(f"{path}.{name}", f"{value} is over the limit of {limit}{suffix}")
    budget = info.max_batch_pixels if info is not None else 0
    if budget and params.width * params.height > budget:
        raise InvalidArgument(
            f"{path}.width",
            f"{params.width}x{params.height} is over the server's pixel budget of {budget} per batch "
            "(SYNTHMILL_IMAGE_MAX_BATCH_PIXELS)",
        )
    if info is not None and params.steps > info.max_steps:
        raise InvalidArgument(f"{path}.steps", f"{params.steps} is over the limit of {info.max_steps}")
    if params.HasField("guidance"):
        _finite(params.guidance, f"{path}.guidance")
        if params.guidance < 0:
            raise InvalidArgument(f"{path}.guidance", f"{params.guidance} is negative")
    judging.check_params(params, path, judging.Capabilities.from_info(info) if info is not None else None)
    if model and params.scheduler and params.scheduler not in model.schedulers:
        raise InvalidArgument(
            f"{path}.scheduler",
            f"unknown scheduler {params.scheduler!r} for {model.name}; one of {', '.join(model.schedulers)}",
        )
    check_prompt(params.negative_prompt, f"{path}.negative_prompt", model)
    return model


def check_prompt(prompt: str, path: str, model: common_pb2.ModelInfo | ModelCard | None) -> None:
    """The A1111 emphasis syntax parses, and carries no weights for a model family that cannot take
    them (known only with the model)."""
    if model is None:
        prompt_syntax.check(prompt, path)
    else:
        prompt_syntax.check(prompt, path, model.name, model.family)


def check_sampling(
    params: common_pb2.SamplingParams, path: str, info: text_pb2.TextServerInfo | None
) -> None:
    """Temperature in [0, MAX_TEMPERATURE] (0 is greedy), top_p in (0, 1], and max_new_tokens within
    the server's limit; NaN and infinity are refused."""
    if params.HasField("temperature"):
        _finite(params.temperature, f"{path}.temperature")
        if not 0 <= params.temperature <= MAX_TEMPERATURE:
            raise InvalidArgument(
                f"{path}.temperature", f"{params.temperature} is not between 0 and {MAX_TEMPERATURE}"
            )
    if params.HasField("top_p"):
        _finite(params.top_p, f"{path}.top_p")
        if not 0 < params.top_p <= 1:
            raise InvalidArgument(f"{path}.top_p", f"{params.top_p} is not in (0, 1]")
    if info is not None and params.max_new_tokens > info.max_new_tokens:
        raise InvalidArgument(
            f"{path}.max_new_tokens", f"{params.max_new_tokens} is over the limit of {info.max_new_tokens}"
        )


# What an image model can make, and the ControlNet preprocessors (`ControlUnit.kind`).
TASKS = ("txt2img", "img2img", "inpaint")
CONTROL_KINDS = ("canny", "scribble", "lineart", "none")
MAX_MASK_BLUR = 256


def denoising_steps(steps: int, strength: float | None) -> int:
    """The steps that run: ceil(steps x strength) for img2img and inpainting (at least 1), else steps.
    The product is rounded to 6 decimals first, so a strength sent as float32 (0.3 arrives as
    0.30000001) does not gain a step."""
    if strength is None:
        return steps
    return max(1, math.ceil(round(steps * strength, 6)))


def init_output_size(
    width: int, height: int, init_size: tuple[int, int], multiple: int, path: str
) -> tuple[int, int]:
    """The output size of an image made from an init image of `init_size`: a width or height left at 0
    takes the init image's, rounded down to `multiple` (as diffusers' VaeImageProcessor rounds)."""
    out = []
    for name, given, side in (("width", width, init_size[0]), ("height", height, init_size[1])):
        if not given and side < multiple:
            raise InvalidArgument(path, f"its {name} {side} is below {multiple} pixels")
        out.append(given or side - side % multiple)
    return out[0], out[1]


def check_edit_params(
    params: common_pb2.ImageParams, path: str, model: common_pb2.ModelInfo | None, task: str
) -> None:
    """Strength in (0, 1] exactly for img2img and inpainting, the inpainting settings, and each control
    unit (kind, ControlNet, scale, start and end); `task` is what the items ask for (mask_labels turn
    img2img into inpainting), `model` (when known) must make it and hold the ControlNets."""
    if params.mask_labels:
        if task != "img2img":
            raise InvalidArgument(f"{path}.mask_labels", "needs an init image on every item, and no mask")
        task = "inpaint"  # the mask is found on the image server
    if task == "txt2img" and params.HasField("strength"):
        raise InvalidArgument(f"{path}.strength", "applies only with an init image")
    if task != "txt2img":
        if not params.HasField("strength"):
            raise InvalidArgument(f"{path}.strength", "is required with an init image, in (0, 1]")
        _finite(params.strength, f"{path}.strength")
        if not 0 < params.strength <= 1:
            raise InvalidArgument(f"{path}.strength", f"{params.strength:g} is not in (0, 1]")
    if model is not None and model.tasks and task not in model.tasks:
        raise InvalidArgument(
            f"{path}.model", f"{model.name} does not make {task}; it makes {', '.join(model.tasks)}"
        )
    if params.mask_blur > MAX_MASK_BLUR:
        raise InvalidArgument(f"{path}.mask_blur", f"{params.mask_blur} is over the limit of {MAX_MASK_BLUR}")
    for position, unit in enumerate(params.controls):
        where = f"{path}.controls[{position}]"
        if unit.kind not in CONTROL_KINDS:
            raise InvalidArgument(
                f"{where}.kind", f"unknown kind {unit.kind!r}; one of {', '.join(CONTROL_KINDS)}"
            )
        if model is not None and unit.model and unit.model not in model.controlnets:
            fits = ", ".join(model.controlnets) or "none"
            raise InvalidArgument(
                f"{where}.model", f"ControlNet {unit.model!r} is not loaded for {model.name}; loaded: {fits}"
            )
        if model is not None and not unit.model and not model.controlnets:
            raise InvalidArgument(f"{where}.model", f"no ControlNet is loaded for {model.name}")
        for name in ("scale", "start", "end"):
            _finite(getattr(unit, name), f"{where}.{name}")
        if unit.HasField("scale") and not 0 <= unit.scale <= 2:
            raise InvalidArgument(f"{where}.scale", f"{unit.scale:g} is not in [0, 2]")
        end = unit.end if unit.HasField("end") else 1.0
        if not 0 <= unit.start < end <= 1:
            raise InvalidArgument(
                f"{where}.end", f"start {unit.start:g} and end {end:g} are not 0 <= start < end <= 1"
            )
        for name in ("low_threshold", "high_threshold"):
            if getattr(unit, name) > 255:
                raise InvalidArgument(f"{where}.{name}", f"{getattr(unit, name)} is over 255")


def check_mask_labels(
    params: common_pb2.ImageParams, path: str, info: image_pb2.ImageServerInfo | None
) -> None:
    """Edit Anything's labels: none empty, and (with an info) a detector that knows them and a segmenter."""
    for i, label in enumerate(params.mask_labels):
        if not label.strip():
            raise InvalidArgument(f"{path}.mask_labels[{i}]", "is empty")
    if info is None or not params.mask_labels:
        return
    if "mask" not in info.annotation_kinds:
        raise InvalidArgument(
            f"{path}.mask_labels",
            "the image server has no detector and segmenter to find them "
            "(SYNTHMILL_IMAGE_DETECTOR, SYNTHMILL_IMAGE_SEGMENTER)",
        )
    if not info.open_detector:
        unknown = [label for label in params.mask_labels if label not in info.detector_labels]
        if unknown:
            raise InvalidArgument(
                f"{path}.mask_labels",
                f"{', '.join(map(repr, unknown))} not among {info.detector}'s classes; an open-vocabulary "
                "detector (SYNTHMILL_IMAGE_OPEN_DETECTOR) finds any label",
            )
