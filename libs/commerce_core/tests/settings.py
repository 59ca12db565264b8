"""A minimal project for testing the shared library against real Redis and a real
database: the shared defaults, the library's optional apps (`customers`), one app
(`busapp`) with test-only event types and one (`inputapp`) with a small API over
columns of every kind.

Redis: `REDIS_URL` when set (the tests own that database and may empty it, as the
end-to-end tests do), else a private embedded redis-server for the run. Broker:
`BROKER_URL` (Redis by default, RabbitMQ with `amqp://`); the tests create and
delete only their own queues, named after this run."""

import atexit
import os

if not os.environ.get("REDIS_URL"):
    # A private Redis for this run: the tests empty it (FLUSHDB) to play a Redis
    # restarted without persistence, so they never use a Redis someone else uses.
    from devtools.redis_server import EmbeddedRedis

    _embedded_redis = EmbeddedRedis()
    os.environ["REDIS_URL"] = _embedded_redis.start()
    atexit.register(_embedded_redis.stop)

from commerce_core.settings.base import *  # noqa: E402, F403
from commerce_core.settings.base import COMMERCE_EVENTS, INSTALLED_APPS, build_databases  # noqa: E402
from commerce_core.settings.env import LOCAL_STATE_DIR  # noqa: E402

# Queue names carry the pid so that runs sharing a Redis never consume each other's messages.
SERVICE_NAME = f"bustest{os.getpid()}"
ROOT_URLCONF = "tests.urls"
INSTALLED_APPS = [*INSTALLED_APPS, "commerce_core.customers", "tests.busapp", "tests.inputapp"]
DATABASES = build_databases("bustest")
OTHER_SERVICE_NAME = f"{SERVICE_NAME}-other"
COMMERCE_EVENTS = {
    **COMMERCE_EVENTS,
    "MAX_RETRIES": 2,
    "RETRY_BACKOFF_SECONDS": 0.05,
    "RETRY_BACKOFF_MAX_SECONDS": 0.2,
    "RELAY_INTERVAL_SECONDS": 0.2,
    # This run's own routing: the test service and a second subscriber of one type.
    "SUBSCRIPTIONS": {
        SERVICE_NAME: {
            "bustest.thing.happened",
            "bustest.thing.failed",
            "bustest.thing.pushed",
            "bustest.thing.tallied",
            "auth.user.registered",
            "auth.user.updated",
        },
        OTHER_SERVICE_NAME: {"bustest.thing.happened"},
    },
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # A file, not Django's shared in-memory database: the embedded worker's threads
    # write beside the test, which needs SQLite's file locking and busy timeout.
    DATABASES["default"]["TEST"] = {"NAME": str(LOCAL_STATE_DIR / f"test_bustest_{os.getpid()}.sqlite3")}

# The embedded worker's pool threads must not keep connections past their task, or
# the test database cannot be dropped at the end of the run.
DATABASES["default"]["CONN_MAX_AGE"] = 0
