import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Event(_message.Message):
    __slots__ = ("id", "type", "source", "time", "opportunity_id", "rep_id", "region", "traceparent", "pipeline_started", "action_started", "action_completed", "action_overdue", "escalation_raised", "reminder_raised", "customer_replied", "ticket_requested", "ticket_changed", "pipeline_closed", "action_warning", "action_paused", "action_resumed", "pipeline_template_changed", "action_returned", "ticket_resubmitted", "ticket_escalated")
    ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    TIME_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_STARTED_FIELD_NUMBER: _ClassVar[int]
    ACTION_STARTED_FIELD_NUMBER: _ClassVar[int]
    ACTION_COMPLETED_FIELD_NUMBER: _ClassVar[int]
    ACTION_OVERDUE_FIELD_NUMBER: _ClassVar[int]
    ESCALATION_RAISED_FIELD_NUMBER: _ClassVar[int]
    REMINDER_RAISED_FIELD_NUMBER: _ClassVar[int]
    CUSTOMER_REPLIED_FIELD_NUMBER: _ClassVar[int]
    TICKET_REQUESTED_FIELD_NUMBER: _ClassVar[int]
    TICKET_CHANGED_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_CLOSED_FIELD_NUMBER: _ClassVar[int]
    ACTION_WARNING_FIELD_NUMBER: _ClassVar[int]
    ACTION_PAUSED_FIELD_NUMBER: _ClassVar[int]
    ACTION_RESUMED_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_TEMPLATE_CHANGED_FIELD_NUMBER: _ClassVar[int]
    ACTION_RETURNED_FIELD_NUMBER: _ClassVar[int]
    TICKET_RESUBMITTED_FIELD_NUMBER: _ClassVar[int]
    TICKET_ESCALATED_FIELD_NUMBER: _ClassVar[int]
    id: str
    type: str
    source: str
    time: _timestamp_pb2.Timestamp
    opportunity_id: str
    rep_id: str
    region: str
    traceparent: str
    pipeline_started: PipelineStarted
    action_started: ActionStarted
    action_completed: ActionCompleted
    action_overdue: ActionOverdue
    escalation_raised: EscalationRaised
    reminder_raised: ReminderRaised
    customer_replied: CustomerReplied
    ticket_requested: TicketRequested
    ticket_changed: TicketChanged
    pipeline_closed: PipelineClosed
    action_warning: ActionWarning
    action_paused: ActionPaused
    action_resumed: ActionResumed
    pipeline_template_changed: PipelineTemplateChanged
    action_returned: ActionReturned
    ticket_resubmitted: TicketResubmitted
    ticket_escalated: TicketEscalated
    def __init__(self, id: _Optional[str] = ..., type: _Optional[str] = ..., source: _Optional[str] = ..., time: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., opportunity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., traceparent: _Optional[str] = ..., pipeline_started: _Optional[_Union[PipelineStarted, _Mapping]] = ..., action_started: _Optional[_Union[ActionStarted, _Mapping]] = ..., action_completed: _Optional[_Union[ActionCompleted, _Mapping]] = ..., action_overdue: _Optional[_Union[ActionOverdue, _Mapping]] = ..., escalation_raised: _Optional[_Union[EscalationRaised, _Mapping]] = ..., reminder_raised: _Optional[_Union[ReminderRaised, _Mapping]] = ..., customer_replied: _Optional[_Union[CustomerReplied, _Mapping]] = ..., ticket_requested: _Optional[_Union[TicketRequested, _Mapping]] = ..., ticket_changed: _Optional[_Union[TicketChanged, _Mapping]] = ..., pipeline_closed: _Optional[_Union[PipelineClosed, _Mapping]] = ..., action_warning: _Optional[_Union[ActionWarning, _Mapping]] = ..., action_paused: _Optional[_Union[ActionPaused, _Mapping]] = ..., action_resumed: _Optional[_Union[ActionResumed, _Mapping]] = ..., pipeline_template_changed: _Optional[_Union[PipelineTemplateChanged, _Mapping]] = ..., action_returned: _Optional[_Union[ActionReturned, _Mapping]] = ..., ticket_resubmitted: _Optional[_Union[TicketResubmitted, _Mapping]] = ..., ticket_escalated: _Optional[_Union[TicketEscalated, _Mapping]] = ...) -> None: ...

class PipelineStarted(_message.Message):
    __slots__ = ("workflow_id", "manager_id", "account", "product", "template_id", "template_version", "action_keys")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEYS_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    manager_id: str
    account: str
    product: str
    template_id: str
    template_version: int
    action_keys: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, workflow_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., account: _Optional[str] = ..., product: _Optional[str] = ..., template_id: _Optional[str] = ..., template_version: _Optional[int] = ..., action_keys: _Optional[_Iterable[str]] = ...) -> None: ...

class ActionStarted(_message.Message):
    __slots__ = ("action_key", "position", "due_at")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    position: int
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, action_key: _Optional[str] = ..., position: _Optional[int] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ActionCompleted(_message.Message):
    __slots__ = ("action_key", "started_at", "on_time", "points", "evidence_ids", "answers_given", "answers", "evidence_required", "answers_required")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_IDS_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_GIVEN_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    started_at: _timestamp_pb2.Timestamp
    on_time: bool
    points: int
    evidence_ids: _containers.RepeatedScalarFieldContainer[str]
    answers_given: int
    answers: _containers.RepeatedCompositeFieldContainer[ActionAnswer]
    evidence_required: int
    answers_required: int
    def __init__(self, action_key: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., on_time: _Optional[bool] = ..., points: _Optional[int] = ..., evidence_ids: _Optional[_Iterable[str]] = ..., answers_given: _Optional[int] = ..., answers: _Optional[_Iterable[_Union[ActionAnswer, _Mapping]]] = ..., evidence_required: _Optional[int] = ..., answers_required: _Optional[int] = ...) -> None: ...

class ActionAnswer(_message.Message):
    __slots__ = ("key", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class ActionOverdue(_message.Message):
    __slots__ = ("action_key", "due_at", "points", "occurrence")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    due_at: _timestamp_pb2.Timestamp
    points: int
    occurrence: int
    def __init__(self, action_key: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., points: _Optional[int] = ..., occurrence: _Optional[int] = ...) -> None: ...

class EscalationRaised(_message.Message):
    __slots__ = ("action_key", "level", "to_role", "to_person", "open_since", "occurrence")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TO_ROLE_FIELD_NUMBER: _ClassVar[int]
    TO_PERSON_FIELD_NUMBER: _ClassVar[int]
    OPEN_SINCE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    level: int
    to_role: str
    to_person: str
    open_since: _timestamp_pb2.Timestamp
    occurrence: int
    def __init__(self, action_key: _Optional[str] = ..., level: _Optional[int] = ..., to_role: _Optional[str] = ..., to_person: _Optional[str] = ..., open_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurrence: _Optional[int] = ...) -> None: ...

class ReminderRaised(_message.Message):
    __slots__ = ("kind", "to_people", "silent_since", "action_key", "number", "occurrence")
    KIND_FIELD_NUMBER: _ClassVar[int]
    TO_PEOPLE_FIELD_NUMBER: _ClassVar[int]
    SILENT_SINCE_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    kind: str
    to_people: _containers.RepeatedScalarFieldContainer[str]
    silent_since: _timestamp_pb2.Timestamp
    action_key: str
    number: int
    occurrence: int
    def __init__(self, kind: _Optional[str] = ..., to_people: _Optional[_Iterable[str]] = ..., silent_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., action_key: _Optional[str] = ..., number: _Optional[int] = ..., occurrence: _Optional[int] = ...) -> None: ...

class CustomerReplied(_message.Message):
    __slots__ = ("action_key", "note")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    note: str
    def __init__(self, action_key: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class TicketRequested(_message.Message):
    __slots__ = ("ticket_key", "department", "kind", "action_key", "workflow_id", "response_target_minutes", "occurrence", "previous_ticket_key", "note", "clock_shift_seconds")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TARGET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    CLOCK_SHIFT_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    kind: str
    action_key: str
    workflow_id: str
    response_target_minutes: int
    occurrence: int
    previous_ticket_key: str
    note: str
    clock_shift_seconds: float
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., kind: _Optional[str] = ..., action_key: _Optional[str] = ..., workflow_id: _Optional[str] = ..., response_target_minutes: _Optional[int] = ..., occurrence: _Optional[int] = ..., previous_ticket_key: _Optional[str] = ..., note: _Optional[str] = ..., clock_shift_seconds: _Optional[float] = ...) -> None: ...

class TicketChanged(_message.Message):
    __slots__ = ("ticket_key", "department", "status", "actor_id", "note")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    status: str
    actor_id: str
    note: str
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., status: _Optional[str] = ..., actor_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ActionReturned(_message.Message):
    __slots__ = ("action_key", "ticket_key", "department", "ticket_status", "reason", "to_person", "occurrence", "number")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    TICKET_STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TO_PERSON_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    ticket_key: str
    department: str
    ticket_status: str
    reason: str
    to_person: str
    occurrence: int
    number: int
    def __init__(self, action_key: _Optional[str] = ..., ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., ticket_status: _Optional[str] = ..., reason: _Optional[str] = ..., to_person: _Optional[str] = ..., occurrence: _Optional[int] = ..., number: _Optional[int] = ...) -> None: ...

class TicketResubmitted(_message.Message):
    __slots__ = ("ticket_key", "department", "action_key", "note", "actor_id", "round")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    ROUND_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    action_key: str
    note: str
    actor_id: str
    round: int
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., action_key: _Optional[str] = ..., note: _Optional[str] = ..., actor_id: _Optional[str] = ..., round: _Optional[int] = ...) -> None: ...

class TicketEscalated(_message.Message):
    __slots__ = ("ticket_key", "department", "level", "to_person", "to_role", "assignee_id", "opened_at", "respond_by", "response_target_minutes")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    TO_PERSON_FIELD_NUMBER: _ClassVar[int]
    TO_ROLE_FIELD_NUMBER: _ClassVar[int]
    ASSIGNEE_ID_FIELD_NUMBER: _ClassVar[int]
    OPENED_AT_FIELD_NUMBER: _ClassVar[int]
    RESPOND_BY_FIELD_NUMBER: _ClassVar[int]
    RESPONSE_TARGET_MINUTES_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    level: int
    to_person: str
    to_role: str
    assignee_id: str
    opened_at: _timestamp_pb2.Timestamp
    respond_by: _timestamp_pb2.Timestamp
    response_target_minutes: int
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., level: _Optional[int] = ..., to_person: _Optional[str] = ..., to_role: _Optional[str] = ..., assignee_id: _Optional[str] = ..., opened_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., respond_by: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., response_target_minutes: _Optional[int] = ...) -> None: ...

class PipelineClosed(_message.Message):
    __slots__ = ("outcome", "reason", "last_action_key")
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    LAST_ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    outcome: str
    reason: str
    last_action_key: str
    def __init__(self, outcome: _Optional[str] = ..., reason: _Optional[str] = ..., last_action_key: _Optional[str] = ...) -> None: ...

class ActionWarning(_message.Message):
    __slots__ = ("action_key", "due_at", "occurrence")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    due_at: _timestamp_pb2.Timestamp
    occurrence: int
    def __init__(self, action_key: _Optional[str] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., occurrence: _Optional[int] = ...) -> None: ...

class ActionPaused(_message.Message):
    __slots__ = ("action_key", "reason", "actor_id", "occurrence")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    reason: str
    actor_id: str
    occurrence: int
    def __init__(self, action_key: _Optional[str] = ..., reason: _Optional[str] = ..., actor_id: _Optional[str] = ..., occurrence: _Optional[int] = ...) -> None: ...

class ActionResumed(_message.Message):
    __slots__ = ("action_key", "paused_seconds", "actor_id", "occurrence", "due_at")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    PAUSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    ACTOR_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    paused_seconds: float
    actor_id: str
    occurrence: int
    due_at: _timestamp_pb2.Timestamp
    def __init__(self, action_key: _Optional[str] = ..., paused_seconds: _Optional[float] = ..., actor_id: _Optional[str] = ..., occurrence: _Optional[int] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class PipelineTemplateChanged(_message.Message):
    __slots__ = ("template_id", "from_version", "to_version", "current_action", "added_actions", "removed_actions", "current_position")
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_VERSION_FIELD_NUMBER: _ClassVar[int]
    TO_VERSION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ACTION_FIELD_NUMBER: _ClassVar[int]
    ADDED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    CURRENT_POSITION_FIELD_NUMBER: _ClassVar[int]
    template_id: str
    from_version: int
    to_version: int
    current_action: str
    added_actions: _containers.RepeatedScalarFieldContainer[str]
    removed_actions: _containers.RepeatedScalarFieldContainer[str]
    current_position: int
    def __init__(self, template_id: _Optional[str] = ..., from_version: _Optional[int] = ..., to_version: _Optional[int] = ..., current_action: _Optional[str] = ..., added_actions: _Optional[_Iterable[str]] = ..., removed_actions: _Optional[_Iterable[str]] = ..., current_position: _Optional[int] = ...) -> None: ...
