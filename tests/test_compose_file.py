"""compose.yaml is valid Compose and runs every project the way the launcher does.
Plain file checks: no platform, no Docker."""

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from commerce_core.observability.metrics import PORT_STEP
from commerce_core.settings.topology import PROJECTS
from devtools.commands import web_argv, worker_argv

COMPOSE_FILE = Path(__file__).resolve().parent.parent / "compose.yaml"
PROMETHEUS_FILE = COMPOSE_FILE.parent / "compose/prometheus.yml"


@pytest.fixture(scope="module")
def compose():
    return yaml.safe_load(COMPOSE_FILE.read_text())


def test_the_compose_file_follows_the_compose_specification():
    result = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", "vendor.compose-spec", str(COMPOSE_FILE)],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("project", PROJECTS, ids=lambda p: p.name)
def test_every_project_has_a_web_and_a_worker_container_in_its_folder(compose, project):
    services = compose["services"]
    web, worker = services[f"{project.name}-web"], services[f"{project.name}-worker"]

    for container in (web, worker):
        assert container["working_dir"] == f"/app/{project.directory}"
        assert container["image"] == web["image"]  # one image for every project
    # The same commands as `make run` on PostgreSQL (devtools/commands.py), minus `python -m`.
    assert (
        web["command"]
        == web_argv(project, python="python", host="0.0.0.0", port=project.default_port, on_postgres=True)[2:]
    )
    assert worker["command"] == worker_argv(project, python="python")[2:]
    assert "healthcheck" in web


def test_only_the_gateway_publishes_a_port_and_prometheus_its_ui_on_loopback_only(compose):
    publishing = sorted(name for name, service in compose["services"].items() if service.get("ports"))

    assert publishing == ["gateway-web", "prometheus"]
    assert any(str(p).endswith(":8000") for p in compose["services"]["gateway-web"]["ports"])
    assert compose["services"]["prometheus"]["ports"] == ["127.0.0.1:9090:9090"]


def test_prometheus_scrapes_every_process_on_its_own_metrics_port(compose):
    config = yaml.safe_load(PROMETHEUS_FILE.read_text())
    targets = {  # every replica of a compose service: its name's A records, on the port
        job["job_name"]: sorted(f"{name}:{sd['port']}" for sd in job["dns_sd_configs"] for name in sd["names"])
        for job in config["scrape_configs"]
    }
    web = [f"{p.name}-web:{p.default_port + (PORT_STEP['web'] if p.name == 'gateway' else 0)}" for p in PROJECTS]
    workers = [f"{p.name}-worker:{p.default_port + PORT_STEP['worker']}" for p in PROJECTS]

    assert targets == {"web": sorted(web), "worker": sorted(workers)}
    assert compose["x-environment"]["METRICS_HOST"] == "0.0.0.0"  # reachable from Prometheus's container


def test_redis_keeps_queued_events_and_never_evicts_them(compose):
    command = " ".join(compose["services"]["redis"]["command"])

    assert "--appendonly yes" in command
    assert "--maxmemory-policy noeviction" in command
    assert compose["services"]["redis"]["volumes"]


def test_the_gateway_finds_every_service_by_its_container_name(compose):
    environment = compose["services"]["gateway-web"]["environment"]

    for project in PROJECTS:
        url = environment[f"{project.name.upper()}_SERVICE_URL"]
        assert url == f"http://{project.name}-web:{project.default_port}"
