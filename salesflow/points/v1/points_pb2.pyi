import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetBalanceRequest(_message.Message):
    __slots__ = ("rep_id",)
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    def __init__(self, rep_id: _Optional[str] = ...) -> None: ...

class Balance(_message.Message):
    __slots__ = ("rep_id", "points", "entries")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    points: int
    entries: int
    def __init__(self, rep_id: _Optional[str] = ..., points: _Optional[int] = ..., entries: _Optional[int] = ...) -> None: ...

class LedgerEntry(_message.Message):
    __slots__ = ("entry_id", "rep_id", "points", "rule", "event_id", "opportunity_id", "action_key", "occurred_at", "recorded_at", "kind", "rule_version", "label", "period", "region", "team")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    entry_id: int
    rep_id: str
    points: int
    rule: str
    event_id: str
    opportunity_id: str
    action_key: str
    occurred_at: _timestamp_pb2.Timestamp
    recorded_at: _timestamp_pb2.Timestamp
    kind: str
    rule_version: str
    label: str
    period: str
    region: str
    team: str
    def __init__(self, entry_id: _Optional[int] = ..., rep_id: _Optional[str] = ..., points: _Optional[int] = ..., rule: _Optional[str] = ..., event_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kind: _Optional[str] = ..., rule_version: _Optional[str] = ..., label: _Optional[str] = ..., period: _Optional[str] = ..., region: _Optional[str] = ..., team: _Optional[str] = ...) -> None: ...

class ListEntriesRequest(_message.Message):
    __slots__ = ("rep_id", "limit")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    limit: int
    def __init__(self, rep_id: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListEntriesResponse(_message.Message):
    __slots__ = ("entries",)
    ENTRIES_FIELD_NUMBER: _ClassVar[int]
    entries: _containers.RepeatedCompositeFieldContainer[LedgerEntry]
    def __init__(self, entries: _Optional[_Iterable[_Union[LedgerEntry, _Mapping]]] = ...) -> None: ...

class GetLeaderboardRequest(_message.Message):
    __slots__ = ("region", "since", "until", "limit", "period", "at", "team")
    REGION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    region: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    limit: int
    period: str
    at: _timestamp_pb2.Timestamp
    team: str
    def __init__(self, region: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ..., period: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., team: _Optional[str] = ...) -> None: ...

class LeaderboardRow(_message.Message):
    __slots__ = ("rank", "rep_id", "region", "points", "team")
    RANK_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    rank: int
    rep_id: str
    region: str
    points: int
    team: str
    def __init__(self, rank: _Optional[int] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., points: _Optional[int] = ..., team: _Optional[str] = ...) -> None: ...

class Leaderboard(_message.Message):
    __slots__ = ("rows", "since", "until", "period_label")
    ROWS_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    PERIOD_LABEL_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[LeaderboardRow]
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    period_label: str
    def __init__(self, rows: _Optional[_Iterable[_Union[LeaderboardRow, _Mapping]]] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., period_label: _Optional[str] = ...) -> None: ...

class Reward(_message.Message):
    __slots__ = ("key", "name", "name_zh", "price", "stock", "active")
    KEY_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    NAME_ZH_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STOCK_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    key: str
    name: str
    name_zh: str
    price: int
    stock: int
    active: bool
    def __init__(self, key: _Optional[str] = ..., name: _Optional[str] = ..., name_zh: _Optional[str] = ..., price: _Optional[int] = ..., stock: _Optional[int] = ..., active: _Optional[bool] = ...) -> None: ...

class ListRewardsRequest(_message.Message):
    __slots__ = ("include_inactive",)
    INCLUDE_INACTIVE_FIELD_NUMBER: _ClassVar[int]
    include_inactive: bool
    def __init__(self, include_inactive: _Optional[bool] = ...) -> None: ...

class ListRewardsResponse(_message.Message):
    __slots__ = ("rewards",)
    REWARDS_FIELD_NUMBER: _ClassVar[int]
    rewards: _containers.RepeatedCompositeFieldContainer[Reward]
    def __init__(self, rewards: _Optional[_Iterable[_Union[Reward, _Mapping]]] = ...) -> None: ...

class RedeemRequest(_message.Message):
    __slots__ = ("rep_id", "reward_key", "idempotency_key")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_KEY_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    reward_key: str
    idempotency_key: str
    def __init__(self, rep_id: _Optional[str] = ..., reward_key: _Optional[str] = ..., idempotency_key: _Optional[str] = ...) -> None: ...

class Redemption(_message.Message):
    __slots__ = ("redemption_id", "rep_id", "reward_key", "price", "status", "idempotency_key", "requested_at", "decided_at", "decided_by", "note", "region")
    REDEMPTION_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REWARD_KEY_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    REQUESTED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    DECIDED_BY_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    redemption_id: str
    rep_id: str
    reward_key: str
    price: int
    status: str
    idempotency_key: str
    requested_at: _timestamp_pb2.Timestamp
    decided_at: _timestamp_pb2.Timestamp
    decided_by: str
    note: str
    region: str
    def __init__(self, redemption_id: _Optional[str] = ..., rep_id: _Optional[str] = ..., reward_key: _Optional[str] = ..., price: _Optional[int] = ..., status: _Optional[str] = ..., idempotency_key: _Optional[str] = ..., requested_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decided_by: _Optional[str] = ..., note: _Optional[str] = ..., region: _Optional[str] = ...) -> None: ...

class DecideRedemptionRequest(_message.Message):
    __slots__ = ("redemption_id", "note")
    REDEMPTION_ID_FIELD_NUMBER: _ClassVar[int]
    NOTE_FIELD_NUMBER: _ClassVar[int]
    redemption_id: str
    note: str
    def __init__(self, redemption_id: _Optional[str] = ..., note: _Optional[str] = ...) -> None: ...

class ListRedemptionsRequest(_message.Message):
    __slots__ = ("rep_id", "status", "limit")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    status: str
    limit: int
    def __init__(self, rep_id: _Optional[str] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListRedemptionsResponse(_message.Message):
    __slots__ = ("redemptions",)
    REDEMPTIONS_FIELD_NUMBER: _ClassVar[int]
    redemptions: _containers.RepeatedCompositeFieldContainer[Redemption]
    def __init__(self, redemptions: _Optional[_Iterable[_Union[Redemption, _Mapping]]] = ...) -> None: ...

class RecalculateRequest(_message.Message):
    __slots__ = ("quarter", "label", "dry_run")
    QUARTER_FIELD_NUMBER: _ClassVar[int]
    LABEL_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    quarter: str
    label: str
    dry_run: bool
    def __init__(self, quarter: _Optional[str] = ..., label: _Optional[str] = ..., dry_run: _Optional[bool] = ...) -> None: ...

class Adjustment(_message.Message):
    __slots__ = ("rep_id", "event_id", "rule", "before", "after", "points", "rule_version")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    RULE_VERSION_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    event_id: str
    rule: str
    before: int
    after: int
    points: int
    rule_version: str
    def __init__(self, rep_id: _Optional[str] = ..., event_id: _Optional[str] = ..., rule: _Optional[str] = ..., before: _Optional[int] = ..., after: _Optional[int] = ..., points: _Optional[int] = ..., rule_version: _Optional[str] = ...) -> None: ...

class RecalculateResponse(_message.Message):
    __slots__ = ("adjustments", "points", "events_repriced")
    ADJUSTMENTS_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_REPRICED_FIELD_NUMBER: _ClassVar[int]
    adjustments: _containers.RepeatedCompositeFieldContainer[Adjustment]
    points: int
    events_repriced: int
    def __init__(self, adjustments: _Optional[_Iterable[_Union[Adjustment, _Mapping]]] = ..., points: _Optional[int] = ..., events_repriced: _Optional[int] = ...) -> None: ...

class ExportQuarterRequest(_message.Message):
    __slots__ = ("year", "quarter")
    YEAR_FIELD_NUMBER: _ClassVar[int]
    QUARTER_FIELD_NUMBER: _ClassVar[int]
    year: int
    quarter: int
    def __init__(self, year: _Optional[int] = ..., quarter: _Optional[int] = ...) -> None: ...

class QuarterExport(_message.Message):
    __slots__ = ("period", "csv", "xlsx", "closed_at", "closed_by", "newly_closed", "reps", "total")
    PERIOD_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    XLSX_FIELD_NUMBER: _ClassVar[int]
    CLOSED_AT_FIELD_NUMBER: _ClassVar[int]
    CLOSED_BY_FIELD_NUMBER: _ClassVar[int]
    NEWLY_CLOSED_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    period: str
    csv: bytes
    xlsx: bytes
    closed_at: _timestamp_pb2.Timestamp
    closed_by: str
    newly_closed: bool
    reps: int
    total: int
    def __init__(self, period: _Optional[str] = ..., csv: _Optional[bytes] = ..., xlsx: _Optional[bytes] = ..., closed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., closed_by: _Optional[str] = ..., newly_closed: _Optional[bool] = ..., reps: _Optional[int] = ..., total: _Optional[int] = ...) -> None: ...

class ListParkedRequest(_message.Message):
    __slots__ = ("limit",)
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    limit: int
    def __init__(self, limit: _Optional[int] = ...) -> None: ...

class ParkedEvent(_message.Message):
    __slots__ = ("event_id", "event_type", "rep_id", "opportunity_id", "occurred_at", "reason")
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    event_id: str
    event_type: str
    rep_id: str
    opportunity_id: str
    occurred_at: _timestamp_pb2.Timestamp
    reason: str
    def __init__(self, event_id: _Optional[str] = ..., event_type: _Optional[str] = ..., rep_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reason: _Optional[str] = ...) -> None: ...

class ListParkedResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[ParkedEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[ParkedEvent, _Mapping]]] = ...) -> None: ...
