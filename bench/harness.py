"""What every benchmark needs: its own ports, a private Redis, databases in a temp
dir, child processes that are always stopped (by the platform's one supervisor),
and result tables.

Ports 28000-28099 are the benchmarks' own: the projects get their default port
+ 20000 (gateway 28000, catalog 28002, cart 28003, ...), nginx 28080, Redis
28090-28099. Nothing here talks to what `make run` or the tests use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

from devtools import databases
from devtools.launcher import Platform, PlatformError
from devtools.supervisor import Child, Supervisor, SupervisorError

REPO_ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PORT_OFFSET = 20_000
NGINX_PORT = 28080
DATABASE_PREFIX = "bench_"


class BenchError(RuntimeError):
    """The benchmark could not run (a process failed to start, a check failed)."""


class Skip(Exception):
    """The benchmark cannot run on this machine; the message says why."""


def note(message: str) -> None:
    """Progress lines go to stderr, so that stdout holds only the result tables."""
    print(f"  · {message}", file=sys.stderr, flush=True)


# --- ports --------------------------------------------------------------------------
def project_port(name: str) -> int:
    from commerce_core.settings.topology import PROJECTS

    return next(p.default_port for p in PROJECTS if p.name == name) + PORT_OFFSET


def ensure_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            raise BenchError(f"port {port} is in use; the benchmarks need 28000-28099 to themselves") from None


def wait_for_port(port: int, *, timeout: float, alive=lambda: True, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            raise BenchError(f"{what or port} exited before listening on {port}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return
        time.sleep(0.05)
    raise BenchError(f"{what or port} did not listen on {port} within {timeout:.0f}s")


# --- the workspace ------------------------------------------------------------------
#: The gateway's request rate limit, raised for the benchmarks: they flood it from one
#: address on purpose, faster than the default flood guard allows on a fast machine
#: (1,000 requests/s after a burst of 10,000, where one gateway process served 2,500
#: cheap GETs a second and ran out of burst in the third round of `gateway`). The
#: limiter still runs for every request, so its cost stays in the figures.
ONE_ADDRESS_FLOODS = {"GATEWAY_RATE_LIMIT_RATE": "1000000", "GATEWAY_RATE_LIMIT_BURST": "10000000"}


@dataclass
class Workspace:
    """One benchmark's temp dir, environment and children; `with` stops them all.

    Children run under the platform's one process supervisor (devtools.supervisor),
    each in its own process group, so stopping one stops whatever it spawned too
    (uvicorn's and Celery's own children, nginx's worker); each one's output goes to
    `<name>.log` in the temp dir. The projects' environment, setup and commands are
    the launcher's (devtools.launcher.Platform), on the benchmarks' own ports."""

    name: str
    redis_port: int
    directory: Path = field(init=False)
    redis_url: str = field(default="", init=False)
    supervisor: Supervisor = field(init=False)
    _redis: object = field(default=None, init=False)
    _database_env: dict = field(default_factory=dict, init=False)
    #: Every process runs with production settings: generated secrets, DEBUG off.
    _production_env: dict = field(default_factory=dict, init=False)

    def __enter__(self) -> Workspace:
        from devtools.production_env import generated_production_env

        self._production_env = generated_production_env()
        self.directory = Path(tempfile.mkdtemp(prefix=f"commerce-bench-{self.name}-"))
        self.supervisor = Supervisor(output=None, log_dir=self.directory)
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.supervisor.stop()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        databases.drop_databases(self._database_env.values(), log=note)
        self._database_env.clear()
        if os.environ.get("BENCH_KEEP_TEMP"):
            note(f"kept {self.directory}")
        else:
            shutil.rmtree(self.directory, ignore_errors=True)

    # --- Redis and databases ----------------------------------------------------------
    def start_redis(self) -> str:
        from devtools.redis_server import EmbeddedRedis, RedisUnavailable

        ensure_free(self.redis_port)
        self._redis = EmbeddedRedis(port=self.redis_port)
        try:
            self.redis_url = self._redis.start()
        except RedisUnavailable as exc:
            self._redis = None
            raise Skip(f"no redis-server for a private Redis: {exc}") from None
        return self.redis_url

    def prepare_databases(self, projects: Iterable[str]) -> str:
        """SQLite files in the temp dir, or, when `DATABASE_URL` / `<SERVICE>_DATABASE_URL`
        name PostgreSQL, the same server with the database names prefixed `bench_`,
        created afresh and dropped at the end. Returns a description for the tables."""
        kinds = set()
        for project in projects:
            url = databases.database_url(project, os.environ, self.directory)
            if databases.is_postgres(url):
                url = databases.flavoured(url, DATABASE_PREFIX)
                self._database_env[f"{project.upper()}_DATABASE_URL"] = url
                databases.prepare_databases([url], fresh=True, log=note)
                kinds.add("PostgreSQL")
            else:
                kinds.add("SQLite")
        return " + ".join(sorted(kinds))

    def platform(self, projects: Iterable[str] | None = None) -> Platform:
        """The launcher, on the benchmarks' ports, for this workspace's Redis and databases."""
        return Platform(
            projects=projects,
            port_offset=PORT_OFFSET,
            state_dir=self.directory,
            redis_url=self.redis_url,
            env={**self._production_env, **self._database_env, **ONE_ADDRESS_FLOODS, "LOG_LEVEL": "WARNING"},
            output=None,
        )

    def env(self, **extra: str) -> dict[str, str]:
        env = self.platform().child_env()
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
        env.update(extra)
        return env

    # --- processes --------------------------------------------------------------------
    def start(self, name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Child:
        return self.supervisor.start(name, argv, cwd=cwd, env=env or self.env())

    def stop(self, child: Child, *, timeout: float = 10.0) -> None:
        self.supervisor.stop([child.name], timeout=timeout)

    def run(
        self, name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120.0
    ) -> str:
        """Run a command to completion (in its own process group); its output, or BenchError."""
        try:
            return self.supervisor.run(name, argv, cwd=cwd, env=env or self.env(), timeout=timeout)
        except SupervisorError as exc:
            raise BenchError(str(exc)) from None

    def setup_projects(self, names: Iterable[str]) -> None:
        """Each project set up as the launcher does it (migrations, queues, the
        admin), without the demo data, side by side."""
        try:
            self.platform(names).setup(seed=False)
        except PlatformError as exc:
            raise BenchError(str(exc)) from None


@contextlib.contextmanager
def whole_platform(name: str, *, port_offset: int, redis_port: int | None = None, timeout: float = 240.0):
    """The whole platform, started as `make run` starts it but for one benchmark: its
    own ports and private Redis, production settings, SQLite in a temp dir or
    PostgreSQL databases prefixed `bench_<name>_` (made afresh, dropped at the end);
    every process's output in `platform.log` there. Yields the running `Platform`."""
    from devtools.production_env import generated_production_env
    from devtools.redis_server import EmbeddedRedis

    with tempfile.TemporaryDirectory(prefix=f"commerce-bench-{name}-") as state_dir:
        database_env = databases.prefixed_database_env(f"bench_{name}_", state_dir)
        redis = EmbeddedRedis(port=redis_port)
        redis_url = redis.start()
        try:
            with (
                open(f"{state_dir}/platform.log", "w", buffering=1) as log,
                Platform(
                    port_offset=port_offset,
                    state_dir=state_dir,
                    redis_url=redis_url,
                    env={**database_env, **generated_production_env()},
                    fresh_databases=True,
                    output=log,
                ) as platform,
            ):
                note(f"starting the platform (ports from {platform.ports['gateway']})")
                try:
                    platform.up(timeout=timeout)
                except PlatformError as exc:
                    raise BenchError(str(exc)) from None
                yield platform
        finally:
            redis.stop()
            databases.drop_databases(database_env.values(), log=note)


# --- statistics ---------------------------------------------------------------------
def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def median_difference_interval(
    a: Sequence[float], b: Sequence[float], *, rounds: int = 1000, confidence: float = 0.95
) -> tuple[float, float]:
    """A bootstrap confidence interval of median(a) - median(b): how far the noise of
    the samples alone could move the difference."""
    import random

    draw = random.Random(1).choices
    differences = sorted(median(draw(a, k=len(a))) - median(draw(b, k=len(b))) for _ in range(rounds))
    tail = (1 - confidence) / 2
    return differences[int(tail * rounds)], differences[min(rounds - 1, int((1 - tail) * rounds))]


# --- result tables ------------------------------------------------------------------
@dataclass
class Table:
    """One Markdown table per benchmark: `| metric | value | reference | ratio | target |`."""

    title: str
    rows: list[tuple[str, str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def row(self, metric: str, value: str, reference: str = "", ratio: str = "", target: str = "") -> None:
        self.rows.append((metric, value, reference, ratio, target))

    def print(self) -> None:
        header = ("metric", "value", "reference", "ratio", "target")
        widths = [max(len(r[i]) for r in [header, *self.rows]) for i in range(5)]
        print(f"\n### {self.title}\n")
        for cells in [header, tuple("-" * w for w in widths), *self.rows]:
            print("| " + " | ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)) + " |")
        for line in self.notes:
            print(f"\n{line}")
        sys.stdout.flush()


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"
