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
    __slots__ = ("entry_id", "rep_id", "points", "rule", "event_id", "opportunity_id", "action_key", "occurred_at", "recorded_at")
    ENTRY_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_FIELD_NUMBER: _ClassVar[int]
    RECORDED_AT_FIELD_NUMBER: _ClassVar[int]
    entry_id: int
    rep_id: str
    points: int
    rule: str
    event_id: str
    opportunity_id: str
    action_key: str
    occurred_at: _timestamp_pb2.Timestamp
    recorded_at: _timestamp_pb2.Timestamp
    def __init__(self, entry_id: _Optional[int] = ..., rep_id: _Optional[str] = ..., points: _Optional[int] = ..., rule: _Optional[str] = ..., event_id: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., occurred_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., recorded_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

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
    __slots__ = ("region", "since", "until", "limit")
    REGION_FIELD_NUMBER: _ClassVar[int]
    SINCE_FIELD_NUMBER: _ClassVar[int]
    UNTIL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    region: str
    since: _timestamp_pb2.Timestamp
    until: _timestamp_pb2.Timestamp
    limit: int
    def __init__(self, region: _Optional[str] = ..., since: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class LeaderboardRow(_message.Message):
    __slots__ = ("rank", "rep_id", "region", "points")
    RANK_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    rank: int
    rep_id: str
    region: str
    points: int
    def __init__(self, rank: _Optional[int] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., points: _Optional[int] = ...) -> None: ...

class Leaderboard(_message.Message):
    __slots__ = ("rows",)
    ROWS_FIELD_NUMBER: _ClassVar[int]
    rows: _containers.RepeatedCompositeFieldContainer[LeaderboardRow]
    def __init__(self, rows: _Optional[_Iterable[_Union[LeaderboardRow, _Mapping]]] = ...) -> None: ...
