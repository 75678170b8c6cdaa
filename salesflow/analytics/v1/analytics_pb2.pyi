import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class HeatmapGroup(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEATMAP_GROUP_UNSPECIFIED: _ClassVar[HeatmapGroup]
    HEATMAP_GROUP_REGION: _ClassVar[HeatmapGroup]
    HEATMAP_GROUP_REP: _ClassVar[HeatmapGroup]

class BottleneckRank(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BOTTLENECK_RANK_UNSPECIFIED: _ClassVar[BottleneckRank]
    BOTTLENECK_RANK_TIME_OPEN: _ClassVar[BottleneckRank]
    BOTTLENECK_RANK_STALLED: _ClassVar[BottleneckRank]

class ConversionFlag(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CONVERSION_FLAG_UNSPECIFIED: _ClassVar[ConversionFlag]
    CONVERSION_FLAG_NO_REFERENCE: _ClassVar[ConversionFlag]
    CONVERSION_FLAG_BELOW_REFERENCE: _ClassVar[ConversionFlag]
    CONVERSION_FLAG_AT_REFERENCE: _ClassVar[ConversionFlag]
    CONVERSION_FLAG_ABOVE_TARGET: _ClassVar[ConversionFlag]

class QualityLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    QUALITY_LEVEL_UNSPECIFIED: _ClassVar[QualityLevel]
    QUALITY_LEVEL_REP: _ClassVar[QualityLevel]
    QUALITY_LEVEL_INSTANCE: _ClassVar[QualityLevel]

class HealthStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HEALTH_STATUS_UNSPECIFIED: _ClassVar[HealthStatus]
    HEALTH_STATUS_PASS: _ClassVar[HealthStatus]
    HEALTH_STATUS_FAIL: _ClassVar[HealthStatus]
    HEALTH_STATUS_UNMEASURABLE: _ClassVar[HealthStatus]

class OutcomeResult(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OUTCOME_RESULT_UNSPECIFIED: _ClassVar[OutcomeResult]
    OUTCOME_RESULT_ACCEPTED: _ClassVar[OutcomeResult]
    OUTCOME_RESULT_REJECTED: _ClassVar[OutcomeResult]
    OUTCOME_RESULT_PENDING: _ClassVar[OutcomeResult]
HEATMAP_GROUP_UNSPECIFIED: HeatmapGroup
HEATMAP_GROUP_REGION: HeatmapGroup
HEATMAP_GROUP_REP: HeatmapGroup
BOTTLENECK_RANK_UNSPECIFIED: BottleneckRank
BOTTLENECK_RANK_TIME_OPEN: BottleneckRank
BOTTLENECK_RANK_STALLED: BottleneckRank
CONVERSION_FLAG_UNSPECIFIED: ConversionFlag
CONVERSION_FLAG_NO_REFERENCE: ConversionFlag
CONVERSION_FLAG_BELOW_REFERENCE: ConversionFlag
CONVERSION_FLAG_AT_REFERENCE: ConversionFlag
CONVERSION_FLAG_ABOVE_TARGET: ConversionFlag
QUALITY_LEVEL_UNSPECIFIED: QualityLevel
QUALITY_LEVEL_REP: QualityLevel
QUALITY_LEVEL_INSTANCE: QualityLevel
HEALTH_STATUS_UNSPECIFIED: HealthStatus
HEALTH_STATUS_PASS: HealthStatus
HEALTH_STATUS_FAIL: HealthStatus
HEALTH_STATUS_UNMEASURABLE: HealthStatus
OUTCOME_RESULT_UNSPECIFIED: OutcomeResult
OUTCOME_RESULT_ACCEPTED: OutcomeResult
OUTCOME_RESULT_REJECTED: OutcomeResult
OUTCOME_RESULT_PENDING: OutcomeResult

class Filter(_message.Message):
    __slots__ = ("start", "end", "region", "team", "rep_id")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    region: str
    team: str
    rep_id: str
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., region: _Optional[str] = ..., team: _Optional[str] = ..., rep_id: _Optional[str] = ...) -> None: ...

class HeatmapRequest(_message.Message):
    __slots__ = ("filter", "group_by", "red_below")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    GROUP_BY_FIELD_NUMBER: _ClassVar[int]
    RED_BELOW_FIELD_NUMBER: _ClassVar[int]
    filter: Filter
    group_by: HeatmapGroup
    red_below: float
    def __init__(self, filter: _Optional[_Union[Filter, _Mapping]] = ..., group_by: _Optional[_Union[HeatmapGroup, str]] = ..., red_below: _Optional[float] = ...) -> None: ...

class HeatmapCell(_message.Message):
    __slots__ = ("action_key", "group", "due", "on_time", "rate", "red")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    GROUP_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    ON_TIME_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    RED_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    group: str
    due: int
    on_time: int
    rate: float
    red: bool
    def __init__(self, action_key: _Optional[str] = ..., group: _Optional[str] = ..., due: _Optional[int] = ..., on_time: _Optional[int] = ..., rate: _Optional[float] = ..., red: _Optional[bool] = ...) -> None: ...

class HeatmapResponse(_message.Message):
    __slots__ = ("action_keys", "groups", "cells", "red_below", "overall_rate", "target_rate")
    ACTION_KEYS_FIELD_NUMBER: _ClassVar[int]
    GROUPS_FIELD_NUMBER: _ClassVar[int]
    CELLS_FIELD_NUMBER: _ClassVar[int]
    RED_BELOW_FIELD_NUMBER: _ClassVar[int]
    OVERALL_RATE_FIELD_NUMBER: _ClassVar[int]
    TARGET_RATE_FIELD_NUMBER: _ClassVar[int]
    action_keys: _containers.RepeatedScalarFieldContainer[str]
    groups: _containers.RepeatedScalarFieldContainer[str]
    cells: _containers.RepeatedCompositeFieldContainer[HeatmapCell]
    red_below: float
    overall_rate: float
    target_rate: float
    def __init__(self, action_keys: _Optional[_Iterable[str]] = ..., groups: _Optional[_Iterable[str]] = ..., cells: _Optional[_Iterable[_Union[HeatmapCell, _Mapping]]] = ..., red_below: _Optional[float] = ..., overall_rate: _Optional[float] = ..., target_rate: _Optional[float] = ...) -> None: ...

class BottlenecksRequest(_message.Message):
    __slots__ = ("filter", "limit", "rank_by")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    RANK_BY_FIELD_NUMBER: _ClassVar[int]
    filter: Filter
    limit: int
    rank_by: BottleneckRank
    def __init__(self, filter: _Optional[_Union[Filter, _Mapping]] = ..., limit: _Optional[int] = ..., rank_by: _Optional[_Union[BottleneckRank, str]] = ...) -> None: ...

class Bottleneck(_message.Message):
    __slots__ = ("rank", "action_key", "instances", "stalled", "open", "average_hours", "p90_hours", "total_hours", "summary")
    RANK_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    STALLED_FIELD_NUMBER: _ClassVar[int]
    OPEN_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_HOURS_FIELD_NUMBER: _ClassVar[int]
    P90_HOURS_FIELD_NUMBER: _ClassVar[int]
    TOTAL_HOURS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    rank: int
    action_key: str
    instances: int
    stalled: int
    open: int
    average_hours: float
    p90_hours: float
    total_hours: float
    summary: str
    def __init__(self, rank: _Optional[int] = ..., action_key: _Optional[str] = ..., instances: _Optional[int] = ..., stalled: _Optional[int] = ..., open: _Optional[int] = ..., average_hours: _Optional[float] = ..., p90_hours: _Optional[float] = ..., total_hours: _Optional[float] = ..., summary: _Optional[str] = ...) -> None: ...

class BottlenecksResponse(_message.Message):
    __slots__ = ("bottlenecks", "stall_hours")
    BOTTLENECKS_FIELD_NUMBER: _ClassVar[int]
    STALL_HOURS_FIELD_NUMBER: _ClassVar[int]
    bottlenecks: _containers.RepeatedCompositeFieldContainer[Bottleneck]
    stall_hours: float
    def __init__(self, bottlenecks: _Optional[_Iterable[_Union[Bottleneck, _Mapping]]] = ..., stall_hours: _Optional[float] = ...) -> None: ...

class ConversionRequest(_message.Message):
    __slots__ = ("filter", "window_days")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    filter: Filter
    window_days: int
    def __init__(self, filter: _Optional[_Union[Filter, _Mapping]] = ..., window_days: _Optional[int] = ...) -> None: ...

class ConversionRow(_message.Message):
    __slots__ = ("action_key", "completed", "converted", "rate", "reference", "target", "flag", "maturing")
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    CONVERTED_FIELD_NUMBER: _ClassVar[int]
    RATE_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    FLAG_FIELD_NUMBER: _ClassVar[int]
    MATURING_FIELD_NUMBER: _ClassVar[int]
    action_key: str
    completed: int
    converted: int
    rate: float
    reference: float
    target: float
    flag: ConversionFlag
    maturing: int
    def __init__(self, action_key: _Optional[str] = ..., completed: _Optional[int] = ..., converted: _Optional[int] = ..., rate: _Optional[float] = ..., reference: _Optional[float] = ..., target: _Optional[float] = ..., flag: _Optional[_Union[ConversionFlag, str]] = ..., maturing: _Optional[int] = ...) -> None: ...

class ConversionResponse(_message.Message):
    __slots__ = ("window_days", "contract_action", "target_factor", "rows")
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    CONTRACT_ACTION_FIELD_NUMBER: _ClassVar[int]
    TARGET_FACTOR_FIELD_NUMBER: _ClassVar[int]
    ROWS_FIELD_NUMBER: _ClassVar[int]
    window_days: int
    contract_action: str
    target_factor: float
    rows: _containers.RepeatedCompositeFieldContainer[ConversionRow]
    def __init__(self, window_days: _Optional[int] = ..., contract_action: _Optional[str] = ..., target_factor: _Optional[float] = ..., rows: _Optional[_Iterable[_Union[ConversionRow, _Mapping]]] = ...) -> None: ...

class QualityRequest(_message.Message):
    __slots__ = ("filter", "level", "limit", "action_key")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    filter: Filter
    level: QualityLevel
    limit: int
    action_key: str
    def __init__(self, filter: _Optional[_Union[Filter, _Mapping]] = ..., level: _Optional[_Union[QualityLevel, str]] = ..., limit: _Optional[int] = ..., action_key: _Optional[str] = ...) -> None: ...

class QualityWeights(_message.Message):
    __slots__ = ("evidence", "answers", "timeliness", "feedback")
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    TIMELINESS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    evidence: float
    answers: float
    timeliness: float
    feedback: float
    def __init__(self, evidence: _Optional[float] = ..., answers: _Optional[float] = ..., timeliness: _Optional[float] = ..., feedback: _Optional[float] = ...) -> None: ...

class QualityComponents(_message.Message):
    __slots__ = ("evidence", "answers", "timeliness", "feedback")
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    ANSWERS_FIELD_NUMBER: _ClassVar[int]
    TIMELINESS_FIELD_NUMBER: _ClassVar[int]
    FEEDBACK_FIELD_NUMBER: _ClassVar[int]
    evidence: float
    answers: float
    timeliness: float
    feedback: float
    def __init__(self, evidence: _Optional[float] = ..., answers: _Optional[float] = ..., timeliness: _Optional[float] = ..., feedback: _Optional[float] = ...) -> None: ...

class RepQuality(_message.Message):
    __slots__ = ("rep_id", "region", "instances", "score", "components", "below_target")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    BELOW_TARGET_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    region: str
    instances: int
    score: float
    components: QualityComponents
    below_target: bool
    def __init__(self, rep_id: _Optional[str] = ..., region: _Optional[str] = ..., instances: _Optional[int] = ..., score: _Optional[float] = ..., components: _Optional[_Union[QualityComponents, _Mapping]] = ..., below_target: _Optional[bool] = ...) -> None: ...

class InstanceQuality(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "occurrence", "rep_id", "region", "completed_at", "score", "components", "below_target")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    COMPONENTS_FIELD_NUMBER: _ClassVar[int]
    BELOW_TARGET_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    occurrence: int
    rep_id: str
    region: str
    completed_at: _timestamp_pb2.Timestamp
    score: float
    components: QualityComponents
    below_target: bool
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., occurrence: _Optional[int] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., score: _Optional[float] = ..., components: _Optional[_Union[QualityComponents, _Mapping]] = ..., below_target: _Optional[bool] = ...) -> None: ...

class QualityResponse(_message.Message):
    __slots__ = ("weights", "target", "reps", "instances")
    WEIGHTS_FIELD_NUMBER: _ClassVar[int]
    TARGET_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    weights: QualityWeights
    target: float
    reps: _containers.RepeatedCompositeFieldContainer[RepQuality]
    instances: _containers.RepeatedCompositeFieldContainer[InstanceQuality]
    def __init__(self, weights: _Optional[_Union[QualityWeights, _Mapping]] = ..., target: _Optional[float] = ..., reps: _Optional[_Iterable[_Union[RepQuality, _Mapping]]] = ..., instances: _Optional[_Iterable[_Union[InstanceQuality, _Mapping]]] = ...) -> None: ...

class GrowthPathRequest(_message.Message):
    __slots__ = ("rep_id", "weeks", "end", "top")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    weeks: int
    end: _timestamp_pb2.Timestamp
    top: int
    def __init__(self, rep_id: _Optional[str] = ..., weeks: _Optional[int] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., top: _Optional[int] = ...) -> None: ...

class WeekFigures(_message.Message):
    __slots__ = ("completion_rate", "quality", "conversion_rate", "due", "scored", "conversions_decided")
    COMPLETION_RATE_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    CONVERSION_RATE_FIELD_NUMBER: _ClassVar[int]
    DUE_FIELD_NUMBER: _ClassVar[int]
    SCORED_FIELD_NUMBER: _ClassVar[int]
    CONVERSIONS_DECIDED_FIELD_NUMBER: _ClassVar[int]
    completion_rate: float
    quality: float
    conversion_rate: float
    due: int
    scored: int
    conversions_decided: int
    def __init__(self, completion_rate: _Optional[float] = ..., quality: _Optional[float] = ..., conversion_rate: _Optional[float] = ..., due: _Optional[int] = ..., scored: _Optional[int] = ..., conversions_decided: _Optional[int] = ...) -> None: ...

class GrowthWeek(_message.Message):
    __slots__ = ("week_start", "rep", "top_performers")
    WEEK_START_FIELD_NUMBER: _ClassVar[int]
    REP_FIELD_NUMBER: _ClassVar[int]
    TOP_PERFORMERS_FIELD_NUMBER: _ClassVar[int]
    week_start: _timestamp_pb2.Timestamp
    rep: WeekFigures
    top_performers: WeekFigures
    def __init__(self, week_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., rep: _Optional[_Union[WeekFigures, _Mapping]] = ..., top_performers: _Optional[_Union[WeekFigures, _Mapping]] = ...) -> None: ...

class GrowthPathResponse(_message.Message):
    __slots__ = ("rep_id", "team", "top_performers", "weeks")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    TOP_PERFORMERS_FIELD_NUMBER: _ClassVar[int]
    WEEKS_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team: str
    top_performers: _containers.RepeatedScalarFieldContainer[str]
    weeks: _containers.RepeatedCompositeFieldContainer[GrowthWeek]
    def __init__(self, rep_id: _Optional[str] = ..., team: _Optional[str] = ..., top_performers: _Optional[_Iterable[str]] = ..., weeks: _Optional[_Iterable[_Union[GrowthWeek, _Mapping]]] = ...) -> None: ...

class HealthCheckRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: Filter
    def __init__(self, filter: _Optional[_Union[Filter, _Mapping]] = ...) -> None: ...

class HealthItem(_message.Message):
    __slots__ = ("number", "key", "title", "status", "value", "unit", "threshold", "detail")
    NUMBER_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    UNIT_FIELD_NUMBER: _ClassVar[int]
    THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    number: int
    key: str
    title: str
    status: HealthStatus
    value: float
    unit: str
    threshold: str
    detail: str
    def __init__(self, number: _Optional[int] = ..., key: _Optional[str] = ..., title: _Optional[str] = ..., status: _Optional[_Union[HealthStatus, str]] = ..., value: _Optional[float] = ..., unit: _Optional[str] = ..., threshold: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class HealthCheckResponse(_message.Message):
    __slots__ = ("items", "passed", "unmeasurable", "needed", "healthy", "verdict")
    ITEMS_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    UNMEASURABLE_FIELD_NUMBER: _ClassVar[int]
    NEEDED_FIELD_NUMBER: _ClassVar[int]
    HEALTHY_FIELD_NUMBER: _ClassVar[int]
    VERDICT_FIELD_NUMBER: _ClassVar[int]
    items: _containers.RepeatedCompositeFieldContainer[HealthItem]
    passed: int
    unmeasurable: int
    needed: int
    healthy: bool
    verdict: str
    def __init__(self, items: _Optional[_Iterable[_Union[HealthItem, _Mapping]]] = ..., passed: _Optional[int] = ..., unmeasurable: _Optional[int] = ..., needed: _Optional[int] = ..., healthy: _Optional[bool] = ..., verdict: _Optional[str] = ...) -> None: ...

class LastOutcomesRequest(_message.Message):
    __slots__ = ("rep_id", "action_key", "topic", "limit")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    action_key: str
    topic: str
    limit: int
    def __init__(self, rep_id: _Optional[str] = ..., action_key: _Optional[str] = ..., topic: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class Outcome(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "completed_at", "strategies", "topic", "result", "pipeline_outcome", "quality")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PIPELINE_OUTCOME_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    completed_at: _timestamp_pb2.Timestamp
    strategies: _containers.RepeatedScalarFieldContainer[str]
    topic: str
    result: OutcomeResult
    pipeline_outcome: str
    quality: float
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., strategies: _Optional[_Iterable[str]] = ..., topic: _Optional[str] = ..., result: _Optional[_Union[OutcomeResult, str]] = ..., pipeline_outcome: _Optional[str] = ..., quality: _Optional[float] = ...) -> None: ...

class LastOutcomesResponse(_message.Message):
    __slots__ = ("outcomes",)
    OUTCOMES_FIELD_NUMBER: _ClassVar[int]
    outcomes: _containers.RepeatedCompositeFieldContainer[Outcome]
    def __init__(self, outcomes: _Optional[_Iterable[_Union[Outcome, _Mapping]]] = ...) -> None: ...

class StrategySuggestionRequest(_message.Message):
    __slots__ = ("rep_id", "action_key", "topic", "opportunity_id", "strategies_used", "lookback_days")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    TOPIC_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_USED_FIELD_NUMBER: _ClassVar[int]
    LOOKBACK_DAYS_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    action_key: str
    topic: str
    opportunity_id: str
    strategies_used: _containers.RepeatedScalarFieldContainer[str]
    lookback_days: int
    def __init__(self, rep_id: _Optional[str] = ..., action_key: _Optional[str] = ..., topic: _Optional[str] = ..., opportunity_id: _Optional[str] = ..., strategies_used: _Optional[_Iterable[str]] = ..., lookback_days: _Optional[int] = ...) -> None: ...

class StrategyStat(_message.Message):
    __slots__ = ("strategy", "uses", "accepted", "rejected", "acceptance")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    USES_FIELD_NUMBER: _ClassVar[int]
    ACCEPTED_FIELD_NUMBER: _ClassVar[int]
    REJECTED_FIELD_NUMBER: _ClassVar[int]
    ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    uses: int
    accepted: int
    rejected: int
    acceptance: float
    def __init__(self, strategy: _Optional[str] = ..., uses: _Optional[int] = ..., accepted: _Optional[int] = ..., rejected: _Optional[int] = ..., acceptance: _Optional[float] = ...) -> None: ...

class StrategySuggestionResponse(_message.Message):
    __slots__ = ("suggestion", "team", "rep_uses", "rep_strategies", "team_strategies", "use_more", "team_acceptance", "suggestion_zh")
    SUGGESTION_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REP_USES_FIELD_NUMBER: _ClassVar[int]
    REP_STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    TEAM_STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    USE_MORE_FIELD_NUMBER: _ClassVar[int]
    TEAM_ACCEPTANCE_FIELD_NUMBER: _ClassVar[int]
    SUGGESTION_ZH_FIELD_NUMBER: _ClassVar[int]
    suggestion: str
    team: str
    rep_uses: int
    rep_strategies: _containers.RepeatedCompositeFieldContainer[StrategyStat]
    team_strategies: _containers.RepeatedCompositeFieldContainer[StrategyStat]
    use_more: _containers.RepeatedScalarFieldContainer[str]
    team_acceptance: float
    suggestion_zh: str
    def __init__(self, suggestion: _Optional[str] = ..., team: _Optional[str] = ..., rep_uses: _Optional[int] = ..., rep_strategies: _Optional[_Iterable[_Union[StrategyStat, _Mapping]]] = ..., team_strategies: _Optional[_Iterable[_Union[StrategyStat, _Mapping]]] = ..., use_more: _Optional[_Iterable[str]] = ..., team_acceptance: _Optional[float] = ..., suggestion_zh: _Optional[str] = ...) -> None: ...

class StrategyShare(_message.Message):
    __slots__ = ("strategy", "rep_share", "top_share")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    REP_SHARE_FIELD_NUMBER: _ClassVar[int]
    TOP_SHARE_FIELD_NUMBER: _ClassVar[int]
    strategy: str
    rep_share: float
    top_share: float
    def __init__(self, strategy: _Optional[str] = ..., rep_share: _Optional[float] = ..., top_share: _Optional[float] = ...) -> None: ...

class Weakness(_message.Message):
    __slots__ = ("rank", "action_key", "metric", "value", "benchmark", "gap", "instances", "benchmark_instances", "strategies", "summary")
    RANK_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    GAP_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    rank: int
    action_key: str
    metric: str
    value: float
    benchmark: float
    gap: float
    instances: int
    benchmark_instances: int
    strategies: _containers.RepeatedCompositeFieldContainer[StrategyShare]
    summary: str
    def __init__(self, rank: _Optional[int] = ..., action_key: _Optional[str] = ..., metric: _Optional[str] = ..., value: _Optional[float] = ..., benchmark: _Optional[float] = ..., gap: _Optional[float] = ..., instances: _Optional[int] = ..., benchmark_instances: _Optional[int] = ..., strategies: _Optional[_Iterable[_Union[StrategyShare, _Mapping]]] = ..., summary: _Optional[str] = ...) -> None: ...

class RepWeaknesses(_message.Message):
    __slots__ = ("rep_id", "region", "history_days", "required_days", "enough_history", "weaknesses", "top_actions", "top_performers", "summary")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    HISTORY_DAYS_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_DAYS_FIELD_NUMBER: _ClassVar[int]
    ENOUGH_HISTORY_FIELD_NUMBER: _ClassVar[int]
    WEAKNESSES_FIELD_NUMBER: _ClassVar[int]
    TOP_ACTIONS_FIELD_NUMBER: _ClassVar[int]
    TOP_PERFORMERS_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    region: str
    history_days: int
    required_days: int
    enough_history: bool
    weaknesses: _containers.RepeatedCompositeFieldContainer[Weakness]
    top_actions: _containers.RepeatedScalarFieldContainer[str]
    top_performers: _containers.RepeatedScalarFieldContainer[str]
    summary: str
    def __init__(self, rep_id: _Optional[str] = ..., region: _Optional[str] = ..., history_days: _Optional[int] = ..., required_days: _Optional[int] = ..., enough_history: _Optional[bool] = ..., weaknesses: _Optional[_Iterable[_Union[Weakness, _Mapping]]] = ..., top_actions: _Optional[_Iterable[str]] = ..., top_performers: _Optional[_Iterable[str]] = ..., summary: _Optional[str] = ...) -> None: ...

class FindWeaknessesRequest(_message.Message):
    __slots__ = ("rep_id", "as_of")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    AS_OF_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    as_of: _timestamp_pb2.Timestamp
    def __init__(self, rep_id: _Optional[str] = ..., as_of: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FindWeaknessesResponse(_message.Message):
    __slots__ = ("window_start", "window_end", "reps")
    WINDOW_START_FIELD_NUMBER: _ClassVar[int]
    WINDOW_END_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    window_start: _timestamp_pb2.Timestamp
    window_end: _timestamp_pb2.Timestamp
    reps: _containers.RepeatedCompositeFieldContainer[RepWeaknesses]
    def __init__(self, window_start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., window_end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., reps: _Optional[_Iterable[_Union[RepWeaknesses, _Mapping]]] = ...) -> None: ...

class BenchmarkCase(_message.Message):
    __slots__ = ("opportunity_id", "action_key", "occurrence", "rep_id", "quality", "completed_at", "strategies")
    OPPORTUNITY_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    OCCURRENCE_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    QUALITY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    opportunity_id: str
    action_key: str
    occurrence: int
    rep_id: str
    quality: float
    completed_at: _timestamp_pb2.Timestamp
    strategies: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, opportunity_id: _Optional[str] = ..., action_key: _Optional[str] = ..., occurrence: _Optional[int] = ..., rep_id: _Optional[str] = ..., quality: _Optional[float] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., strategies: _Optional[_Iterable[str]] = ...) -> None: ...

class TrainingTask(_message.Message):
    __slots__ = ("task_id", "rep_id", "region", "action_key", "metric", "kind", "status", "instructions", "cases", "value_at_creation", "benchmark", "strategies", "created_by", "created_at", "completed_by", "completed_at", "submission", "window_days")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INSTRUCTIONS_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_CREATION_FIELD_NUMBER: _ClassVar[int]
    BENCHMARK_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_BY_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_AT_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_FIELD_NUMBER: _ClassVar[int]
    WINDOW_DAYS_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    rep_id: str
    region: str
    action_key: str
    metric: str
    kind: str
    status: str
    instructions: str
    cases: _containers.RepeatedCompositeFieldContainer[BenchmarkCase]
    value_at_creation: float
    benchmark: float
    strategies: _containers.RepeatedCompositeFieldContainer[StrategyShare]
    created_by: str
    created_at: _timestamp_pb2.Timestamp
    completed_by: str
    completed_at: _timestamp_pb2.Timestamp
    submission: str
    window_days: int
    def __init__(self, task_id: _Optional[int] = ..., rep_id: _Optional[str] = ..., region: _Optional[str] = ..., action_key: _Optional[str] = ..., metric: _Optional[str] = ..., kind: _Optional[str] = ..., status: _Optional[str] = ..., instructions: _Optional[str] = ..., cases: _Optional[_Iterable[_Union[BenchmarkCase, _Mapping]]] = ..., value_at_creation: _Optional[float] = ..., benchmark: _Optional[float] = ..., strategies: _Optional[_Iterable[_Union[StrategyShare, _Mapping]]] = ..., created_by: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., completed_by: _Optional[str] = ..., completed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., submission: _Optional[str] = ..., window_days: _Optional[int] = ...) -> None: ...

class CreateTrainingTasksRequest(_message.Message):
    __slots__ = ("rep_id", "action_key", "metric", "top", "cases")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    ACTION_KEY_FIELD_NUMBER: _ClassVar[int]
    METRIC_FIELD_NUMBER: _ClassVar[int]
    TOP_FIELD_NUMBER: _ClassVar[int]
    CASES_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    action_key: str
    metric: str
    top: int
    cases: int
    def __init__(self, rep_id: _Optional[str] = ..., action_key: _Optional[str] = ..., metric: _Optional[str] = ..., top: _Optional[int] = ..., cases: _Optional[int] = ...) -> None: ...

class CreateTrainingTasksResponse(_message.Message):
    __slots__ = ("created", "existing", "weaknesses")
    CREATED_FIELD_NUMBER: _ClassVar[int]
    EXISTING_FIELD_NUMBER: _ClassVar[int]
    WEAKNESSES_FIELD_NUMBER: _ClassVar[int]
    created: _containers.RepeatedCompositeFieldContainer[TrainingTask]
    existing: _containers.RepeatedCompositeFieldContainer[TrainingTask]
    weaknesses: RepWeaknesses
    def __init__(self, created: _Optional[_Iterable[_Union[TrainingTask, _Mapping]]] = ..., existing: _Optional[_Iterable[_Union[TrainingTask, _Mapping]]] = ..., weaknesses: _Optional[_Union[RepWeaknesses, _Mapping]] = ...) -> None: ...

class ListTrainingTasksRequest(_message.Message):
    __slots__ = ("rep_id", "status", "limit")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    status: str
    limit: int
    def __init__(self, rep_id: _Optional[str] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ...) -> None: ...

class ListTrainingTasksResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TrainingTask]
    def __init__(self, tasks: _Optional[_Iterable[_Union[TrainingTask, _Mapping]]] = ...) -> None: ...

class CompleteTrainingTaskRequest(_message.Message):
    __slots__ = ("task_id", "submission")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    SUBMISSION_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    submission: str
    def __init__(self, task_id: _Optional[int] = ..., submission: _Optional[str] = ...) -> None: ...

class TrainingProgressRequest(_message.Message):
    __slots__ = ("task_id", "rep_id")
    TASK_ID_FIELD_NUMBER: _ClassVar[int]
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    task_id: int
    rep_id: str
    def __init__(self, task_id: _Optional[int] = ..., rep_id: _Optional[str] = ...) -> None: ...

class MetricWindow(_message.Message):
    __slots__ = ("start", "end", "value", "instances")
    START_FIELD_NUMBER: _ClassVar[int]
    END_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    start: _timestamp_pb2.Timestamp
    end: _timestamp_pb2.Timestamp
    value: float
    instances: int
    def __init__(self, start: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., end: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., value: _Optional[float] = ..., instances: _Optional[int] = ...) -> None: ...

class TaskProgress(_message.Message):
    __slots__ = ("task", "before", "after", "state", "improved", "required_instances", "summary")
    TASK_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    IMPROVED_FIELD_NUMBER: _ClassVar[int]
    REQUIRED_INSTANCES_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    task: TrainingTask
    before: MetricWindow
    after: MetricWindow
    state: str
    improved: bool
    required_instances: int
    summary: str
    def __init__(self, task: _Optional[_Union[TrainingTask, _Mapping]] = ..., before: _Optional[_Union[MetricWindow, _Mapping]] = ..., after: _Optional[_Union[MetricWindow, _Mapping]] = ..., state: _Optional[str] = ..., improved: _Optional[bool] = ..., required_instances: _Optional[int] = ..., summary: _Optional[str] = ...) -> None: ...

class TrainingProgressResponse(_message.Message):
    __slots__ = ("tasks",)
    TASKS_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[TaskProgress]
    def __init__(self, tasks: _Optional[_Iterable[_Union[TaskProgress, _Mapping]]] = ...) -> None: ...

class CoverageRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class CoveredRep(_message.Message):
    __slots__ = ("rep_id", "team", "region", "instances")
    REP_ID_FIELD_NUMBER: _ClassVar[int]
    TEAM_FIELD_NUMBER: _ClassVar[int]
    REGION_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    rep_id: str
    team: str
    region: str
    instances: int
    def __init__(self, rep_id: _Optional[str] = ..., team: _Optional[str] = ..., region: _Optional[str] = ..., instances: _Optional[int] = ...) -> None: ...

class CoverageResponse(_message.Message):
    __slots__ = ("first_started", "last_started", "instances", "regions", "teams", "reps", "timezone")
    FIRST_STARTED_FIELD_NUMBER: _ClassVar[int]
    LAST_STARTED_FIELD_NUMBER: _ClassVar[int]
    INSTANCES_FIELD_NUMBER: _ClassVar[int]
    REGIONS_FIELD_NUMBER: _ClassVar[int]
    TEAMS_FIELD_NUMBER: _ClassVar[int]
    REPS_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    first_started: _timestamp_pb2.Timestamp
    last_started: _timestamp_pb2.Timestamp
    instances: int
    regions: _containers.RepeatedScalarFieldContainer[str]
    teams: _containers.RepeatedScalarFieldContainer[str]
    reps: _containers.RepeatedCompositeFieldContainer[CoveredRep]
    timezone: str
    def __init__(self, first_started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_started: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., instances: _Optional[int] = ..., regions: _Optional[_Iterable[str]] = ..., teams: _Optional[_Iterable[str]] = ..., reps: _Optional[_Iterable[_Union[CoveredRep, _Mapping]]] = ..., timezone: _Optional[str] = ...) -> None: ...
