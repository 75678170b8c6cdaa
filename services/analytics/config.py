"""What the analytics figures are judged against: thresholds, reference rates, weights.

Read once at start from SALESFLOW_ANALYTICS_* variables, over an optional YAML file named
by SALESFLOW_ANALYTICS_CONFIG (same keys, lower case, without the prefix; the variables
win). Malformed values stop the process at start. Every default is documented in README.md.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from salesflow.core.settings import SettingsError

ENV_PREFIX = "SALESFLOW_ANALYTICS_"

# Starting points until a company measures its own: the share of pipelines that reach the
# contract stage within the window after completing each action.
DEFAULT_REFERENCES = MappingProxyType(
    {
        "appointment": 0.05,
        "onsite_diagnosis": 0.10,
        "solution_demo": 0.25,
        "objection_handling": 0.60,
    }
)


@dataclass(frozen=True)
class QualityWeights:
    """Relative weights of the quality score's four components (any non-negative scale)."""

    evidence: float = 30.0
    answers: float = 20.0
    timeliness: float = 30.0
    feedback: float = 20.0

    @property
    def total(self) -> float:
        return self.evidence + self.answers + self.timeliness + self.feedback


@dataclass(frozen=True)
class CoachingGaps:
    """How far below the top performers a rep's figure must be to count as a weakness."""

    completion: float = 0.10
    # In quality points (0–100).
    quality: float = 10.0
    conversion: float = 0.10
    # 1 − the overlap of the strategy mixes.
    strategy_mix: float = 0.25


@dataclass(frozen=True, kw_only=True)
class AnalyticsConfig:
    # Heatmap cells below this completion rate are red; the overall target rate.
    red_below: float = 0.85
    completion_target: float = 0.90
    quality_weights: QualityWeights = field(default_factory=QualityWeights)
    quality_target: float = 85.0
    conversion_window_days: int = 7
    conversion_references: Mapping[str, float] = field(default_factory=lambda: DEFAULT_REFERENCES)
    # "Above target" means at least this many times the reference.
    conversion_target_factor: float = 1.3
    # The action whose start is "the contract stage" (a won pipeline reached it too).
    contract_action: str = "contract_archive"
    # The action whose outcomes the self-check's "last 3 objection outcomes" item reads.
    objection_action: str = "objection_handling"
    # The answer key under which an action records the response strategies used.
    strategy_answer_key: str = "response_strategies"
    # Actions that are visits to the customer: their records should carry photos.
    visit_actions: tuple[str, ...] = ("onsite_diagnosis", "solution_demo")
    # An instance open longer than this (or past its deadline) is stalled.
    stall_hours: float = 48.0
    suggestion_lookback_days: int = 90
    # Decided team uses a strategy needs before it is recommended.
    min_outcomes: int = 5
    # Coaching: the history a rep needs before being judged (also the window judged and
    # the length of a training task's before and after windows), how many top performers
    # a rep is compared with, the instances a figure needs behind it, the gaps that make a
    # weakness and how many benchmark cases a watch task lists.
    coaching_history_days: int = 90
    coaching_top: int = 10
    coaching_min_instances: int = 5
    coaching_gaps: CoachingGaps = field(default_factory=CoachingGaps)
    coaching_cases: int = 5
    # Weeks start on Monday in this zone (SALESFLOW_TIMEZONE).
    timezone: str = "Asia/Shanghai"

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, *, timezone: str = ""
    ) -> AnalyticsConfig:
        """The YAML file's values, then the variables', over the defaults."""
        env = dict(os.environ if env is None else env)
        values: dict[str, Any] = {}
        path = env.get(f"{ENV_PREFIX}CONFIG", "")
        if path:
            values.update(_read_yaml(Path(path)))
        for name in _FIELD_PARSERS:
            raw = env.get(ENV_PREFIX + name.upper())
            if raw not in (None, ""):
                values[name] = raw

        config = cls(**({"timezone": timezone} if timezone else {}))
        changes = {name: _FIELD_PARSERS[name](name, value) for name, value in values.items()}
        config = replace(config, **changes)
        config.validate()
        return config

    def validate(self) -> None:
        if not 0 < self.red_below <= 1:
            raise SettingsError(f"{ENV_PREFIX}RED_BELOW must be in (0, 1], got {self.red_below}")
        if not 0 < self.completion_target <= 1:
            raise SettingsError(f"{ENV_PREFIX}COMPLETION_TARGET must be in (0, 1]")
        weights = self.quality_weights
        if min(weights.evidence, weights.answers, weights.timeliness, weights.feedback) < 0:
            raise SettingsError(f"{ENV_PREFIX}QUALITY_WEIGHTS must not be negative")
        if weights.total <= 0:
            raise SettingsError(f"{ENV_PREFIX}QUALITY_WEIGHTS must not all be zero")
        if not 0 <= self.quality_target <= 100:
            raise SettingsError(f"{ENV_PREFIX}QUALITY_TARGET must be in [0, 100]")
        if not 1 <= self.conversion_window_days <= 90:
            raise SettingsError(f"{ENV_PREFIX}CONVERSION_WINDOW_DAYS must be 1..90")
        for action_key, rate in self.conversion_references.items():
            if not 0 < rate <= 1:
                raise SettingsError(
                    f"{ENV_PREFIX}CONVERSION_REFERENCES: {action_key} must be in (0, 1], got {rate}"
                )
        if self.conversion_target_factor < 1:
            raise SettingsError(f"{ENV_PREFIX}CONVERSION_TARGET_FACTOR must be at least 1")
        if self.stall_hours <= 0:
            raise SettingsError(f"{ENV_PREFIX}STALL_HOURS must be positive")
        if not 1 <= self.suggestion_lookback_days <= 730:
            raise SettingsError(f"{ENV_PREFIX}SUGGESTION_LOOKBACK_DAYS must be 1..730")
        if self.min_outcomes < 1:
            raise SettingsError(f"{ENV_PREFIX}MIN_OUTCOMES must be at least 1")
        if not 1 <= self.coaching_history_days <= 730:
            raise SettingsError(f"{ENV_PREFIX}COACHING_HISTORY_DAYS must be 1..730")
        if not 1 <= self.coaching_top <= 50:
            raise SettingsError(f"{ENV_PREFIX}COACHING_TOP must be 1..50")
        if self.coaching_min_instances < 1:
            raise SettingsError(f"{ENV_PREFIX}COACHING_MIN_INSTANCES must be at least 1")
        gaps = self.coaching_gaps
        if min(gaps.completion, gaps.quality, gaps.conversion, gaps.strategy_mix) <= 0:
            raise SettingsError(f"{ENV_PREFIX}COACHING_GAPS must all be positive")
        if not 1 <= self.coaching_cases <= 20:
            raise SettingsError(f"{ENV_PREFIX}COACHING_CASES must be 1..20")
        for name in ("contract_action", "objection_action", "strategy_answer_key"):
            if not getattr(self, name):
                raise SettingsError(f"{ENV_PREFIX}{name.upper()} must not be empty")
        try:
            ZoneInfo(self.timezone)
        except Exception as error:
            raise SettingsError(f"unknown time zone {self.timezone!r}") from error

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as error:
        raise SettingsError(f"{ENV_PREFIX}CONFIG: cannot read {path}: {error}") from error
    if not isinstance(loaded, dict):
        raise SettingsError(f"{ENV_PREFIX}CONFIG: {path} must hold a mapping")
    unknown = sorted(set(loaded) - set(_FIELD_PARSERS))
    if unknown:
        raise SettingsError(f"{ENV_PREFIX}CONFIG: unknown keys {', '.join(unknown)}")
    return loaded


def _env_name(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _number(name: str, value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError) as error:
        raise SettingsError(f"{_env_name(name)} must be a number, got {value!r}") from error


def _whole(name: str, value: Any) -> int:
    number = _number(name, value)
    if number != int(number):
        raise SettingsError(f"{_env_name(name)} must be a whole number, got {value!r}")
    return int(number)


def _text(name: str, value: Any) -> str:
    return str(value).strip()


def _names(name: str, value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else str(value).split(",")
    return tuple(str(item).strip() for item in items if str(item).strip())


def _pairs(name: str, value: Any) -> dict[str, float]:
    """A mapping from YAML, or "key=value,key=value" from a variable."""
    if isinstance(value, dict):
        items = value.items()
    else:
        items = []
        for part in str(value).split(","):
            key, sep, number = part.partition("=")
            if not sep or not key.strip():
                raise SettingsError(f"{_env_name(name)} must be key=value pairs, got {part!r}")
            items.append((key.strip(), number))
    return {str(key): _number(name, number) for key, number in items}


def _weights(name: str, value: Any) -> QualityWeights:
    pairs = _pairs(name, value)
    known = {each.name for each in fields(QualityWeights)}
    unknown = sorted(set(pairs) - known)
    if unknown:
        raise SettingsError(
            f"{_env_name(name)}: unknown components {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return replace(QualityWeights(), **pairs)


def _gaps(name: str, value: Any) -> CoachingGaps:
    pairs = _pairs(name, value)
    known = {each.name for each in fields(CoachingGaps)}
    unknown = sorted(set(pairs) - known)
    if unknown:
        raise SettingsError(
            f"{_env_name(name)}: unknown metrics {', '.join(unknown)} "
            f"(known: {', '.join(sorted(known))})"
        )
    return replace(CoachingGaps(), **pairs)


def _references(name: str, value: Any) -> Mapping[str, float]:
    return MappingProxyType(_pairs(name, value))


_FIELD_PARSERS: dict[str, Callable[[str, Any], Any]] = {
    "red_below": _number,
    "completion_target": _number,
    "quality_weights": _weights,
    "quality_target": _number,
    "conversion_window_days": _whole,
    "conversion_references": _references,
    "conversion_target_factor": _number,
    "contract_action": _text,
    "objection_action": _text,
    "strategy_answer_key": _text,
    "visit_actions": _names,
    "stall_hours": _number,
    "suggestion_lookback_days": _whole,
    "min_outcomes": _whole,
    "coaching_history_days": _whole,
    "coaching_top": _whole,
    "coaching_min_instances": _whole,
    "coaching_gaps": _gaps,
    "coaching_cases": _whole,
}
