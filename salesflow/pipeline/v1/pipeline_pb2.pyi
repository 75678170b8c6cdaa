import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StartPipelineRequest(_message.Message):
    __slots__ = ("opportunity_id", "rep_id", "account", "product", "template_id")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    PRODUCT_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    rep_id: str
    account: str
    product: str
    template_id: str
    def __init__(self, opportunity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., account: _Optional[str] = ..., product: _Optional[str] = ..., template_id: _Optional[str] = ...) -> None: ...

class StartPipelineResponse(_message.Message):
    __slots__ = ("workflow_id", "already_running", "state")
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    ALREADY_RUNNING_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    workflow_id: str
    already_running: bool
    state: PipelineState
    def __init__(self, workflow_id: _Optional[str] = ..., already_running: _Optional[bool] = ..., state: _Optional[_Union[PipelineState, _Mapping]] = ...) -> None: ...

class Answer(_message.Message):
    __slots__ = ("key", "values")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    key: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, key: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class CompleteActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "evidence_ids", "answers", "note")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_IDS_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    evidence_ids: _containers.RepeatedScalarFieldContainer[str]
    answers: _containers.RepeatedCompositeFieldContainer[Answer]
    note: str
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., evidence_ids: _Optional[_Iterable[str]] = ..., answers: _Optional[_Iterable[_Union[Answer, _Mapping]]] = ..., note: _Optional[str] = ...) -> None: ...

class CompleteActionResponse(_message.Message):
    __slots__ = ("state", "points", "on_time", "suggestion")
    STATE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    state: PipelineState
    points: int
    on_time: bool
    suggestion: StrategySuggestion
    def __init__(self, state: _Optional[_Union[PipelineState, _Mapping]] = ..., points: _Optional[int] = ..., on_time: _Optional[bool] = ..., suggestion: _Optional[_Union[StrategySuggestion, _Mapping]] = ...) -> None: ...

class StrategyRecord(_message.Message):
    __slots__ = ("strategy", "rep_uses", "team_uses", "team_decided", "team_accepted", "team_acceptance")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    REP_USES_FIELD_NUMBER: _ClassVar[int]
    TEAM_USES_FIELD_NUMBER: _ClassVar[int]
    TEAM_DECIDED_FIELD_NUMBER: _ClassVar[int]
    TEAM_ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    TEAM_ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    rep_uses: int
    team_uses: int
    team_decided: int
    team_accepted: int
    team_acceptance: float
    def __init__(self, strategy: _Optional[str] = ..., rep_uses: _Optional[int] = ..., team_uses: _Optional[int] = ..., team_decided: _Optional[int] = ..., team_accepted: _Optional[int] = ..., team_acceptance: _Optional[float] = ...) -> None: ...

class StrategySuggestion(_message.Message):
    __slots__ = ("action_key", "used", "use_more", "team_acceptance", "team", "text", "text_zh")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    USED_FIELD_NUMBER: _ClassVar[int]
    USE_MORE_FIELD_NUMBER: _ClassVar[int]
    TEAM_ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    TEXT_FIELD_NUMBER: _ClassVar[int]
    TEXT_ZH_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    used: _containers.RepeatedCompositeFieldContainer[StrategyRecord]
    use_more: _containers.RepeatedCompositeFieldContainer[StrategyRecord]
    team_acceptance: float
    team: str
    text: str
    text_zh: str
    def __init__(self, action_key: _Optional[str] = ..., used: _Optional[_Iterable[_Union[StrategyRecord, _Mapping]]] = ..., use_more: _Optional[_Iterable[_Union[StrategyRecord, _Mapping]]] = ..., team_acceptance: _Optional[float] = ..., team: _Optional[str] = ..., text: _Optional[str] = ..., text_zh: _Optional[str] = ...) -> None: ...

class UnmetRequirement(_message.Message):
    __slots__ = ("kind", "key", "required", "provided", "message", "rejected")
    KIND_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_FIELD_NUMBER: _ClassVar[int]
    PROVIDED_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    kind: str
    key: str
    required: int
    provided: int
    message: str
    rejected: _containers.RepeatedCompositeFieldContainer[RejectedEvidence]
    def __init__(self, kind: _Optional[str] = ..., key: _Optional[str] = ..., required: _Optional[int] = ..., provided: _Optional[int] = ..., message: _Optional[str] = ..., rejected: _Optional[_Iterable[_Union[RejectedEvidence, _Mapping]]] = ...) -> None: ...

class RejectedEvidence(_message.Message):
    __slots__ = ("evidence_id", "reason", "detail")
    EVIDENCE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    evidence_id: str
    reason: str
    detail: str
    def __init__(self, evidence_id: _Optional[str] = ..., reason: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CompleteActionRejection(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "unmet")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    UNMET_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    unmet: _containers.RepeatedCompositeFieldContainer[UnmetRequirement]
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., unmet: _Optional[_Iterable[_Union[UnmetRequirement, _Mapping]]] = ...) -> None: ...

class RecordCustomerReplyRequest(_message.Message):
    __slots__ = ("opportunity_id", "note")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    note: str
    def __init__(self, opportunity_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ClosePipelineRequest(_message.Message):
    __slots__ = ("opportunity_id", "reason")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    reason: str
    def __init__(self, opportunity_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class PauseActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "reason")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    reason: str
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class ResumeActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_key")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ...) -> None: ...

class ResubmitActionRequest(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "note")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    note: str
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class GetPipelineRequest(_message.Message):
    __slots__ = ("opportunity_id",)
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    def __init__(self, opportunity_id: _Optional[str] = ...) -> None: ...

class ActionState(_message.Message):
    __slots__ = ("key", "name", "name_zh", "status", "started_at", "completed_at", "due_at", "overdue", "escalations", "paused", "pause_reason", "paused_seconds", "warned", "returned", "return_reason")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    DUE_AT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_FIELD_NUMBER: _ClassVar[int]
    ESCALATIONS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    PAUSE_REASON_FIELD_NUMBER: _ClassVar[int]
    PAUSED_SECONDS_FIELD_NUMBER: _ClassVar[int]
    WARNED_FIELD_NUMBER: _ClassVar[int]
    RETURNED_FIELD_NUMBER: _ClassVar[int]
    RETURN_REASON_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    name_zh: str
    status: str
    started_at: _timestamp_pb2.Timestamp
    completed_at: _timestamp_pb2.Timestamp
    due_at: _timestamp_pb2.Timestamp
    overdue: bool
    escalations: int
    paused: bool
    pause_reason: str
    paused_seconds: float
    warned: bool
    returned: bool
    return_reason: str
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., name_zh: _Optional[str] = ..., status: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., due_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue: _Optional[bool] = ..., escalations: _Optional[int] = ..., paused: _Optional[bool] = ..., pause_reason: _Optional[str] = ..., paused_seconds: _Optional[float] = ..., warned: _Optional[bool] = ..., returned: _Optional[bool] = ..., return_reason: _Optional[str] = ...) -> None: ...

class Deadline(_message.Message):
    __slots__ = ("key", "at", "fired")
    KEY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    FIRED_FIELD_NUMBER: _ClassVar[int]
    key: str
    at: _timestamp_pb2.Timestamp
    fired: bool
    def __init__(self, key: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., fired: _Optional[bool] = ...) -> None: ...

class TicketState(_message.Message):
    __slots__ = ("ticket_key", "department", "status", "note", "occurrence")
    TICKET_KEY_FIELD_NUMBER: _ClassVar[int]
    DEPARTMENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    ticket_key: str
    department: str
    status: str
    note: str
    occurrence: int
    def __init__(self, ticket_key: _Optional[str] = ..., department: _Optional[str] = ..., status: _Optional[str] = ..., note: _Optional[str] = ..., occurrence: _Optional[int] = ...) -> None: ...

class PipelineState(_message.Message):
    __slots__ = ("opportunity_id", "workflow_id", "rep_id", "manager_id", "region", "account", "outcome", "current_action", "current_since", "actions", "last_touch_at", "overdue_actions", "tickets", "template_id", "template_version", "reminders", "deadlines", "rep_time_zone")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    WORKFLOW_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    MANAGER_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ACTION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SINCE_FIELD_NUMBER: _ClassVar[int]
    ACTIONS_FIELD_NUMBER: _ClassVar[int]
    LAST_TOUCH_AT_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TICKETS_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_ID_FIELD_NUMBER: _ClassVar[int]
    TEMPLATE_VERSION_FIELD_NUMBER: _ClassVar[int]
    REMINDERS_FIELD_NUMBER: _ClassVar[int]
    DEADLINES_FIELD_NUMBER: _ClassVar[int]
    REP_TIME_ZONE_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    workflow_id: str
    rep_id: str
    manager_id: str
    region: str
    account: str
    outcome: str
    current_action: str
    current_since: _timestamp_pb2.Timestamp
    actions: _containers.RepeatedCompositeFieldContainer[ActionState]
    last_touch_at: _timestamp_pb2.Timestamp
    overdue_actions: _containers.RepeatedScalarFieldContainer[str]
    tickets: _containers.RepeatedCompositeFieldContainer[TicketState]
    template_id: str
    template_version: int
    reminders: int
    deadlines: _containers.RepeatedCompositeFieldContainer[Deadline]
    rep_time_zone: str
    def __init__(self, opportunity_id: _Optional[str] = ..., workflow_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., manager_id: _Optional[str] = ..., region: _Optional[str] = ..., account: _Optional[str] = ..., outcome: _Optional[str] = ..., current_action: _Optional[str] = ..., current_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., actions: _Optional[_Iterable[_Union[ActionState, _Mapping]]] = ..., last_touch_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue_actions: _Optional[_Iterable[str]] = ..., tickets: _Optional[_Iterable[_Union[TicketState, _Mapping]]] = ..., template_id: _Optional[str] = ..., template_version: _Optional[int] = ..., reminders: _Optional[int] = ..., deadlines: _Optional[_Iterable[_Union[Deadline, _Mapping]]] = ..., rep_time_zone: _Optional[str] = ...) -> None: ...

class ListPipelinesRequest(_message.Message):
    __slots__ = ("rep_id", "region", "current_action", "outcome", "page_size", "page_token")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ACTION_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    region: str
    current_action: str
    outcome: str
    page_size: int
    page_token: str
    def __init__(self, rep_id: _Optional[str] = ..., region: _Optional[str] = ..., current_action: _Optional[str] = ..., outcome: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class PipelineSummary(_message.Message):
    __slots__ = ("opportunity_id", "rep_id", "region", "account", "outcome", "current_action", "current_since", "overdue_actions")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    CURRENT_ACTION_FIELD_NUMBER: _ClassVar[int]
    CURRENT_SINCE_FIELD_NUMBER: _ClassVar[int]
    OVERDUE_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    rep_id: str
    region: str
    account: str
    outcome: str
    current_action: str
    current_since: _timestamp_pb2.Timestamp
    overdue_actions: int
    def __init__(self, opportunity_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., account: _Optional[str] = ..., outcome: _Optional[str] = ..., current_action: _Optional[str] = ..., current_since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., overdue_actions: _Optional[int] = ...) -> None: ...

class ListPipelinesResponse(_message.Message):
    __slots__ = ("pipelines", "next_page_token")
    PIPELINES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    pipelines: _containers.RepeatedCompositeFieldContainer[PipelineSummary]
    next_page_token: str
    def __init__(self, pipelines: _Optional[_Iterable[_Union[PipelineSummary, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...
