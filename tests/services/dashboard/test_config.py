"""The dashboard's configuration, its viewer parameters and its periods, without a server."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from salesflow.core.caller import Role
from salesflow.core.errors import InvalidArgument
from salesflow.core.settings import SettingsError
from services.dashboard.config import DEFAULT_VIEWER, DashboardConfig
from services.dashboard.periods import period_from_query, presets
from services.dashboard.snapshot import pipeline_path, request_key
from services.dashboard.viewer import viewer_from_query

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_the_defaults_are_a_local_director_on_8080():
    config = DashboardConfig.from_env({})
    assert (config.host, config.port) == ("127.0.0.1", 8080)
    assert config.viewer == DEFAULT_VIEWER
    assert (DEFAULT_VIEWER.role, DEFAULT_VIEWER.regions) == (Role.DIRECTOR, frozenset({"*"}))


def test_the_variables_name_port_host_and_viewer():
    config = DashboardConfig.from_env(
        {
            "SALESFLOW_DASHBOARD_PORT": "9090",
            "SALESFLOW_DASHBOARD_HOST": "0.0.0.0",
            "SALESFLOW_DASHBOARD_VIEWER": "Dustin Brinkmann",
            "SALESFLOW_DASHBOARD_VIEWER_ROLE": "Manager",
            "SALESFLOW_DASHBOARD_VIEWER_REGIONS": "Central, East",
        }
    )
    assert (config.host, config.port) == ("0.0.0.0", 9090)
    assert config.viewer.id == "Dustin Brinkmann"
    assert config.viewer.role is Role.MANAGER
    assert config.viewer.regions == frozenset({"Central", "East"})


@pytest.mark.parametrize(
    ("name", "value", "problem"),
    [
        ("SALESFLOW_DASHBOARD_PORT", "eighty", "integer"),
        ("SALESFLOW_DASHBOARD_PORT", "70000", "port"),
        ("SALESFLOW_DASHBOARD_VIEWER_ROLE", "boss", "must be one of"),
        ("SALESFLOW_DASHBOARD_VIEWER_ROLE", "system", "must be one of"),
    ],
)
def test_malformed_variables_stop_at_start(name, value, problem):
    with pytest.raises(SettingsError, match=problem):
        DashboardConfig.from_env({name: value})


def test_the_address_replaces_parts_of_the_configured_viewer():
    assert viewer_from_query({}, DEFAULT_VIEWER) == DEFAULT_VIEWER
    manager = viewer_from_query(
        {"as": "Dustin Brinkmann", "role": "manager", "regions": "Central"}, DEFAULT_VIEWER
    )
    assert (manager.id, manager.role, manager.regions) == (
        "Dustin Brinkmann",
        Role.MANAGER,
        frozenset({"Central"}),
    )
    # Naming only the person keeps the configured role and regions.
    named = viewer_from_query({"as": "Anna"}, DEFAULT_VIEWER)
    assert (named.role, named.regions) == (Role.DIRECTOR, frozenset({"*"}))
    with pytest.raises(InvalidArgument, match="role"):
        viewer_from_query({"role": "system"}, DEFAULT_VIEWER)


def test_presets_end_with_the_week_of_the_latest_instance():
    first = datetime(2016, 10, 20, 1, 0, tzinfo=UTC)
    # Sunday 2017-12-31 20:00 UTC is Monday 2018-01-01 04:00 in Shanghai.
    last = datetime(2017, 12, 31, 20, 0, tzinfo=UTC)
    found = presets(first, last, SHANGHAI, now=datetime(2026, 1, 1, tzinfo=UTC))

    assert (found["week"].first, found["week"].last) == (date(2018, 1, 1), date(2018, 1, 7))
    assert found["4w"].first == date(2017, 12, 11)
    assert (found["quarter"].last - found["quarter"].first).days + 1 == 91
    assert (found["year"].last - found["year"].first).days + 1 == 364
    assert found["all"].first == date(2016, 10, 20)
    # A period is [first day's midnight, the midnight after the last day) in the zone.
    assert found["week"].start == datetime(2017, 12, 31, 16, 0, tzinfo=UTC)
    assert found["week"].end == datetime(2018, 1, 7, 16, 0, tzinfo=UTC)


def test_all_data_is_cut_to_the_analytics_limit_and_nothing_recorded_is_this_week():
    found = presets(
        datetime(2015, 1, 1, tzinfo=UTC), datetime(2019, 6, 5, tzinfo=UTC), SHANGHAI, now=None
    )
    assert (found["all"].last - found["all"].first).days + 1 == 732

    now = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)  # a Friday
    empty = presets(None, None, SHANGHAI, now)
    assert (empty["week"].first, empty["all"].first) == (date(2026, 11, 30), date(2026, 11, 30))


def test_days_cross_a_clock_change_in_the_zone():
    berlin = ZoneInfo("Europe/Berlin")
    period = period_from_query("2025-03-30", "2025-03-30", berlin)
    assert (period.end - period.start).total_seconds() == 23 * 3600


@pytest.mark.parametrize(
    ("raw_from", "raw_to", "field"),
    [
        ("", "2025-01-01", "from"),
        ("2025-01-02", "2025-01-01", "to"),
        ("2020-01-01", "2025-01-01", "to"),
    ],
)
def test_a_period_is_two_days_in_order_and_at_most_732_days(raw_from, raw_to, field):
    with pytest.raises(InvalidArgument) as refused:
        period_from_query(raw_from, raw_to, SHANGHAI)
    assert refused.value.field == field


def test_snapshot_keys_are_the_pages_request_keys():
    assert request_key("/api/overview", {}) == "/api/overview"
    assert (
        request_key("/api/heatmap", {"to": "2017-12-31", "group": "rep", "region": "", "from": "x"})
        == "/api/heatmap?from=x&group=rep&to=2017-12-31"
    )
    # As encodeURIComponent writes an id.
    assert pipeline_path("A B/C!*'()~") == "/api/pipelines/A%20B%2FC!*'()~"
