"""The analytics configuration: defaults, a YAML file, variables over it, refusals."""

from __future__ import annotations

import pytest

from salesflow.core.settings import SettingsError
from services.analytics.config import (
    DEFAULT_REFERENCES,
    AnalyticsConfig,
    CoachingGaps,
    QualityWeights,
)


def test_defaults_are_the_documented_targets():
    config = AnalyticsConfig.from_env({})
    assert (config.red_below, config.completion_target, config.quality_target) == (
        0.85,
        0.90,
        85.0,
    )
    assert config.quality_weights == QualityWeights(30, 20, 30, 20)
    assert (config.conversion_window_days, config.conversion_target_factor) == (7, 1.3)
    assert dict(config.conversion_references) == dict(DEFAULT_REFERENCES)
    assert config.timezone == "Asia/Shanghai"
    assert (config.coaching_history_days, config.coaching_top) == (90, 10)
    assert (config.coaching_min_instances, config.coaching_cases) == (5, 5)
    assert config.coaching_gaps == CoachingGaps(0.10, 10.0, 0.10, 0.25)


def test_coaching_from_variables():
    config = AnalyticsConfig.from_env(
        {
            "SALESFLOW_ANALYTICS_COACHING_HISTORY_DAYS": "60",
            "SALESFLOW_ANALYTICS_COACHING_TOP": "5",
            "SALESFLOW_ANALYTICS_COACHING_GAPS": "quality=5,strategy_mix=0.4",
        }
    )
    assert (config.coaching_history_days, config.coaching_top) == (60, 5)
    assert config.coaching_gaps == CoachingGaps(quality=5.0, strategy_mix=0.4)


def test_variables_win_over_the_yaml_file(tmp_path):
    path = tmp_path / "analytics.yaml"
    path.write_text(
        "red_below: 0.8\n"
        "quality_weights: {evidence: 1, answers: 1, timeliness: 1, feedback: 1}\n"
        "conversion_references: {solution_demo: 0.3, price_negotiation: 0.45}\n"
        "visit_actions: [onsite_diagnosis]\n"
    )
    config = AnalyticsConfig.from_env(
        {
            "SALESFLOW_ANALYTICS_CONFIG": str(path),
            "SALESFLOW_ANALYTICS_RED_BELOW": "0.9",
            "SALESFLOW_ANALYTICS_CONVERSION_WINDOW_DAYS": "14",
        },
        timezone="Europe/Berlin",
    )
    assert config.red_below == 0.9
    assert config.quality_weights == QualityWeights(1, 1, 1, 1)
    assert dict(config.conversion_references) == {"solution_demo": 0.3, "price_negotiation": 0.45}
    assert config.visit_actions == ("onsite_diagnosis",)
    assert (config.conversion_window_days, config.timezone) == (14, "Europe/Berlin")


def test_pairs_from_a_variable():
    config = AnalyticsConfig.from_env(
        {
            "SALESFLOW_ANALYTICS_QUALITY_WEIGHTS": "evidence=50, timeliness=50",
            "SALESFLOW_ANALYTICS_CONVERSION_REFERENCES": "appointment=0.1,legal_review=0.8",
        }
    )
    assert config.quality_weights == QualityWeights(evidence=50, answers=20, timeliness=50)
    assert dict(config.conversion_references) == {"appointment": 0.1, "legal_review": 0.8}


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("RED_BELOW", "1.5", "RED_BELOW"),
        ("RED_BELOW", "high", "must be a number"),
        ("QUALITY_WEIGHTS", "evidence=0,answers=0,timeliness=0,feedback=0", "all be zero"),
        ("QUALITY_WEIGHTS", "speed=3", "unknown components speed"),
        ("QUALITY_WEIGHTS", "evidence", "key=value"),
        ("CONVERSION_REFERENCES", "appointment=2", "appointment must be in (0, 1]"),
        ("CONVERSION_WINDOW_DAYS", "0", "1..90"),
        ("CONVERSION_WINDOW_DAYS", "2.5", "whole number"),
        ("STALL_HOURS", "-1", "positive"),
        ("MIN_OUTCOMES", "0", "at least 1"),
        ("COACHING_HISTORY_DAYS", "0", "1..730"),
        ("COACHING_TOP", "51", "1..50"),
        ("COACHING_MIN_INSTANCES", "0", "at least 1"),
        ("COACHING_GAPS", "completion=0", "must all be positive"),
        ("COACHING_GAPS", "speed=1", "unknown metrics speed"),
        ("COACHING_CASES", "21", "1..20"),
    ],
)
def test_malformed_values_stop_the_process_at_start(name, value, message):
    with pytest.raises(SettingsError) as refused:
        AnalyticsConfig.from_env({f"SALESFLOW_ANALYTICS_{name}": value})
    assert message in str(refused.value)


def test_a_yaml_file_with_unknown_keys_is_refused(tmp_path):
    path = tmp_path / "analytics.yaml"
    path.write_text("red_bellow: 0.8\n")
    with pytest.raises(SettingsError, match="unknown keys red_bellow"):
        AnalyticsConfig.from_env({"SALESFLOW_ANALYTICS_CONFIG": str(path)})
