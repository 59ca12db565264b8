"""Cross-service end-to-end tests: the whole platform as real processes, started once
per test session by the `platform` fixture.

Where it runs, so that it never touches what `make run` uses:
- ports 18000-18005 (the default ports + 10000; gateway on 18000), or the default
  ports + `E2E_PORT_OFFSET` when set, so that two runs can share a machine;
- a fresh temporary state directory (SQLite files, `platform.log` with every
  process's output, printed at the end of the run);
- databases: SQLite in that directory; when `DATABASE_URL` (or a
  `<SERVICE>_DATABASE_URL`) names PostgreSQL, the same server with the database
  names prefixed `e2e_`, dropped and recreated at the start;
- Redis: when `REDIS_URL` is set the tests own that Redis database and empty it
  (FLUSHDB) at the start, so point it at a database nothing else uses (CI uses
  db 15); otherwise a private embedded redis-server on a free port;
- the event broker: that Redis, or `BROKER_URL` when it names RabbitMQ, whose
  event queues (`<service>.events`) the tests then own and delete at the start.

How it runs: as in production, never in development mode. Secrets and the admin
password are generated for the session (devtools/production_env.py); tests read the
admin's from the running platform (`platform.platform.admin_credentials`, which
`journeys.log_in_as_operator` uses), never from a default.

Traced: every process appends its spans to `spans.jsonl` in the state directory
(`TRACE_SPANS_FILE`, commerce_core/observability/span_file.py), which the `spans`
fixture reads, so a test can follow one trace across every process.
"""

from __future__ import annotations

import atexit
import os
from dataclasses import dataclass
from pathlib import Path

import pytest
import redis

from devtools import databases
from devtools.brokers import empty_event_queues
from devtools.launcher import PRIVATE_REDIS, Platform, PlatformError
from devtools.production_env import generated_production_env

PORT_OFFSET = int(os.environ.get("E2E_PORT_OFFSET", "10000"))
DATABASE_PREFIX = "e2e_"
HEALTH_TIMEOUT_SECONDS = 180

_log_files: list[Path] = []


@dataclass(frozen=True)
class RunningPlatform:
    """What a test needs to talk to the platform."""

    base_url: str  # the gateway, e.g. http://127.0.0.1:18000
    ws_url: str  # ws://127.0.0.1:18000/ws/events/
    redis_url: str
    broker_url: str  # BROKER_URL when set (RabbitMQ), else the same Redis
    platform: Platform  # stop_process("cart-worker") / start_process("cart-worker")
    spans_file: Path  # every process's finished spans, one JSON line each

    def url(self, path: str) -> str:
        return self.base_url + path


@pytest.fixture(scope="session")
def platform(tmp_path_factory) -> RunningPlatform:
    state_dir = tmp_path_factory.mktemp("platform")
    log_path = state_dir / "platform.log"
    _log_files.append(log_path)

    redis_url = os.environ.get("REDIS_URL")
    if redis_url:
        client = redis.Redis.from_url(redis_url)
        client.flushdb()  # the tests own this database (see the module docstring)
        client.close()
    broker_url = os.environ.get("BROKER_URL", "")
    if broker_url and not broker_url.startswith("redis"):
        empty_event_queues(broker_url)

    spans_file = state_dir / "spans.jsonl"
    tracing_env = {"TRACE_SPANS_FILE": str(spans_file), "OTEL_BSP_SCHEDULE_DELAY": "200"}
    with open(log_path, "w", buffering=1) as log:
        running = Platform(
            port_offset=PORT_OFFSET,
            state_dir=state_dir,
            redis_url=redis_url or PRIVATE_REDIS,
            env={
                **databases.prefixed_database_env(DATABASE_PREFIX, state_dir),
                **generated_production_env(),
                **tracing_env,
            },
            fresh_databases=True,
            output=log,
        )
        atexit.register(running.stop)  # should the session end without its teardown
        with running:
            try:
                running.up(timeout=HEALTH_TIMEOUT_SECONDS)
            except PlatformError as exc:
                pytest.fail(f"the platform did not start (output in {log_path}):\n{exc}", pytrace=False)
            yield RunningPlatform(
                running.gateway_url,
                running.ws_url,
                running.redis_url,
                broker_url or running.redis_url,
                running,
                spans_file,
            )


def pytest_terminal_summary(terminalreporter):
    for path in _log_files:
        terminalreporter.write_line(f"platform output: {path}")


@pytest.fixture
def listen(platform):
    """`listen(customer, *events)`: a WebSocket authenticated as `customer` and
    subscribed to `events`, closed when the test ends."""
    from devtools.journeys import EventSocket

    sockets = []

    def open_socket(customer, *events):
        sockets.append(EventSocket.listening_as(platform.ws_url, customer, *events))
        return sockets[-1]

    yield open_socket
    for socket in sockets:
        socket.close()


@pytest.fixture
def healthy_afterwards(platform):
    """For a test that stops, kills or restarts processes: once it is done, wait until
    the platform is whole and healthy again (a restarted worker takes a few seconds to
    report), so that the next test starts from a running platform."""
    yield
    platform.platform.wait_healthy(timeout=HEALTH_TIMEOUT_SECONDS)


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium (Debian's package) driven by Playwright, for the modules that
    test pages. Installed first when missing (`devtools/browser.py`); when it cannot
    be, the test fails saying why instead of being skipped."""
    from playwright.sync_api import sync_playwright

    from devtools.browser import LAUNCH_ARGS, BrowserUnavailable, ensure_chromium

    try:
        executable = ensure_chromium()
    except BrowserUnavailable as exc:
        pytest.fail(f"the browser tests need Chromium: {exc}", pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=LAUNCH_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()
