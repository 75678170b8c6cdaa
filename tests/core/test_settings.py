"""Settings refuse malformed values at start, naming the variable; the CLI's caller role
from the environment is checked like --role."""

from __future__ import annotations

import pytest

from salesflow.cli.main import _parser
from salesflow.core.settings import Settings, SettingsError


@pytest.mark.parametrize(
    "variable, value, words",
    [
        ("SALESFLOW_PIPELINE_PORT", "70000", "from 1 to 65535, got 70000"),
        ("SALESFLOW_ANALYTICS_PORT", "0", "at least 1"),
        ("SALESFLOW_EVIDENCE_PORT", "fifty", "must be an integer"),
        ("SALESFLOW_SMTP_PORT", "65536", "from 1 to 65535"),
        ("SALESFLOW_LOG_LEVEL", "verbose", "DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("SALESFLOW_NATS_URL", "127.0.0.1:4222", "nats://host:port or tls://host:port"),
        ("SALESFLOW_NATS_URL", "http://127.0.0.1:4222", "nats://host:port"),
        ("SALESFLOW_NATS_URL", "nats://", "nats://host:port"),
        ("SALESFLOW_NATS_URL", "nats://127.0.0.1:99999", "bad port"),
        ("SALESFLOW_TEMPORAL_ADDRESS", "127.0.0.1", "host:port"),
        ("SALESFLOW_TEMPORAL_ADDRESS", "http://temporal:7233", "host:port"),
        ("SALESFLOW_TEMPORAL_ADDRESS", "temporal:72333", "host:port"),
        ("SALESFLOW_TEMPORAL_ADDRESS", ":7233", "host:port"),
        ("SALESFLOW_SEARCH_ATTRIBUTES", "yes", "1 (on), 0 or empty (off)"),
        ("SALESFLOW_TIMEZONE", "localtime", "an IANA zone"),
        ("SALESFLOW_TIMEZONE", "Factory", "an IANA zone"),
    ],
)
def test_malformed_values_are_refused_naming_the_variable(variable, value, words):
    env = {variable: value}
    if variable == "SALESFLOW_SMTP_PORT":
        env.update(SALESFLOW_SMTP_HOST="mail.example.com", SALESFLOW_SMTP_FROM="a@example.com")
    with pytest.raises(SettingsError) as refused:
        Settings.from_env(env)
    assert variable in str(refused.value)
    assert words in str(refused.value)


def test_well_formed_values_are_taken():
    settings = Settings.from_env(
        {
            "SALESFLOW_PIPELINE_PORT": "65535",
            "SALESFLOW_LOG_LEVEL": "debug",
            "SALESFLOW_NATS_URL": "tls://nats-1.internal:4222,tls://nats-2.internal:4222",
            "SALESFLOW_TEMPORAL_ADDRESS": "[::1]:7233",
            "SALESFLOW_SEARCH_ATTRIBUTES": "0",
        }
    )
    assert settings.pipeline_port == 65535
    assert settings.log_level == "DEBUG"
    assert settings.temporal_address == "[::1]:7233"
    assert settings.search_attributes is False
    assert Settings.from_env({"SALESFLOW_SEARCH_ATTRIBUTES": "1"}).search_attributes
    assert Settings.from_env({"SALESFLOW_TEMPORAL_ADDRESS": "temporal:7233"})


@pytest.mark.parametrize("role", ["boss", "Bossy Rep"])
def test_an_unknown_caller_role_from_the_environment_is_a_clear_message(role, monkeypatch, capsys):
    monkeypatch.setenv("SALESFLOW_CALLER_ROLE", role)
    with pytest.raises(SystemExit) as exited:
        _parser().parse_args(["pipeline", "show", "OPP-1"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert f"unknown role {role!r} (from --role or SALESFLOW_CALLER_ROLE)" in err
    assert "rep, manager, director" in err
    assert "Traceback" not in err


def test_caller_roles_are_taken_in_any_case(monkeypatch):
    monkeypatch.setenv("SALESFLOW_CALLER_ROLE", "Rep")
    assert _parser().parse_args(["pipeline", "show", "OPP-1"]).role == "rep"
    options = _parser().parse_args(["pipeline", "show", "OPP-1", "--role", "SALES_OPS"])
    assert options.role == "sales_ops"
