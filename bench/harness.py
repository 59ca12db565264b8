"""What every benchmark needs: its own ports, a private Redis, databases in a temp
dir, child processes that are always stopped, and result tables.

Ports 28000-28099 are the benchmarks' own: the projects get their default port
+ 20000 (gateway 28000, catalog 28002, cart 28003, ...), nginx 28080, Redis
28090-28099. Nothing here talks to what `make run` or the tests use.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from statistics import median

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


# --- child processes ----------------------------------------------------------------
@dataclass
class Child:
    name: str
    process: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.process.poll() is None

    def cpu_seconds(self) -> float:
        """CPU time (user + system) used so far by every live process of its group."""
        return group_cpu_seconds(self.process.pid)

    def tail(self, lines: int = 25) -> str:
        try:
            text = self.log_path.read_text(errors="replace").strip().splitlines()
        except OSError:
            return "(no output)"
        return "\n".join(f"    {line}" for line in text[-lines:])


@dataclass
class Workspace:
    """One benchmark's temp dir, environment and children; `with` stops them all.

    Every child runs in its own process group, so stopping one stops whatever it
    spawned too (uvicorn's and Celery's own children, nginx's worker)."""

    name: str
    redis_port: int
    directory: Path = field(init=False)
    children: list[Child] = field(default_factory=list, init=False)
    redis_url: str = field(default="", init=False)
    _redis: object = field(default=None, init=False)
    _database_env: dict = field(default_factory=dict, init=False)
    #: Every process runs with production settings: generated secrets, DEBUG off.
    _production_env: dict = field(default_factory=dict, init=False)

    def __enter__(self) -> Workspace:
        from devtools.production_env import generated_production_env

        self._production_env = generated_production_env()
        self.directory = Path(tempfile.mkdtemp(prefix=f"commerce-bench-{self.name}-"))
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        for child in reversed(self.children):
            self.stop(child)
        self.children.clear()
        if self._redis is not None:
            self._redis.stop()
            self._redis = None
        for url in self._database_env.values():
            drop_postgres_database(url)
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
        from devtools import databases

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

    def env(self, **extra: str) -> dict[str, str]:
        from commerce_core.settings.topology import PROJECTS

        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # every project names its own
        env.update(self._production_env)
        env.update(
            PYTHONUNBUFFERED="1",
            COMMERCE_STATE_DIR=str(self.directory),
            REDIS_URL=self.redis_url,
            PYTHONPATH=os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")])),
            LOG_LEVEL="WARNING",
        )
        for project in PROJECTS:
            port = project_port(project.name)
            env[f"{project.name.upper()}_PORT"] = str(port)
            env[f"{project.name.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{port}"
        env.update(self._database_env)
        env.update(extra)
        return env

    # --- processes --------------------------------------------------------------------
    def start(self, name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None) -> Child:
        log_path = self.directory / f"{name}.log"
        with open(log_path, "wb") as log:
            process = subprocess.Popen(
                list(argv),
                cwd=cwd,
                env=env or self.env(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                process_group=0,
            )
        child = Child(name, process, log_path)
        self.children.append(child)
        return child

    def stop(self, child: Child, *, timeout: float = 10.0) -> None:
        if child.alive():
            _signal_group(child.process, signal.SIGTERM)
            try:
                child.process.wait(timeout)
            except subprocess.TimeoutExpired:
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        # Whatever the leader left behind in its group goes too.
        _signal_group(child.process, signal.SIGKILL)
        if child in self.children:
            self.children.remove(child)

    def run(
        self, name: str, argv: Sequence[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120.0
    ) -> str:
        """Run a command to completion (in its own process group); its output, or BenchError."""
        child = self.start(name, argv, cwd=cwd, env=env)
        try:
            code = child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            code = f"timeout after {timeout:.0f}s"
        finally:
            self.stop(child)
        if code != 0:
            raise BenchError(f"{name} failed ({code}):\n{child.tail()}")
        return child.log_path.read_text(errors="replace")

    def manage(self, project_dir: str, *commands: Sequence[str], timeout: float = 180.0) -> None:
        """Run management commands of one project in a single Django start-up."""
        script = (
            "import django, sys; django.setup(); from django.core.management import call_command\n"
            f"for args in {[list(c) for c in commands]!r}:\n"
            "    call_command(*args)\n"
        )
        self.run(
            f"{project_dir}-manage",
            [PYTHON, "-c", script],
            cwd=REPO_ROOT / project_dir,
            env=self.env(DJANGO_SETTINGS_MODULE="config.settings"),
            timeout=timeout,
        )

    def setup_projects(self, project_dirs: Iterable[str]) -> None:
        """`migrate` and `declare_event_queues` for each project, side by side."""
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor() as pool:
            futures = [
                pool.submit(self.manage, d, ["migrate", "--noinput", "-v", "0"], ["declare_event_queues"])
                for d in project_dirs
            ]
            for future in futures:
                future.result()


def group_cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of the live processes in process group `pgid` (Linux /proc).

    CPU time barely depends on what else the machine is doing, so CPU per request or
    per event stays comparable where wall-clock rates on a busy machine do not."""
    ticks = 0
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields: state, ppid, pgrp, ..., utime (11), stime (12)
            ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def drop_postgres_database(url: str) -> None:
    """Drop a `bench_` database created by `prepare_databases` (best effort)."""
    from urllib.parse import urlsplit, urlunsplit

    import psycopg
    from psycopg import sql

    from devtools import databases

    parts = urlsplit(databases.with_database_name(url, "postgres"))
    try:
        with psycopg.connect(
            urlunsplit(parts._replace(scheme="postgresql")), autocommit=True, connect_timeout=10
        ) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(databases.database_name(url)))
            )
    except psycopg.Error as exc:
        note(f"could not drop {databases.database_name(url)}: {exc}")


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signum)


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
