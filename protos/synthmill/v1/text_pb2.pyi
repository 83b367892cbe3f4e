from synthmill.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class RowFloorRequest(_message.Message):
    __slots__ = ("schema_json", "model", "max_new_tokens")
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    schema_json: str
    model: str
    max_new_tokens: int
    def __init__(self, schema_json: _Optional[str] = ..., model: _Optional[str] = ..., max_new_tokens: _Optional[int] = ...) -> None: ...

class RowFloorResponse(_message.Message):
    __slots__ = ("min_tokens", "max_new_tokens")
    MIN_TOKENS_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    min_tokens: int
    max_new_tokens: int
    def __init__(self, min_tokens: _Optional[int] = ..., max_new_tokens: _Optional[int] = ...) -> None: ...

class GenerateRowsRequest(_message.Message):
    __slots__ = ("schema_json", "start_index", "count", "seed", "instructions", "model", "sampling", "existing_rows_json", "pinned_rows_json", "context_rows_json")
    SCHEMA_JSON_FIELD_NUMBER: _ClassVar[int]
    START_INDEX_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    EXISTING_ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    PINNED_ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    CONTEXT_ROWS_JSON_FIELD_NUMBER: _ClassVar[int]
    schema_json: str
    start_index: int
    count: int
    seed: int
    instructions: str
    model: str
    sampling: _common_pb2.SamplingParams
    existing_rows_json: _containers.RepeatedScalarFieldContainer[str]
    pinned_rows_json: _containers.RepeatedScalarFieldContainer[str]
    context_rows_json: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, schema_json: _Optional[str] = ..., start_index: _Optional[int] = ..., count: _Optional[int] = ..., seed: _Optional[int] = ..., instructions: _Optional[str] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ..., existing_rows_json: _Optional[_Iterable[str]] = ..., pinned_rows_json: _Optional[_Iterable[str]] = ..., context_rows_json: _Optional[_Iterable[str]] = ...) -> None: ...

class GeneratedRow(_message.Message):
    __slots__ = ("index", "row_json", "seed", "attempts")
    INDEX_FIELD_NUMBER: _ClassVar[int]
    ROW_JSON_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    index: int
    row_json: str
    seed: int
    attempts: int
    def __init__(self, index: _Optional[int] = ..., row_json: _Optional[str] = ..., seed: _Optional[int] = ..., attempts: _Optional[int] = ...) -> None: ...

class RowsSummary(_message.Message):
    __slots__ = ("accepted", "rejected_duplicates", "rejected_invalid", "tokens", "seconds")
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    REJECTED_INVALID_FIELD_NUMBER: _ClassVar[int]
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    SECONDS_FIELD_NUMBER: _ClassVar[int]
    accepted: int
    rejected_duplicates: int
    rejected_invalid: int
    tokens: int
    seconds: float
    def __init__(self, accepted: _Optional[int] = ..., rejected_duplicates: _Optional[int] = ..., rejected_invalid: _Optional[int] = ..., tokens: _Optional[int] = ..., seconds: _Optional[float] = ...) -> None: ...

class GenerateRowsResponse(_message.Message):
    __slots__ = ("row", "summary")
    ROW_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    row: GeneratedRow
    summary: RowsSummary
    def __init__(self, row: _Optional[_Union[GeneratedRow, _Mapping]] = ..., summary: _Optional[_Union[RowsSummary, _Mapping]] = ...) -> None: ...

class ExpandPromptsRequest(_message.Message):
    __slots__ = ("topic", "count", "seed", "model", "sampling")
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    SEED_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    SAMPLING_FIELD_NUMBER: _ClassVar[int]
    topic: str
    count: int
    seed: int
    model: str
    sampling: _common_pb2.SamplingParams
    def __init__(self, topic: _Optional[str] = ..., count: _Optional[int] = ..., seed: _Optional[int] = ..., model: _Optional[str] = ..., sampling: _Optional[_Union[_common_pb2.SamplingParams, _Mapping]] = ...) -> None: ...

class ExpandPromptsResponse(_message.Message):
    __slots__ = ("prompts",)
    PROMPTS_FIELD_NUMBER: _ClassVar[int]
    prompts: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, prompts: _Optional[_Iterable[str]] = ...) -> None: ...

class TextServerInfo(_message.Message):
    __slots__ = ("models", "max_rows", "batch_size", "max_new_tokens")
    MODELS_FIELD_NUMBER: _ClassVar[int]
    MAX_ROWS_FIELD_NUMBER: _ClassVar[int]
    BATCH_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_NEW_TOKENS_FIELD_NUMBER: _ClassVar[int]
    models: _containers.RepeatedCompositeFieldContainer[_common_pb2.ModelInfo]
    max_rows: int
    batch_size: int
    max_new_tokens: int
    def __init__(self, models: _Optional[_Iterable[_Union[_common_pb2.ModelInfo, _Mapping]]] = ..., max_rows: _Optional[int] = ..., batch_size: _Optional[int] = ..., max_new_tokens: _Optional[int] = ...) -> None: ...
