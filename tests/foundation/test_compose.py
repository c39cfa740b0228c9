"""docker-compose.yml cannot run here (no Docker engine), so check what the apps need is
in it: every app, its port, its own database role, the settings names make run uses,
healthchecks, and migrations before the apps."""

from pathlib import Path

import yaml

from common.reference_data import REPO_ROOT
from kkb.database import SERVICES, role_name
from kkb.stack import APPS as ALL_APPS

# The Dukcapil simulator is a development stand-in; production points at the real service.
APPS = tuple(a for a in ALL_APPS if a.name != "dukcapil_sim")

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES_IN_COMPOSE = COMPOSE["services"]


def env_of(name: str) -> dict[str, str]:
    return SERVICES_IN_COMPOSE[name]["environment"]


def test_every_app_is_there_with_its_port_and_factory():
    for app in APPS:
        service = SERVICES_IN_COMPOSE[app.name]
        command = " ".join(service["command"])
        assert app.factory in command
        assert f"--port {app.default_port}" in command
        assert service["healthcheck"]["test"], f"{app.name} has no healthcheck"
        assert f":{app.default_port}/readyz" in " ".join(service["healthcheck"]["test"])
        assert service["depends_on"]["setup"]["condition"] == "service_completed_successfully"
    assert "8000:8000" in SERVICES_IN_COMPOSE["gateway"]["ports"]


def test_each_app_connects_as_its_own_role():
    for service in SERVICES:
        url = env_of(service)[f"{service.upper()}_DATABASE_URL"]
        assert url.startswith(f"postgresql://{role_name(service)}:")
        assert "${KKB_DB_PASSWORD_" + service.upper() + "}" in url


def test_settings_names_match_make_run():
    from kkb.stack import Stack

    stack = Stack("postgresql://postgres@localhost/kkb")
    for app in APPS:
        env = env_of(app.name)
        make_run_env = stack.environment(app.name)
        for required in (
            "KKB_INTERNAL_SECRET",
            "KKB_PII_KEY",
            "KKB_HASH_KEY",
            "KKB_REFERENCE_DATA",
        ):
            assert required in env, f"{app.name} lacks {required}"
        for key in env:
            if key.startswith(f"{app.name.upper()}_") and key.endswith("_URL"):
                assert key in make_run_env, f"{key} is not a name make run uses"
    for key in ("GATEWAY_REGISTRY_URL", "GATEWAY_INTERVENTIONS_URL", "GATEWAY_REPORTING_URL"):
        assert key in env_of("gateway")
    assert env_of("interventions")["INTERVENTIONS_REGISTRY_URL"] == "http://registry:8001"
    assert env_of("reporting")["REPORTING_INTERVENTIONS_URL"] == "http://interventions:8002"


def test_setup_job_migrates_with_the_admin_connection_and_postgres_is_healthy():
    setup = SERVICES_IN_COMPOSE["setup"]
    assert setup["command"][:2] == ["kkb", "setup"]
    assert "DATABASE_URL" in setup["environment"]
    assert setup["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "pg_isready" in " ".join(SERVICES_IN_COMPOSE["postgres"]["healthcheck"]["test"])


def test_one_dockerfile_builds_every_app():
    dockerfile = Path(REPO_ROOT / "Dockerfile").read_text()
    for package in ("common", "gateway", "services", "kkb", "migrations"):
        assert f"COPY {package} {package}" in dockerfile
    images = {SERVICES_IN_COMPOSE[a.name].get("image") for a in APPS}
    assert images == {"kampung-kb:latest"}
