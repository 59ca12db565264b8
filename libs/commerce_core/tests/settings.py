"""A minimal project for testing the shared library against real Redis and a real
database: the shared defaults, the library's optional apps (`customers`), one app
(`busapp`) with test-only event types and one (`inputapp`) with a small API over
columns of every kind.

Redis: `REDIS_URL` (tests create and delete only their own queues and bindings,
named after this run), else the local default."""

import os

from commerce_core.settings.base import *  # noqa: F403
from commerce_core.settings.base import COMMERCE_EVENTS, INSTALLED_APPS, build_databases
from commerce_core.settings.env import LOCAL_STATE_DIR

# Queue names carry the pid so that runs sharing a Redis never consume each other's messages.
SERVICE_NAME = f"bustest{os.getpid()}"
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "commerce_core.customers", "tests.busapp", "tests.inputapp"]
DATABASES = build_databases("bustest")
COMMERCE_EVENTS = {**COMMERCE_EVENTS, "MAX_RETRIES": 2, "RETRY_BACKOFF_SECONDS": 0.05, "RELAY_INTERVAL_SECONDS": 0.2}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not Django's shared in-memory database: the embedded worker's threads
    # write beside the test, which needs SQLite's file locking and busy timeout.
    DATABASES["default"]["TEST"] = {"NAME": str(LOCAL_STATE_DIR / f"test_bustest_{os.getpid()}.sqlite3")}

# The embedded worker's pool threads must not keep connections past their task, or
# the test database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0
