"""The pipeline a batch runs: the loaded one for txt2img, else one built from it with diffusers'
`from_pipe` (AutoPipelineForImage2Image / ForInpainting / ForText2Image with `controlnet=`), which
hands the same component objects to the new pipeline: the weights are shared, not copied. Each is
built once per (task, ControlNets) and kept on the model.
"""

from __future__ import annotations

from diffusers import (
    AutoPipelineForImage2Image,
    AutoPipelineForInpainting,
    AutoPipelineForText2Image,
    DiffusionPipeline,
)

from synthmill.image.domain import GenerationParams
from synthmill.image.generation.loader import LoadedModel

_AUTO = {
    "txt2img": AutoPipelineForText2Image,
    "img2img": AutoPipelineForImage2Image,
    "inpaint": AutoPipelineForInpainting,
}


def for_params(model: LoadedModel, params: GenerationParams) -> DiffusionPipeline:
    names = tuple(control.model for control in params.controls)
    key = (params.task, names)
    if key == (model.tasks[0], ()):
        return model.pipe
    if key not in model.derived:
        extra = {}
        if names:
            nets = [model.controlnets[name] for name in names]
            extra["controlnet"] = nets[0] if len(nets) == 1 else nets
        pipe = _AUTO[params.task].from_pipe(model.pipe, **extra)
        pipe.set_progress_bar_config(disable=True)
        model.derived[key] = pipe
    return model.derived[key]


def strength_for(run: int, steps: int, family: str) -> float:
    """The strength to hand diffusers so that exactly `run` of `steps` steps run. SD 1.5/2.x and SDXL
    pipelines run int(steps x strength) steps, SD3's run steps - int(steps - steps x strength); half a
    step of margin keeps float error out of both."""
    if run >= steps:
        return 1.0
    return (run - 0.5 if family == "sd3" else run + 0.5) / steps
