from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RowFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ROW_FORMAT_UNSPECIFIED: _ClassVar[RowFormat]
    ROW_FORMAT_JSONL: _ClassVar[RowFormat]
    ROW_FORMAT_JSON: _ClassVar[RowFormat]
    ROW_FORMAT_CSV: _ClassVar[RowFormat]
    ROW_FORMAT_PARQUET: _ClassVar[RowFormat]

class Phase(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PHASE_DENOISING: _ClassVar[Phase]
    PHASE_SCORING: _ClassVar[Phase]
    PHASE_SELECTING: _ClassVar[Phase]
    PHASE_DETECTING: _ClassVar[Phase]
ROW_FORMAT_UNSPECIFIED: RowFormat
ROW_FORMAT_JSONL: RowFormat
ROW_FORMAT_JSON: RowFormat
ROW_FORMAT_CSV: RowFormat
ROW_FORMAT_PARQUET: RowFormat
PHASE_DENOISING: Phase
PHASE_SCORING: Phase
PHASE_SELECTING: Phase
PHASE_DETECTING: Phase

class ModelInfo(_message.Message):
    __slots__ = ("name", "family", "source", "device", "dtype", "is_default", "schedulers", "size_multiple", "max_size", "tasks", "controlnets")
    NAME_FIELD_NUMBER: _ClassVar[int]
    FAMILY_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    IS_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    SCHEDULERS_FIELD_NUMBER: _ClassVar[int]
    SIZE_MULTIPLE_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    TASKS_FIELD_NUMBER: _ClassVar[int]
    CONTROLNETS_FIELD_NUMBER: _ClassVar[int]
    name: str
    family: str
    source: str
    device: str
    dtype: str
    is_default: bool
    schedulers: _containers.RepeatedScalarFieldContainer[str]
    size_multiple: int
    max_size: int
    tasks: _containers.RepeatedScalarFieldContainer[str]
    controlnets: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., family: _Optional[str] = ..., source: _Optional[str] = ..., device: _Optional[str] = ..., dtype: _Optional[str] = ..., is_default: _Optional[bool] = ..., schedulers: _Optional[_Iterable[str]] = ..., size_multiple: _Optional[int] = ..., max_size: _Optional[int] = ..., tasks: _Optional[_Iterable[str]] = ..., controlnets: _Optional[_Iterable[str]] = ...) -> None: ...

class GetInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ImageParams(_message.Message):
    __slots__ = ("model", "width", "height", "steps", "guidance", "scheduler", "negative_prompt", "best_of", "keep_candidates", "min_score", "annotations", "labels", "styles", "strength", "mask_blur", "inpaint_full_res", "inpaint_full_res_padding", "mask_invert", "controls", "mask_labels")
    MODEL_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    GUIDANCE_FIELD_NUMBER: _ClassVar[int]
    SCHEDULER_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    BEST_OF_FIELD_NUMBER: _ClassVar[int]
    KEEP_CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    STYLES_FIELD_NUMBER: _ClassVar[int]
    STRENGTH_FIELD_NUMBER: _ClassVar[int]
    MASK_BLUR_FIELD_NUMBER: _ClassVar[int]
    INPAINT_FULL_RES_FIELD_NUMBER: _ClassVar[int]
    INPAINT_FULL_RES_PADDING_FIELD_NUMBER: _ClassVar[int]
    MASK_INVERT_FIELD_NUMBER: _ClassVar[int]
    CONTROLS_FIELD_NUMBER: _ClassVar[int]
    MASK_LABELS_FIELD_NUMBER: _ClassVar[int]
    model: str
    width: int
    height: int
    steps: int
    guidance: float
    scheduler: str
    negative_prompt: str
    best_of: int
    keep_candidates: bool
    min_score: float
    annotations: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    styles: _containers.RepeatedScalarFieldContainer[str]
    strength: float
    mask_blur: int
    inpaint_full_res: bool
    inpaint_full_res_padding: int
    mask_invert: bool
    controls: _containers.RepeatedCompositeFieldContainer[ControlUnit]
    mask_labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, model: _Optional[str] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., steps: _Optional[int] = ..., guidance: _Optional[float] = ..., scheduler: _Optional[str] = ..., negative_prompt: _Optional[str] = ..., best_of: _Optional[int] = ..., keep_candidates: _Optional[bool] = ..., min_score: _Optional[float] = ..., annotations: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., styles: _Optional[_Iterable[str]] = ..., strength: _Optional[float] = ..., mask_blur: _Optional[int] = ..., inpaint_full_res: _Optional[bool] = ..., inpaint_full_res_padding: _Optional[int] = ..., mask_invert: _Optional[bool] = ..., controls: _Optional[_Iterable[_Union[ControlUnit, _Mapping]]] = ..., mask_labels: _Optional[_Iterable[str]] = ...) -> None: ...

class ControlUnit(_message.Message):
    __slots__ = ("kind", "model", "scale", "start", "end", "low_threshold", "high_threshold")
    KIND_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    LOW_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    HIGH_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    kind: str
    model: str
    scale: float
    start: float
    end: float
    low_threshold: int
    high_threshold: int
    def __init__(self, kind: _Optional[str] = ..., model: _Optional[str] = ..., scale: _Optional[float] = ..., start: _Optional[float] = ..., end: _Optional[float] = ..., low_threshold: _Optional[int] = ..., high_threshold: _Optional[int] = ...) -> None: ...

class SamplingParams(_message.Message):
    __slots__ = ("temperature", "top_p", "max_new_tokens")
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    TOP_P_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    temperature: float
    top_p: float
    max_new_tokens: int
    def __init__(self, temperature: _Optional[float] = ..., top_p: _Optional[float] = ..., max_new_tokens: _Optional[int] = ...) -> None: ...
