"""docker-compose.yml stays valid: every salesflow process is declared and wired."""

from __future__ import annotations

from pathlib import Path

import yaml

from salesflow.core.settings import SERVICES

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_declares_every_service_with_its_module():
    services = compose()["services"]
    for name in ("worker", *SERVICES):
        command = services[name]["command"]
        assert command[:2] == ["python", "-m"]
        module = command[2]
        assert (ROOT / Path(*module.split(".")) / "__main__.py").exists() or (
            ROOT / Path(*module.split(".")).with_suffix(".py")
        ).exists(), module


def test_compose_services_wait_for_migration_and_healthy_dependencies():
    services = compose()["services"]
    for name in (*SERVICES, "worker"):
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["nats"]["condition"] == "service_healthy"
    for name in ("postgres", "nats", "temporal"):
        assert "healthcheck" in services[name]


def test_compose_holds_no_default_secret_and_publishes_only_on_loopback():
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${POSTGRES_PASSWORD:?" in text
    for service in compose()["services"].values():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), port


def test_every_setting_in_compose_is_a_known_setting():
    from salesflow.core.settings import SERVICES, Settings

    environment = compose()["x-salesflow-env"]
    known = set(Settings.__dataclass_fields__) | {f"{service}_host" for service in SERVICES}
    for key in environment:
        if key.startswith("SALESFLOW_"):
            assert key.removeprefix("SALESFLOW_").lower() in known, key


def test_the_registration_script_names_every_search_attribute_the_workflow_sets():
    from workflows.pipeline.workflow import SEARCH_ATTRIBUTE_TYPES

    script = (ROOT / "deploy" / "register-search-attributes.sh").read_text()
    compose_text = (ROOT / "docker-compose.yml").read_text()
    for name, kind in SEARCH_ATTRIBUTE_TYPES.items():
        assert f"{name}={kind}" in script
        assert f"{name}={kind}" in compose_text


def test_each_container_reaches_the_others_by_name_never_by_its_bind_address():
    from salesflow.core.settings import SERVICES, Settings

    environment = compose()["x-salesflow-env"]
    settings = Settings.from_env({key: str(value) for key, value in environment.items()})
    for service in SERVICES:
        port = getattr(settings, f"{service}_port")
        assert settings.target(service) == f"{service}:{port}"

    bound_everywhere = Settings.from_env({"SALESFLOW_GRPC_HOST": "0.0.0.0"})
    assert bound_everywhere.target("evidence") == "127.0.0.1:50052"
