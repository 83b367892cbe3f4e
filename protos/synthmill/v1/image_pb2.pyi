from synthmill.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageItem(_message.Message):
    __slots__ = ("index", "prompt", "seed")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    index: int
    prompt: str
    seed: int
    def __init__(self, index: _Optional[int] = ..., prompt: _Optional[str] = ..., seed: _Optional[int] = ...) -> None: ...

class GenerateImagesRequest(_message.Message):
    __slots__ = ("params", "items")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    params: _common_pb2.ImageParams
    items: _containers.RepeatedCompositeFieldContainer[ImageItem]
    def __init__(self, params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ImageItem, _Mapping]]] = ...) -> None: ...

class StepProgress(_message.Message):
    __slots__ = ("index", "step", "total_steps")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    index: int
    step: int
    total_steps: int
    def __init__(self, index: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ...) -> None: ...

class GeneratedImage(_message.Message):
    __slots__ = ("index", "png", "seed", "params", "parameters_text", "seconds", "device", "dtype")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PNG_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_TEXT_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    index: int
    png: bytes
    seed: int
    params: _common_pb2.ImageParams
    parameters_text: str
    seconds: float
    device: str
    dtype: str
    def __init__(self, index: _Optional[int] = ..., png: _Optional[bytes] = ..., seed: _Optional[int] = ..., params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., parameters_text: _Optional[str] = ..., seconds: _Optional[float] = ..., device: _Optional[str] = ..., dtype: _Optional[str] = ...) -> None: ...

class GenerateImagesResponse(_message.Message):
    __slots__ = ("step", "image")
    STEP_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    step: StepProgress
    image: GeneratedImage
    def __init__(self, step: _Optional[_Union[StepProgress, _Mapping]] = ..., image: _Optional[_Union[GeneratedImage, _Mapping]] = ...) -> None: ...

class ImageServerInfo(_message.Message):
    __slots__ = ("models", "schedulers", "max_size", "max_steps", "max_items", "max_batch", "max_batch_pixels")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULERS_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_PIXELS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    schedulers: _containers.RepeatedScalarFieldContainer[str]
    max_size: int
    max_steps: int
    max_items: int
    max_batch: int
    max_batch_pixels: int
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ..., schedulers: _Optional[_Iterable[str]] = ..., max_size: _Optional[int] = ..., max_steps: _Optional[int] = ..., max_items: _Optional[int] = ..., max_batch: _Optional[int] = ..., max_batch_pixels: _Optional[int] = ...) -> None: ...
