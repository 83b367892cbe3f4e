"""What an inference server says about a model it has loaded: the torch-free facts behind GetInfo."""

from __future__ import annotations

from dataclasses import dataclass

from synthmill.v1 import common_pb2


@dataclass(frozen=True)
class ModelCard:
    name: str
    source: str
    family: str
    device: str
    dtype: str
    # Image models: the scheduler names it accepts, and the multiple its width and height must be.
    schedulers: tuple[str, ...] = ()
    size_multiple: int = 0
    max_size: int = 0
    tasks: tuple[str, ...] = ()  # txt2img, img2img, inpaint
    controlnets: tuple[str, ...] = ()  # the ControlNets that fit it

    def to_pb(self, is_default: bool) -> common_pb2.ModelInfo:
        return common_pb2.ModelInfo(
            name=self.name,
            family=self.family,
            source=self.source,
            device=self.device,
            dtype=self.dtype,
            is_default=is_default,
            schedulers=self.schedulers,
            size_multiple=self.size_multiple,
            max_size=self.max_size,
            tasks=self.tasks,
            controlnets=self.controlnets,
        )
