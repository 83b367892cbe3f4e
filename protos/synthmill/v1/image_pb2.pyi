from synthmill.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ImageItem(_message.Message):
    __slots__ = ("index", "prompt", "seed", "init_image", "mask", "control_images")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    CONTROL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    index: int
    prompt: str
    seed: int
    init_image: bytes
    mask: bytes
    control_images: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, index: _Optional[int] = ..., prompt: _Optional[str] = ..., seed: _Optional[int] = ..., init_image: _Optional[bytes] = ..., mask: _Optional[bytes] = ..., control_images: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GenerateImagesRequest(_message.Message):
    __slots__ = ("params", "items")
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    params: _common_pb2.ImageParams
    items: _containers.RepeatedCompositeFieldContainer[ImageItem]
    def __init__(self, params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., items: _Optional[_Iterable[_Union[ImageItem, _Mapping]]] = ...) -> None: ...

class StepProgress(_message.Message):
    __slots__ = ("index", "step", "total_steps", "phase")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    TOTAL_STEPS_FIELD_NUMBER: _ClassVar[int]
    PHASE_FIELD_NUMBER: _ClassVar[int]
    index: int
    step: int
    total_steps: int
    phase: _common_pb2.Phase
    def __init__(self, index: _Optional[int] = ..., step: _Optional[int] = ..., total_steps: _Optional[int] = ..., phase: _Optional[_Union[_common_pb2.Phase, str]] = ...) -> None: ...

class Box(_message.Message):
    __slots__ = ("label", "category_id", "score", "x", "y", "width", "height", "mask")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_ID_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    label: str
    category_id: int
    score: float
    x: float
    y: float
    width: float
    height: float
    mask: Mask
    def __init__(self, label: _Optional[str] = ..., category_id: _Optional[int] = ..., score: _Optional[float] = ..., x: _Optional[float] = ..., y: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ..., mask: _Optional[_Union[Mask, _Mapping]] = ...) -> None: ...

class Mask(_message.Message):
    __slots__ = ("height", "width", "counts", "area")
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    AREA_FIELD_NUMBER: _ClassVar[int]
    height: int
    width: int
    counts: str
    area: int
    def __init__(self, height: _Optional[int] = ..., width: _Optional[int] = ..., counts: _Optional[str] = ..., area: _Optional[int] = ...) -> None: ...

class Candidate(_message.Message):
    __slots__ = ("number", "seed", "score", "png")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    PNG_FIELD_NUMBER: _ClassVar[int]
    number: int
    seed: int
    score: float
    png: bytes
    def __init__(self, number: _Optional[int] = ..., seed: _Optional[int] = ..., score: _Optional[float] = ..., png: _Optional[bytes] = ...) -> None: ...

class GeneratedImage(_message.Message):
    __slots__ = ("index", "png", "seed", "params", "parameters_text", "seconds", "device", "dtype", "score", "candidates", "candidate", "boxes", "judge_seconds", "init_image_sha256", "control_images", "denoising_steps", "edit_mask", "edit_labels")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    PNG_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_TEXT_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    DEVICE_FIELD_NUMBER: _ClassVar[int]
    DTYPE_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    CANDIDATES_FIELD_NUMBER: _ClassVar[int]
    CANDIDATE_FIELD_NUMBER: _ClassVar[int]
    BOXES_FIELD_NUMBER: _ClassVar[int]
    JUDGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_SHA256_FIELD_NUMBER: _ClassVar[int]
    CONTROL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    DENOISING_STEPS_FIELD_NUMBER: _ClassVar[int]
    EDIT_MASK_FIELD_NUMBER: _ClassVar[int]
    EDIT_LABELS_FIELD_NUMBER: _ClassVar[int]
    index: int
    png: bytes
    seed: int
    params: _common_pb2.ImageParams
    parameters_text: str
    seconds: float
    device: str
    dtype: str
    score: float
    candidates: _containers.RepeatedCompositeFieldContainer[Candidate]
    candidate: int
    boxes: _containers.RepeatedCompositeFieldContainer[Box]
    judge_seconds: float
    init_image_sha256: str
    control_images: _containers.RepeatedScalarFieldContainer[bytes]
    denoising_steps: int
    edit_mask: Mask
    edit_labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, index: _Optional[int] = ..., png: _Optional[bytes] = ..., seed: _Optional[int] = ..., params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., parameters_text: _Optional[str] = ..., seconds: _Optional[float] = ..., device: _Optional[str] = ..., dtype: _Optional[str] = ..., score: _Optional[float] = ..., candidates: _Optional[_Iterable[_Union[Candidate, _Mapping]]] = ..., candidate: _Optional[int] = ..., boxes: _Optional[_Iterable[_Union[Box, _Mapping]]] = ..., judge_seconds: _Optional[float] = ..., init_image_sha256: _Optional[str] = ..., control_images: _Optional[_Iterable[bytes]] = ..., denoising_steps: _Optional[int] = ..., edit_mask: _Optional[_Union[Mask, _Mapping]] = ..., edit_labels: _Optional[_Iterable[str]] = ...) -> None: ...

class AnnotateItem(_message.Message):
    __slots__ = ("index", "image")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    index: int
    image: bytes
    def __init__(self, index: _Optional[int] = ..., image: _Optional[bytes] = ...) -> None: ...

class AnnotateRequest(_message.Message):
    __slots__ = ("annotations", "labels", "items")
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    annotations: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    items: _containers.RepeatedCompositeFieldContainer[AnnotateItem]
    def __init__(self, annotations: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ..., items: _Optional[_Iterable[_Union[AnnotateItem, _Mapping]]] = ...) -> None: ...

class AnnotatedImage(_message.Message):
    __slots__ = ("index", "width", "height", "boxes")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    BOXES_FIELD_NUMBER: _ClassVar[int]
    index: int
    width: int
    height: int
    boxes: _containers.RepeatedCompositeFieldContainer[Box]
    def __init__(self, index: _Optional[int] = ..., width: _Optional[int] = ..., height: _Optional[int] = ..., boxes: _Optional[_Iterable[_Union[Box, _Mapping]]] = ...) -> None: ...

class GenerateImagesResponse(_message.Message):
    __slots__ = ("step", "image")
    STEP_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    step: StepProgress
    image: GeneratedImage
    def __init__(self, step: _Optional[_Union[StepProgress, _Mapping]] = ..., image: _Optional[_Union[GeneratedImage, _Mapping]] = ...) -> None: ...

class ImageServerInfo(_message.Message):
    __slots__ = ("models", "schedulers", "max_size", "max_steps", "max_items", "max_batch", "max_batch_pixels", "scorer", "max_best_of", "max_rounds", "annotation_kinds", "detector", "detector_labels", "open_detector", "segmenter", "max_input_pixels", "controlnets", "control_kinds")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    SCHEDULERS_FIELD_NUMBER: _ClassVar[int]
    MAX_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_STEPS_FIELD_NUMBER: _ClassVar[int]
    MAX_ITEMS_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_FIELD_NUMBER: _ClassVar[int]
    MAX_BATCH_PIXELS_FIELD_NUMBER: _ClassVar[int]
    SCORER_FIELD_NUMBER: _ClassVar[int]
    MAX_BEST_OF_FIELD_NUMBER: _ClassVar[int]
    MAX_ROUNDS_FIELD_NUMBER: _ClassVar[int]
    ANNOTATION_KINDS_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_FIELD_NUMBER: _ClassVar[int]
    DETECTOR_LABELS_FIELD_NUMBER: _ClassVar[int]
    OPEN_DETECTOR_FIELD_NUMBER: _ClassVar[int]
    SEGMENTER_FIELD_NUMBER: _ClassVar[int]
    MAX_INPUT_PIXELS_FIELD_NUMBER: _ClassVar[int]
    CONTROLNETS_FIELD_NUMBER: _ClassVar[int]
    CONTROL_KINDS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    schedulers: _containers.RepeatedScalarFieldContainer[str]
    max_size: int
    max_steps: int
    max_items: int
    max_batch: int
    max_batch_pixels: int
    scorer: str
    max_best_of: int
    max_rounds: int
    annotation_kinds: _containers.RepeatedScalarFieldContainer[str]
    detector: str
    detector_labels: _containers.RepeatedScalarFieldContainer[str]
    open_detector: str
    segmenter: str
    max_input_pixels: int
    controlnets: _containers.RepeatedScalarFieldContainer[str]
    control_kinds: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ..., schedulers: _Optional[_Iterable[str]] = ..., max_size: _Optional[int] = ..., max_steps: _Optional[int] = ..., max_items: _Optional[int] = ..., max_batch: _Optional[int] = ..., max_batch_pixels: _Optional[int] = ..., scorer: _Optional[str] = ..., max_best_of: _Optional[int] = ..., max_rounds: _Optional[int] = ..., annotation_kinds: _Optional[_Iterable[str]] = ..., detector: _Optional[str] = ..., detector_labels: _Optional[_Iterable[str]] = ..., open_detector: _Optional[str] = ..., segmenter: _Optional[str] = ..., max_input_pixels: _Optional[int] = ..., controlnets: _Optional[_Iterable[str]] = ..., control_kinds: _Optional[_Iterable[str]] = ...) -> None: ...
