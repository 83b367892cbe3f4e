"""Scheduler (sampler) names, as A1111 users know them, mapped onto diffusers scheduler classes.

A scheduler is made fresh for every batch from the model's own scheduler config, so a request's
choice never leaks into the next one. SD3 is a flow-matching model and has its own set.
"""

from __future__ import annotations

from typing import Any

from diffusers import (
    DDIMScheduler,
    DPMSolverMultistepScheduler,
    EulerAncestralDiscreteScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    FlowMatchHeunDiscreteScheduler,
    HeunDiscreteScheduler,
    PNDMScheduler,
    UniPCMultistepScheduler,
)
from diffusers.schedulers.scheduling_utils import SchedulerMixin

# name -> (class, config overrides)
_DIFFUSION: dict[str, tuple[type[SchedulerMixin], dict[str, Any]]] = {
    "Euler": (EulerDiscreteScheduler, {}),
    "Euler a": (EulerAncestralDiscreteScheduler, {}),
    "DDIM": (DDIMScheduler, {}),
    "DPM++ 2M": (DPMSolverMultistepScheduler, {}),
    "DPM++ 2M Karras": (DPMSolverMultistepScheduler, {"use_karras_sigmas": True}),
    "UniPC": (UniPCMultistepScheduler, {}),
    "PNDM": (PNDMScheduler, {"skip_prk_steps": True}),
    "Heun": (HeunDiscreteScheduler, {}),
}
_FLOW: dict[str, tuple[type[SchedulerMixin], dict[str, Any]]] = {
    "Euler": (FlowMatchEulerDiscreteScheduler, {}),
    "Heun": (FlowMatchHeunDiscreteScheduler, {}),
}


def _table(family: str) -> dict[str, tuple[type[SchedulerMixin], dict[str, Any]]]:
    return _FLOW if family == "sd3" else _DIFFUSION


def names(family: str) -> tuple[str, ...]:
    """Scheduler names usable with a model of `family`."""
    return tuple(_table(family))


def name_of(scheduler: SchedulerMixin, family: str) -> str:
    """The name of a model's own scheduler (its class name when it has none of ours)."""
    config = scheduler.config
    most_specific_first = sorted(_table(family).items(), key=lambda entry: -len(entry[1][1]))
    for name, (cls, overrides) in most_specific_first:
        if type(scheduler) is cls and all(config.get(k) == v for k, v in overrides.items()):
            return name
    return type(scheduler).__name__


def create(name: str, family: str, own: SchedulerMixin) -> SchedulerMixin:
    """A fresh scheduler `name`, built from the config of the model's own scheduler `own`.

    A name outside our table is the model's own scheduler (see `name_of`), made afresh.
    """
    cls, overrides = _table(family).get(name, (type(own), {}))
    return cls.from_config(own.config, **overrides)
