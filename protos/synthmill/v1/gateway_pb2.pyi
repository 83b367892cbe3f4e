import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from synthmill.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_QUEUED: _ClassVar[JobState]
    JOB_STATE_RUNNING: _ClassVar[JobState]
    JOB_STATE_COMPLETED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_CANCELLED: _ClassVar[JobState]
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_QUEUED: JobState
JOB_STATE_RUNNING: JobState
JOB_STATE_COMPLETED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_CANCELLED: JobState

class Axis(_message.Message):
    __slots__ = ("name", "values")
    NAME_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    name: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, name: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class Caption(_message.Message):
    __slots__ = ("id", "caption")
    ID_FIELD_NUMBER: _ClassVar[int]
    CAPTION_FIELD_NUMBER: _ClassVar[int]
    id: str
    caption: str
    def __init__(self, id: _Optional[str] = ..., caption: _Optional[str] = ...) -> None: ...

class TextJobSpec(_message.Message):
    __slots__ = ("schema_json", "count", "instructions", "format", "model", "sampling", "like")
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    LIKE_FIELD_NUMBER: _ClassVar[int]
    schema_json: str
    count: int
    instructions: str
    format: _common_pb2.RowFormat
    model: str
    sampling: _common_pb2.SamplingParams
    like: FitSample
    def __init__(self, schema_json: _Optional[str] = ..., count: _Optional[int] = ..., instructions: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.RowFormat, str]] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ..., like: _Optional[_Union[FitSample, _Mapping]] = ...) -> None: ...

class FitSample(_message.Message):
    __slots__ = ("data", "format", "min_count", "keep_rare", "holdout", "fail_under", "stored_as")
    class FailUnderEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: float
        def __init__(self, key: _Optional[str] = ..., value: _Optional[float] = ...) -> None: ...
    DATA_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MIN_COUNT_FIELD_NUMBER: _ClassVar[int]
    KEEP_RARE_FIELD_NUMBER: _ClassVar[int]
    HOLDOUT_FIELD_NUMBER: _ClassVar[int]
    FAIL_UNDER_FIELD_NUMBER: _ClassVar[int]
    STORED_AS_FIELD_NUMBER: _ClassVar[int]
    data: bytes
    format: str
    min_count: int
    keep_rare: bool
    holdout: float
    fail_under: _containers.ScalarMap[str, float]
    stored_as: str
    def __init__(self, data: _Optional[bytes] = ..., format: _Optional[str] = ..., min_count: _Optional[int] = ..., keep_rare: _Optional[bool] = ..., holdout: _Optional[float] = ..., fail_under: _Optional[_Mapping[str, float]] = ..., stored_as: _Optional[str] = ...) -> None: ...

class TablesJobSpec(_message.Message):
    __slots__ = ("schema_json", "scale", "instructions", "format", "model", "sampling")
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    SCALE_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    schema_json: str
    scale: int
    instructions: str
    format: _common_pb2.RowFormat
    model: str
    sampling: _common_pb2.SamplingParams
    def __init__(self, schema_json: _Optional[str] = ..., scale: _Optional[int] = ..., instructions: _Optional[str] = ..., format: _Optional[_Union[_common_pb2.RowFormat, str]] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ...) -> None: ...

class ImageJobSpec(_message.Message):
    __slots__ = ("prompts", "captions", "expand_topic", "count", "params", "axes", "init_image", "mask", "control_images")
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    CAPTIONS_FIELD_NUMBER: _ClassVar[int]
    EXPAND_TOPIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    AXES_FIELD_NUMBER: _ClassVar[int]
    INIT_IMAGE_FIELD_NUMBER: _ClassVar[int]
    MASK_FIELD_NUMBER: _ClassVar[int]
    CONTROL_IMAGES_FIELD_NUMBER: _ClassVar[int]
    prompts: _containers.RepeatedScalarFieldContainer[str]
    captions: _containers.RepeatedCompositeFieldContainer[Caption]
    expand_topic: str
    count: int
    params: _common_pb2.ImageParams
    axes: _containers.RepeatedCompositeFieldContainer[Axis]
    init_image: InputImage
    mask: InputImage
    control_images: _containers.RepeatedCompositeFieldContainer[InputImage]
    def __init__(self, prompts: _Optional[_Iterable[str]] = ..., captions: _Optional[_Iterable[_Union[Caption, _Mapping]]] = ..., expand_topic: _Optional[str] = ..., count: _Optional[int] = ..., params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., axes: _Optional[_Iterable[_Union[Axis, _Mapping]]] = ..., init_image: _Optional[_Union[InputImage, _Mapping]] = ..., mask: _Optional[_Union[InputImage, _Mapping]] = ..., control_images: _Optional[_Iterable[_Union[InputImage, _Mapping]]] = ...) -> None: ...

class UnifiedJobSpec(_message.Message):
    __slots__ = ("rows", "prompt_template", "prompts", "images_per_row", "params", "axes")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    PROMPT_TEMPLATE_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    IMAGES_PER_ROW_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    AXES_FIELD_NUMBER: _ClassVar[int]
    rows: TextJobSpec
    prompt_template: str
    prompts: _containers.RepeatedScalarFieldContainer[str]
    images_per_row: int
    params: _common_pb2.ImageParams
    axes: _containers.RepeatedCompositeFieldContainer[Axis]
    def __init__(self, rows: _Optional[_Union[TextJobSpec, _Mapping]] = ..., prompt_template: _Optional[str] = ..., prompts: _Optional[_Iterable[str]] = ..., images_per_row: _Optional[int] = ..., params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., axes: _Optional[_Iterable[_Union[Axis, _Mapping]]] = ...) -> None: ...

class InputImage(_message.Message):
    __slots__ = ("file_name", "data")
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    file_name: str
    data: bytes
    def __init__(self, file_name: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class AugmentObject(_message.Message):
    __slots__ = ("label", "x", "y", "width", "height", "segmentation_json")
    LABEL_FIELD_NUMBER: _ClassVar[int]
    X_FIELD_NUMBER: _ClassVar[int]
    Y_FIELD_NUMBER: _ClassVar[int]
    WIDTH_FIELD_NUMBER: _ClassVar[int]
    HEIGHT_FIELD_NUMBER: _ClassVar[int]
    SEGMENTATION_JSON_FIELD_NUMBER: _ClassVar[int]
    label: str
    x: float
    y: float
    width: float
    height: float
    segmentation_json: str
    def __init__(self, label: _Optional[str] = ..., x: _Optional[float] = ..., y: _Optional[float] = ..., width: _Optional[float] = ..., height: _Optional[float] = ..., segmentation_json: _Optional[str] = ...) -> None: ...

class AugmentSource(_message.Message):
    __slots__ = ("image", "objects")
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    OBJECTS_FIELD_NUMBER: _ClassVar[int]
    image: InputImage
    objects: _containers.RepeatedCompositeFieldContainer[AugmentObject]
    def __init__(self, image: _Optional[_Union[InputImage, _Mapping]] = ..., objects: _Optional[_Iterable[_Union[AugmentObject, _Mapping]]] = ...) -> None: ...

class AugmentJobSpec(_message.Message):
    __slots__ = ("sources", "variations", "prompts", "params", "drop_unverified", "verify_iou", "categories")
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    VARIATIONS_FIELD_NUMBER: _ClassVar[int]
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    PARAMS_FIELD_NUMBER: _ClassVar[int]
    DROP_UNVERIFIED_FIELD_NUMBER: _ClassVar[int]
    VERIFY_IOU_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    sources: _containers.RepeatedCompositeFieldContainer[AugmentSource]
    variations: int
    prompts: _containers.RepeatedScalarFieldContainer[str]
    params: _common_pb2.ImageParams
    drop_unverified: bool
    verify_iou: float
    categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, sources: _Optional[_Iterable[_Union[AugmentSource, _Mapping]]] = ..., variations: _Optional[int] = ..., prompts: _Optional[_Iterable[str]] = ..., params: _Optional[_Union[_common_pb2.ImageParams, _Mapping]] = ..., drop_unverified: _Optional[bool] = ..., verify_iou: _Optional[float] = ..., categories: _Optional[_Iterable[str]] = ...) -> None: ...

class AnnotateJobSpec(_message.Message):
    __slots__ = ("images", "annotations", "labels")
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    ANNOTATIONS_FIELD_NUMBER: _ClassVar[int]
    LABELS_FIELD_NUMBER: _ClassVar[int]
    images: _containers.RepeatedCompositeFieldContainer[InputImage]
    annotations: _containers.RepeatedScalarFieldContainer[str]
    labels: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, images: _Optional[_Iterable[_Union[InputImage, _Mapping]]] = ..., annotations: _Optional[_Iterable[str]] = ..., labels: _Optional[_Iterable[str]] = ...) -> None: ...

class JobSpec(_message.Message):
    __slots__ = ("seed", "text", "images", "unified", "annotate", "tables", "augment")
    SEED_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    IMAGES_FIELD_NUMBER: _ClassVar[int]
    UNIFIED_FIELD_NUMBER: _ClassVar[int]
    ANNOTATE_FIELD_NUMBER: _ClassVar[int]
    TABLES_FIELD_NUMBER: _ClassVar[int]
    AUGMENT_FIELD_NUMBER: _ClassVar[int]
    seed: int
    text: TextJobSpec
    images: ImageJobSpec
    unified: UnifiedJobSpec
    annotate: AnnotateJobSpec
    tables: TablesJobSpec
    augment: AugmentJobSpec
    def __init__(self, seed: _Optional[int] = ..., text: _Optional[_Union[TextJobSpec, _Mapping]] = ..., images: _Optional[_Union[ImageJobSpec, _Mapping]] = ..., unified: _Optional[_Union[UnifiedJobSpec, _Mapping]] = ..., annotate: _Optional[_Union[AnnotateJobSpec, _Mapping]] = ..., tables: _Optional[_Union[TablesJobSpec, _Mapping]] = ..., augment: _Optional[_Union[AugmentJobSpec, _Mapping]] = ...) -> None: ...

class JobCounts(_message.Message):
    __slots__ = ("rows_total", "rows_done", "images_total", "images_done")
    ROWS_TOTAL_FIELD_NUMBER: _ClassVar[int]
    ROWS_DONE_FIELD_NUMBER: _ClassVar[int]
    IMAGES_TOTAL_FIELD_NUMBER: _ClassVar[int]
    IMAGES_DONE_FIELD_NUMBER: _ClassVar[int]
    rows_total: int
    rows_done: int
    images_total: int
    images_done: int
    def __init__(self, rows_total: _Optional[int] = ..., rows_done: _Optional[int] = ..., images_total: _Optional[int] = ..., images_done: _Optional[int] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "spec", "state", "error", "counts", "created_at", "started_at", "finished_at", "output_dir", "distinct_row_ratio", "owner", "score", "stats_headline", "quality_headline")
    ID_FIELD_NUMBER: _ClassVar[int]
    SPEC_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    OUTPUT_DIR_FIELD_NUMBER: _ClassVar[int]
    DISTINCT_ROW_RATIO_FIELD_NUMBER: _ClassVar[int]
    OWNER_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    STATS_HEADLINE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_HEADLINE_FIELD_NUMBER: _ClassVar[int]
    id: str
    spec: JobSpec
    state: JobState
    error: str
    counts: JobCounts
    created_at: _timestamp_pb2.Timestamp
    started_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    output_dir: str
    distinct_row_ratio: float
    owner: str
    score: ScoreSummary
    stats_headline: str
    quality_headline: str
    def __init__(self, id: _Optional[str] = ..., spec: _Optional[_Union[JobSpec, _Mapping]] = ..., state: _Optional[_Union[JobState, str]] = ..., error: _Optional[str] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., output_dir: _Optional[str] = ..., distinct_row_ratio: _Optional[float] = ..., owner: _Optional[str] = ..., score: _Optional[_Union[ScoreSummary, _Mapping]] = ..., stats_headline: _Optional[str] = ..., quality_headline: _Optional[str] = ...) -> None: ...

class ScoreSummary(_message.Message):
    __slots__ = ("count", "mean", "min", "p10", "below_min_score")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    MEAN_FIELD_NUMBER: _ClassVar[int]
    MIN_FIELD_NUMBER: _ClassVar[int]
    P10_FIELD_NUMBER: _ClassVar[int]
    BELOW_MIN_SCORE_FIELD_NUMBER: _ClassVar[int]
    count: int
    mean: float
    min: float
    p10: float
    below_min_score: int
    def __init__(self, count: _Optional[int] = ..., mean: _Optional[float] = ..., min: _Optional[float] = ..., p10: _Optional[float] = ..., below_min_score: _Optional[int] = ...) -> None: ...

class SubmitJobRequest(_message.Message):
    __slots__ = ("spec",)
    SPEC_FIELD_NUMBER: _ClassVar[int]
    spec: JobSpec
    def __init__(self, spec: _Optional[_Union[JobSpec, _Mapping]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("state", "limit", "page_size", "page_token", "kind", "created_after", "created_before")
    STATE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CREATED_AFTER_FIELD_NUMBER: _ClassVar[int]
    CREATED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    limit: int
    page_size: int
    page_token: str
    kind: str
    created_after: _timestamp_pb2.Timestamp
    created_before: _timestamp_pb2.Timestamp
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., limit: _Optional[int] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., kind: _Optional[str] = ..., created_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., created_before: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[Job]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[Job, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class DeleteJobRequest(_message.Message):
    __slots__ = ("job_id",)
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    def __init__(self, job_id: _Optional[str] = ...) -> None: ...

class WatchJobRequest(_message.Message):
    __slots__ = ("job_id", "after_seq")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    AFTER_SEQ_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    after_seq: int
    def __init__(self, job_id: _Optional[str] = ..., after_seq: _Optional[int] = ...) -> None: ...

class StateChanged(_message.Message):
    __slots__ = ("state", "error")
    STATE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    state: JobState
    error: str
    def __init__(self, state: _Optional[_Union[JobState, str]] = ..., error: _Optional[str] = ...) -> None: ...

class RowWritten(_message.Message):
    __slots__ = ("index", "table")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    TABLE_FIELD_NUMBER: _ClassVar[int]
    index: int
    table: str
    def __init__(self, index: _Optional[int] = ..., table: _Optional[str] = ...) -> None: ...

class ImageStep(_message.Message):
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

class ImageWritten(_message.Message):
    __slots__ = ("index", "file_name")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    FILE_NAME_FIELD_NUMBER: _ClassVar[int]
    index: int
    file_name: str
    def __init__(self, index: _Optional[int] = ..., file_name: _Optional[str] = ...) -> None: ...

class JobEvent(_message.Message):
    __slots__ = ("job_id", "seq", "time", "counts", "state", "row", "step", "image")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SEQ_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ROW_FIELD_NUMBER: _ClassVar[int]
    STEP_FIELD_NUMBER: _ClassVar[int]
    IMAGE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    seq: int
    time: _timestamp_pb2.Timestamp
    counts: JobCounts
    state: StateChanged
    row: RowWritten
    step: ImageStep
    image: ImageWritten
    def __init__(self, job_id: _Optional[str] = ..., seq: _Optional[int] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., state: _Optional[_Union[StateChanged, _Mapping]] = ..., row: _Optional[_Union[RowWritten, _Mapping]] = ..., step: _Optional[_Union[ImageStep, _Mapping]] = ..., image: _Optional[_Union[ImageWritten, _Mapping]] = ...) -> None: ...

class DownloadJobRequest(_message.Message):
    __slots__ = ("job_id", "paths")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, job_id: _Optional[str] = ..., paths: _Optional[_Iterable[str]] = ...) -> None: ...

class FileChunk(_message.Message):
    __slots__ = ("path", "offset", "data", "last")
    PATH_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    LAST_FIELD_NUMBER: _ClassVar[int]
    path: str
    offset: int
    data: bytes
    last: bool
    def __init__(self, path: _Optional[str] = ..., offset: _Optional[int] = ..., data: _Optional[bytes] = ..., last: _Optional[bool] = ...) -> None: ...

class GetHealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetCallerRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Caller(_message.Message):
    __slots__ = ("name", "admin", "keyed")
    NAME_FIELD_NUMBER: _ClassVar[int]
    ADMIN_FIELD_NUMBER: _ClassVar[int]
    KEYED_FIELD_NUMBER: _ClassVar[int]
    name: str
    admin: bool
    keyed: bool
    def __init__(self, name: _Optional[str] = ..., admin: _Optional[bool] = ..., keyed: _Optional[bool] = ...) -> None: ...

class ServiceHealth(_message.Message):
    __slots__ = ("name", "target", "serving", "models", "error")
    NAME_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    SERVING_FIELD_NUMBER: _ClassVar[int]
    MODELS_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    name: str
    target: str
    serving: bool
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    error: str
    def __init__(self, name: _Optional[str] = ..., target: _Optional[str] = ..., serving: _Optional[bool] = ..., models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ..., error: _Optional[str] = ...) -> None: ...

class HealthReport(_message.Message):
    __slots__ = ("serving", "services", "jobs_running", "jobs_queued")
    SERVING_FIELD_NUMBER: _ClassVar[int]
    SERVICES_FIELD_NUMBER: _ClassVar[int]
    JOBS_RUNNING_FIELD_NUMBER: _ClassVar[int]
    JOBS_QUEUED_FIELD_NUMBER: _ClassVar[int]
    serving: bool
    services: _containers.RepeatedCompositeFieldContainer[ServiceHealth]
    jobs_running: int
    jobs_queued: int
    def __init__(self, serving: _Optional[bool] = ..., services: _Optional[_Iterable[_Union[ServiceHealth, _Mapping]]] = ..., jobs_running: _Optional[int] = ..., jobs_queued: _Optional[int] = ...) -> None: ...

class Style(_message.Message):
    __slots__ = ("name", "prompt", "negative_prompt")
    NAME_FIELD_NUMBER: _ClassVar[int]
    PROMPT_FIELD_NUMBER: _ClassVar[int]
    NEGATIVE_PROMPT_FIELD_NUMBER: _ClassVar[int]
    name: str
    prompt: str
    negative_prompt: str
    def __init__(self, name: _Optional[str] = ..., prompt: _Optional[str] = ..., negative_prompt: _Optional[str] = ...) -> None: ...

class ListStylesRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class ListStylesResponse(_message.Message):
    __slots__ = ("styles",)
    STYLES_FIELD_NUMBER: _ClassVar[int]
    styles: _containers.RepeatedCompositeFieldContainer[Style]
    def __init__(self, styles: _Optional[_Iterable[_Union[Style, _Mapping]]] = ...) -> None: ...
