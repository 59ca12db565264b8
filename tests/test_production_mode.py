"""With DEBUG off and outside development mode, no process of the platform starts on
a development secret, an open ALLOWED_HOSTS or the default admin password: it exits
(status 3; Granian, whose worker exits so, reports 1) with one line naming the
variable, and no server starts the refused worker again.

Each case starts a real process of a project, as the launcher would, with
production settings (devtools/production_env.py) and one thing wrong."""

import subprocess
import sys
from pathlib import Path

import pytest

from commerce_core.settings.env import DEV_ADMIN_PASSWORD, DEV_JWT_SECRET
from commerce_core.settings.topology import GATEWAY, PROJECTS
from devtools.commands import web_argv, worker_argv
from devtools.production_env import generated_production_env

REPO_ROOT = Path(__file__).resolve().parent.parent
AUTH = next(p for p in PROJECTS if p.name == "auth")
CATALOG = next(p for p in PROJECTS if p.name == "catalog")
MANAGE_CHECK = [sys.executable, "manage.py", "check"]


def start(argv, project, tmp_path, **changes) -> subprocess.CompletedProcess:
    env = {
        "PATH": "/usr/bin:/bin",
        "COMMERCE_STATE_DIR": str(tmp_path),
        "REDIS_URL": "redis://127.0.0.1:1/0",  # never reached: the refusal comes first
        **generated_production_env(),
        **changes,
    }
    env = {name: value for name, value in env.items() if value is not None}
    return subprocess.run(argv, cwd=REPO_ROOT / project.directory, env=env, capture_output=True, text=True, timeout=60)


def refusal_lines(result: subprocess.CompletedProcess) -> list[str]:
    return [line for line in (result.stdout + result.stderr).splitlines() if line.startswith("refusing to start")]


REFUSED = {
    "a development Django secret key": ({"DJANGO_SECRET_KEY": None}, "DJANGO_SECRET_KEY is the development default"),
    "a development JWT secret": ({"JWT_SECRET": DEV_JWT_SECRET}, "JWT_SECRET is the development default"),
    "a missing gateway identity secret": (
        {"GATEWAY_IDENTITY_SECRET": None},
        "GATEWAY_IDENTITY_SECRET is the development default",
    ),
    "a short JWT secret": ({"JWT_SECRET": "s3cret"}, "JWT_SECRET is shorter than 32 characters"),
    "no allowed hosts": ({"DJANGO_ALLOWED_HOSTS": None}, "DJANGO_ALLOWED_HOSTS is empty"),
    "any host allowed": ({"DJANGO_ALLOWED_HOSTS": "shop.example,*"}, "DJANGO_ALLOWED_HOSTS contains '*'"),
    "the default admin password": (
        {"ADMIN_PASSWORD": DEV_ADMIN_PASSWORD},
        "ADMIN_PASSWORD is the development default",
    ),
    "no admin password": ({"ADMIN_PASSWORD": None}, "ADMIN_PASSWORD is the development default"),
}


@pytest.mark.parametrize(("changes", "named"), REFUSED.values(), ids=REFUSED.keys())
def test_a_management_command_refuses_to_start_on(tmp_path, changes, named):
    result = start(MANAGE_CHECK, AUTH, tmp_path, **changes)

    assert result.returncode == 3
    [line] = refusal_lines(result)
    assert named in line
    assert "Traceback" not in result.stderr


PROCESSES = {
    "the auth service's web process (gunicorn)": (
        lambda: web_argv(AUTH, python=sys.executable, host="127.0.0.1", port=1),
        AUTH,
        3,
    ),
    # Granian binds its port, then its worker loads the application and exits 3;
    # Granian then stops (it restarts no failed worker) with status 1.
    "a service's web process (Granian)": (
        lambda: web_argv(CATALOG, python=sys.executable, host="127.0.0.1", port=0),
        CATALOG,
        1,
    ),
    "a service's event worker (celery)": (lambda: worker_argv(AUTH, python=sys.executable), AUTH, 3),
    "the gateway's web process (uvicorn)": (
        lambda: web_argv(GATEWAY, python=sys.executable, host="127.0.0.1", port=1),
        GATEWAY,
        3,
    ),
    "the gateway's event worker (celery)": (lambda: worker_argv(GATEWAY, python=sys.executable), GATEWAY, 3),
}


@pytest.mark.parametrize(("argv", "project", "status"), PROCESSES.values(), ids=PROCESSES.keys())
def test_every_kind_of_process_refuses_to_start_on_a_development_secret(tmp_path, argv, project, status):
    result = start(argv(), project, tmp_path, JWT_SECRET=None)

    assert result.returncode == status
    assert any("JWT_SECRET is the development default" in line for line in refusal_lines(result))


def test_a_process_with_production_settings_starts(tmp_path):
    result = start(MANAGE_CHECK, AUTH, tmp_path)

    assert result.returncode == 0, result.stderr
    assert refusal_lines(result) == []


@pytest.mark.parametrize("switch", [{"DEVELOPMENT_MODE": "true"}, {"DJANGO_DEBUG": "true"}])
def test_development_mode_or_debug_accepts_the_development_defaults(tmp_path, switch):
    unset = dict.fromkeys(
        ["DJANGO_SECRET_KEY", "JWT_SECRET", "GATEWAY_IDENTITY_SECRET", "DJANGO_ALLOWED_HOSTS", "ADMIN_PASSWORD"]
    )
    result = start(MANAGE_CHECK, AUTH, tmp_path, **{"DEVELOPMENT_MODE": None, "DJANGO_DEBUG": None, **unset, **switch})

    assert result.returncode == 0, result.stderr
