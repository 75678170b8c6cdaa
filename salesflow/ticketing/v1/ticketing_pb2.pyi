import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Comment(_message.Message):
    __slots__ = ("author_id", "author_role", "body", "created_at")
    AUTHOR_ID_FIELD_NUMBER: _ClassVar[int]
    AUTHOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    author_id: str
    author_role: str
    body: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, author_id: _Optional[str] = ..., author_role: _Optional[str] = ..., body: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class TicketStep(_message.Message):
    __slots__ = ("status", "actor_id", "actor_role", "note", "occurred_at")
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ROLE_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    status: str
    actor_id: str
    actor_role: str
    note: str
    occurred_at: _timestamp_pb2.Timestamp
    def __init__(self, status: _Optional[str] = ..., actor_id: _Optional[str] = ..., actor_role: _Optional[str] = ..., note: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Ticket(_message.Message):
    __slots__ = ("ticket_key", "department", "kind", "opportunity_id", "action_key", "status", "opened_at", "first_response_at", "closed_at", "response_target_minutes", "assignee_id", "resolution_note", "rep_id", "region", "respond_by", "occurrence", "previous_ticket_key", "first_responder_id", "escalation_level", "escalated_at", "time_zone", "first_response_business_minutes", "resubmissions", "comments", "history")
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
    RESPOND_BY_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONDER_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_LEVEL_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_AT_FIELD_NUMBER: _ClassVar[int]
    TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    FIRST_RESPONSE_BUSINESS_MINUTES_FIELD_NUMBER: _ClassVar[int]
    RESUBMISSIONS_FIELD_NUMBER: _ClassVar[int]
    COMMENTS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
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
    respond_by: _timestamp_pb2.Timestamp
    occurrence: int
    previous_ticket_key: str
    first_responder_id: str
    escalation_level: int
    escalated_at: _timestamp_pb2.Timestamp
    time_zone: str
    first_response_business_minutes: float
    resubmissions: int
    comments: _containers.RepeatedCompositeFieldContainer[Comment]
    history: _containers.RepeatedCompositeFieldContainer[TicketStep]
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., kind: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., status: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., first_response_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_target_minutes: _Optional[int] = ..., assignee_id: _Optional[str] = ..., resolution_note: _Optional[str] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., respond_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurrence: _Optional[int] = ..., previous_ticket_key: _Optional[str] = ..., first_responder_id: _Optional[str] = ..., escalation_level: _Optional[int] = ..., escalated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., time_zone: _Optional[str] = ..., first_response_business_minutes: _Optional[float] = ..., resubmissions: _Optional[int] = ..., comments: _Optional[_Iterable[_Union[Comment, _Mapping]]] = ..., history: _Optional[_Iterable[_Union[TicketStep, _Mapping]]] = ...) -> None: ...

class ListTicketsRequest(_message.Message):
    __slots__ = ("department", "status", "opportunity_id", "limit", "assignee_id", "escalated_only")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_ONLY_FIELD_NUMBER: _ClassVar[int]
    department: str
    status: str
    opportunity_id: str
    limit: int
    assignee_id: str
    escalated_only: bool
    def __init__(self, department: _Optional[str] = ..., status: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., limit: _Optional[int] = ..., assignee_id: _Optional[str] = ..., escalated_only: _Optional[bool] = ...) -> None: ...

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

class CommentTicketRequest(_message.Message):
    __slots__ = ("ticket_key", "body")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    BODY_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    body: str
    def __init__(self, ticket_key: _Optional[str] = ..., body: _Optional[str] = ...) -> None: ...

class AssignTicketRequest(_message.Message):
    __slots__ = ("ticket_key", "assignee_id")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    assignee_id: str
    def __init__(self, ticket_key: _Optional[str] = ..., assignee_id: _Optional[str] = ...) -> None: ...

class DepartmentReportRequest(_message.Message):
    __slots__ = ("department", "period_start", "period_end", "region")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    department: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    region: str
    def __init__(self, department: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ...) -> None: ...

class DepartmentReport(_message.Message):
    __slots__ = ("department", "period_start", "period_end", "tickets_opened", "responded", "median_first_response_business_minutes", "p90_first_response_business_minutes", "median_first_response_wall_minutes", "p90_first_response_wall_minutes", "within_target", "target_decided", "share_within_target", "open_now", "escalated")
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TICKETS_OPENED_FIELD_NUMBER: _ClassVar[int]
    RESPONDED_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIRST_RESPONSE_BUSINESS_MINUTES_FIELD_NUMBER: _ClassVar[int]
    P90_FIRST_RESPONSE_BUSINESS_MINUTES_FIELD_NUMBER: _ClassVar[int]
    MEDIAN_FIRST_RESPONSE_WALL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    P90_FIRST_RESPONSE_WALL_MINUTES_FIELD_NUMBER: _ClassVar[int]
    WITHIN_TARGET_FIELD_NUMBER: _ClassVar[int]
    TARGET_DECIDED_FIELD_NUMBER: _ClassVar[int]
    SHARE_WITHIN_TARGET_FIELD_NUMBER: _ClassVar[int]
    OPEN_NOW_FIELD_NUMBER: _ClassVar[int]
    ESCALATED_FIELD_NUMBER: _ClassVar[int]
    department: str
    period_start: _timestamp_pb2.Timestamp
    period_end: _timestamp_pb2.Timestamp
    tickets_opened: int
    responded: int
    median_first_response_business_minutes: float
    p90_first_response_business_minutes: float
    median_first_response_wall_minutes: float
    p90_first_response_wall_minutes: float
    within_target: int
    target_decided: int
    share_within_target: float
    open_now: int
    escalated: int
    def __init__(self, department: _Optional[str] = ..., period_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., tickets_opened: _Optional[int] = ..., responded: _Optional[int] = ..., median_first_response_business_minutes: _Optional[float] = ..., p90_first_response_business_minutes: _Optional[float] = ..., median_first_response_wall_minutes: _Optional[float] = ..., p90_first_response_wall_minutes: _Optional[float] = ..., within_target: _Optional[int] = ..., target_decided: _Optional[int] = ..., share_within_target: _Optional[float] = ..., open_now: _Optional[int] = ..., escalated: _Optional[int] = ...) -> None: ...
