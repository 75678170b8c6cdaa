import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Ticket(_message.Message):
    __slots__ = ("ticket_key", "department", "kind", "opportunity_id", "action_key", "status", "opened_at", "first_response_at", "closed_at", "response_target_minutes", "assignee_id", "resolution_note", "rep_id", "region")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONSE_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TARGET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    RESOLUTION_NOTE_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    kind: str
    opportunity_id: str
    action_key: str
    status: str
    opened_at: _timestamp_pb2.Timestamp
    first_response_at: _timestamp_pb2.Timestamp
    closed_at: _timestamp_pb2.Timestamp
    response_target_minutes: int
    assignee_id: str
    resolution_note: str
    rep_id: str
    region: str
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., kind: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., status: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_response_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_target_minutes: _Optional[int] = ..., assignee_id: _Optional[str] = ..., resolution_note: _Optional[str] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class ListTicketsRequest(_message.Message):
    __slots__ = ("department", "status", "opportunity_id", "limit")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    department: str
    status: str
    opportunity_id: str
    limit: int
    def __init__(self, department: _Optional[str] = ..., status: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListTicketsResponse(_message.Message):
    __slots__ = ("tickets",)
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    tickets: _containers.RepeatedCompositeFieldContainer[Ticket]
    def __init__(self, tickets: _Optional[_Iterable[_Union[Ticket, _Mapping]]] = ...) -> None: ...

class GetTicketRequest(_message.Message):
    __slots__ = ("ticket_key",)
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    def __init__(self, ticket_key: _Optional[str] = ...) -> None: ...

class TicketActionRequest(_message.Message):
    __slots__ = ("ticket_key", "note")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    note: str
    def __init__(self, ticket_key: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...
