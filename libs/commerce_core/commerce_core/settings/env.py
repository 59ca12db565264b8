"""The one place deploy-time values are read from the environment.

Development defaults live here so that `make run` works on a fresh machine; every
one of them is overridden by an environment variable of the same name in any real
deployment (compose.yaml shows which).
"""

import os
from collections.abc import Mapping
from pathlib import Path

import environ

env = environ.Env()

#: Repository root; SQLite files and other local state live under `.var/` there.
REPO_ROOT = Path(__file__).resolve().parents[4]
LOCAL_STATE_DIR = Path(env.str("COMMERCE_STATE_DIR", default=str(REPO_ROOT / ".var")))

# Development-only defaults, documented in the README. Never used when the variable is
# set, and refused outside development (settings/production.py).
DEV_SECRET_KEY = "dev-only-django-secret-key-change-me"
DEV_JWT_SECRET = "dev-only-jwt-secret-change-me-0123456789abcdef"
DEV_GATEWAY_SECRET = "dev-only-gateway-identity-secret-change-me-0123456789"
DEV_ADMIN_PASSWORD = "admin"


def redis_url() -> str:
    return env.str("REDIS_URL", default="redis://127.0.0.1:6379/0")


def database_url(service: str, environ: Mapping[str, str] | None = None, state_dir: Path | None = None) -> str:
    """`<SERVICE>_DATABASE_URL`, else `DATABASE_URL`, else a SQLite file of the service's own.

    `DATABASE_URL` may carry a `{service}` placeholder so one value gives every
    service its own PostgreSQL database (e.g. `postgres://127.0.0.1/commerce_{service}`).
    The tooling resolves the URLs of the processes it starts the same way, from the
    environment it gives them (`environ`, `state_dir`).
    """
    environ = os.environ if environ is None else environ
    specific = environ.get(f"{service.upper()}_DATABASE_URL", "")
    if specific:
        return specific
    shared = environ.get("DATABASE_URL", "")
    if shared:
        return shared.replace("{service}", service)
    if state_dir is None:
        state_dir = LOCAL_STATE_DIR
        state_dir.mkdir(parents=True, exist_ok=True)
    return f"sqlite:///{Path(state_dir) / f'{service}.sqlite3'}"
