import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class UploadMetadata(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "kind", "filename", "captured_at")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    kind: str
    filename: str
    captured_at: _timestamp_pb2.Timestamp
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., kind: _Optional[str] = ..., filename: _Optional[str] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class UploadRequest(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: UploadMetadata
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[UploadMetadata, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class Evidence(_message.Message):
    __slots__ = ("evidence_id", "opportunity_id", "action_key", "kind", "filename", "sha256", "size_bytes", "content_type", "captured_at", "uploaded_at", "uploaded_by", "flags", "reused_from_opportunity_ids", "capture_time_source", "captured_local", "capture_offset_assumed")
    EVIDENCE_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    FILENAME_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    CONTENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_AT_FIELD_NUMBER: _ClassVar[int]
    UPLOADED_BY_FIELD_NUMBER: _ClassVar[int]
    FLAGS_FIELD_NUMBER: _ClassVar[int]
    REUSED_FROM_OPPORTUNITY_IDS_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_TIME_SOURCE_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_LOCAL_FIELD_NUMBER: _ClassVar[int]
    CAPTURE_OFFSET_ASSUMED_FIELD_NUMBER: _ClassVar[int]
    evidence_id: str
    opportunity_id: str
    action_key: str
    kind: str
    filename: str
    sha256: str
    size_bytes: int
    content_type: str
    captured_at: _timestamp_pb2.Timestamp
    uploaded_at: _timestamp_pb2.Timestamp
    uploaded_by: str
    flags: _containers.RepeatedScalarFieldContainer[str]
    reused_from_opportunity_ids: _containers.RepeatedScalarFieldContainer[str]
    capture_time_source: str
    captured_local: str
    capture_offset_assumed: bool
    def __init__(self, evidence_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., kind: _Optional[str] = ..., filename: _Optional[str] = ..., sha256: _Optional[str] = ..., size_bytes: _Optional[int] = ..., content_type: _Optional[str] = ..., captured_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uploaded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., uploaded_by: _Optional[str] = ..., flags: _Optional[_Iterable[str]] = ..., reused_from_opportunity_ids: _Optional[_Iterable[str]] = ..., capture_time_source: _Optional[str] = ..., captured_local: _Optional[str] = ..., capture_offset_assumed: _Optional[bool] = ...) -> None: ...

class ListEvidenceRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_key")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ...) -> None: ...

class ListEvidenceResponse(_message.Message):
    __slots__ = ("evidence",)
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    evidence: _containers.RepeatedCompositeFieldContainer[Evidence]
    def __init__(self, evidence: _Optional[_Iterable[_Union[Evidence, _Mapping]]] = ...) -> None: ...

class GetEvidenceRequest(_message.Message):
    __slots__ = ("evidence_id",)
    EVIDENCE_ID_FIELD_NUMBER: _ClassVar[int]
    evidence_id: str
    def __init__(self, evidence_id: _Optional[str] = ...) -> None: ...

class DownloadResponse(_message.Message):
    __slots__ = ("metadata", "chunk")
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    metadata: Evidence
    chunk: bytes
    def __init__(self, metadata: _Optional[_Union[Evidence, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...
