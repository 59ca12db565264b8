"""The whole platform as child processes of one Python process.

`Platform` is what `make run` (devtools/run.py) and the end-to-end tests
(tests/conftest.py) both use:

    with Platform(port_offset=10_000, state_dir=tmp, fresh_databases=True) as platform:
        platform.up()                    # setup(), start(), wait_healthy()
        platform.stop_process("cart-worker")
        platform.start_process("cart-worker")
        platform.start_process("gateway-web@18010")   # one more gateway web process
    # leaving the block stops every child and the embedded Redis

What runs comes from one table, `commerce_core.settings.topology.PROJECTS`: for each
project a web process on its port (devtools/commands.py) and an event worker (Celery), each with
the project's folder as working directory and in its own process group, so that a
Ctrl-C in the terminal reaches only the launcher, which then stops them in order.
Their output is printed line by line behind their name (`catalog-web | ...`).

Entering the `with` block starts nothing (a failure half-way through `up()` is then
still cleaned up by leaving the block).
"""

from __future__ import annotations

import collections
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TextIO

from commerce_core.observability.metrics import PORT_STEP
from commerce_core.settings.env import DEV_ADMIN_PASSWORD
from commerce_core.settings.topology import PROJECTS, Project

from . import databases
from .commands import web_argv, worker_argv
from .redis_server import EmbeddedRedis, choose_redis

REPO_ROOT = Path(__file__).resolve().parent.parent
KINDS = ("web", "worker")


class PlatformError(RuntimeError):
    pass


@dataclass
class Child:
    """One process of the platform: `<project>-web` or `<project>-worker`."""

    name: str
    project: Project
    argv: list[str]
    cwd: Path
    process: subprocess.Popen | None = None
    pump: threading.Thread | None = None
    recent: collections.deque = field(default_factory=lambda: collections.deque(maxlen=200))
    env: dict = field(default_factory=dict)  # its own, on top of the platform's
    stopping: bool = False  # stopped on purpose: its exit is not a failure

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None


class Platform:
    """Sets up, starts, checks and stops the platform's processes.

    projects: names (or `Project`s) to run, default every project of the topology.
    ports: `{project name: port}`; otherwise `port_offset` + the default port, or,
        without an offset, `<NAME>_PORT` from the environment, or the default port.
    state_dir: where SQLite files live (`COMMERCE_STATE_DIR`), default `<repo>/.var`.
    redis_url: the Redis to use; default `REDIS_URL`, a local Redis on 6379, or an
        embedded redis-server that this object starts and stops.
    env: extra environment for every child (e.g. `<SERVICE>_DATABASE_URL`).
    fresh_databases: drop and recreate PostgreSQL databases before migrating.
    output: where the children's prefixed lines go (None: nowhere; see `recent_output`).
    """

    def __init__(
        self,
        *,
        projects: Iterable[str | Project] | None = None,
        ports: Mapping[str, int] | None = None,
        port_offset: int = 0,
        state_dir: str | Path | None = None,
        redis_url: str | None = None,
        env: Mapping[str, str] | None = None,
        fresh_databases: bool = False,
        output: TextIO | None = sys.stdout,
        root: str | Path = REPO_ROOT,
        python: str = sys.executable,
    ):
        self.root = Path(root)
        self.projects = self._select(projects)
        self.env_overrides = dict(env or {})
        self.ports = {p.name: self._port_of(p, ports or {}, port_offset) for p in PROJECTS}
        self.state_dir = Path(
            state_dir
            or self.env_overrides.get("COMMERCE_STATE_DIR")
            or os.environ.get("COMMERCE_STATE_DIR")
            or self.root / ".var"
        ).resolve()
        self.redis_url = redis_url
        self.fresh_databases = fresh_databases
        self.output = output
        self.python = python
        self.children: dict[str, Child] = {}
        self._embedded_redis: EmbeddedRedis | None = None
        self._setup_processes: set[subprocess.Popen] = set()
        self._print_lock = threading.Lock()
        self._width = max(len(f"{p.name}-worker") for p in self.projects)

    # --- where things are ------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.ports['gateway']}/ws/events/"

    @property
    def health_url(self) -> str:
        return f"{self.gateway_url}/health"

    def service_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"

    def metrics_url(self, child: str) -> str:
        """Where a process's Prometheus metrics are: `/metrics` on a service's own port,
        or the internal port of the gateway's web process and of every event worker
        (commerce_core.observability.metrics.PORT_STEP: the project's port + 9 or + 50)."""
        base, _, extra_port = child.partition("@")
        project, _, kind = base.rpartition("-")
        if kind == "web" and project != "gateway":
            return f"{self.service_url(project)}/metrics"
        port = int(extra_port) if extra_port else self.ports[project]
        return f"http://127.0.0.1:{port + PORT_STEP[kind]}/metrics"

    @property
    def admin_credentials(self) -> tuple[str, str]:
        """(username, password) of the staff superuser every project was set up with."""
        env = self.child_env()
        return env.get("ADMIN_USERNAME", "admin"), env.get("ADMIN_PASSWORD", DEV_ADMIN_PASSWORD)

    def child_names(self) -> list[str]:
        return [f"{p.name}-{kind}" for p in self.projects for kind in KINDS]

    def recent_output(self, name: str) -> list[str]:
        """The last lines a child printed (kept even when `output` is None)."""
        child = self.children.get(name)
        return list(child.recent) if child else []

    # --- life cycle ------------------------------------------------------------------
    def up(self, *, timeout: float = 120.0) -> dict:
        """setup(), start(), then wait_healthy(); returns the gateway's /health body."""
        self.setup()
        self.start()
        return self.wait_healthy(timeout=timeout)

    def setup(self, *, timeout: float = 300.0) -> None:
        """Databases first, then each project's migrate / declare_event_queues /
        ensure_admin / seed_demo_data (devtools/setup_project.py). Projects run their
        setup side by side unless two of them share one database."""
        self._check_directories()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_redis()
        env = self.child_env()
        urls = [databases.database_url(p.name, env, self.state_dir) for p in self.projects]
        databases.prepare_databases(urls, fresh=self.fresh_databases, log=self._say)
        parallel = len(set(urls)) == len(urls)
        with ThreadPoolExecutor(max_workers=len(self.projects) if parallel else 1) as pool:
            futures = [pool.submit(self._setup_project, p, env, timeout) for p in self.projects]
            try:
                errors = [str(exc) for f in futures if (exc := f.exception()) is not None]
            except BaseException:  # Ctrl-C: do not wait for the setups still running
                for future in futures:
                    future.cancel()
                for process in list(self._setup_processes):
                    _signal_group(process, signal.SIGKILL)
                raise
        if errors:
            raise PlatformError("setup failed:\n" + "\n".join(errors))

    def start(self) -> None:
        """Start a web process and an event worker for every project."""
        self._check_directories()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_redis()
        for name in self.child_names():
            self.start_process(name)

    def wait_healthy(self, *, timeout: float = 120.0, interval: float = 1.0) -> dict:
        """Poll the gateway's /health until it answers 200. Fails early when a child
        exits, and on timeout names the last answer."""
        deadline = time.monotonic() + timeout
        last = "no answer yet"
        while True:
            self._check_children_alive()
            try:
                with urllib.request.urlopen(self.health_url, timeout=5) as response:
                    body = response.read().decode(errors="replace")
                    if response.status == 200:
                        return json.loads(body) if body else {}
                    last = f"{response.status} {body}"
            except urllib.error.HTTPError as exc:
                last = f"{exc.code} {exc.read().decode(errors='replace')}"
            except (urllib.error.URLError, OSError) as exc:
                last = f"no answer: {getattr(exc, 'reason', exc)}"
            if time.monotonic() >= deadline:
                message = f"{self.health_url} not healthy after {timeout:.0f}s; last answer: {last}"
                self._say(message)
                raise PlatformError(message)
            time.sleep(interval)

    def start_process(self, name: str, *, env: Mapping[str, str] | None = None) -> None:
        """Start one child (`catalog-web`, `cart-worker`, ...) unless it is running;
        `env` adds to its environment for this run only (a drill's faults, say).
        `<project>-web@<port>` is one more web process of that project on that port
        (e.g. a second gateway process)."""
        child = self.children.get(name) or self._make_child(name)
        if child.running:
            return
        self.children[name] = child
        child.stopping = False
        child.process = subprocess.Popen(
            child.argv,
            cwd=child.cwd,
            env={**self.child_env(), **child.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        child.pump = self._pump(name, child.process.stdout, child.recent)

    def exited_children(self) -> list[Child]:
        """Children that exited without being asked to."""
        return [
            c
            for c in self.children.values()
            if c.process is not None and not c.stopping and c.process.poll() is not None
        ]

    def kill_process(self, name: str) -> None:
        """Kill one child at once (SIGKILL to its process group), as a crash would."""
        child = self.children.get(name)
        if child is None or not child.running:
            return
        child.stopping = True
        _signal_group(child.process, signal.SIGKILL)
        child.process.wait()
        if child.pump is not None:
            child.pump.join(timeout=5)

    def restart_process(self, name: str, *, env: Mapping[str, str] | None = None, timeout: float = 10.0) -> None:
        self.stop_process(name, timeout=timeout)
        self.start_process(name, env=env)

    def manage(self, project: str, *args: str, timeout: float = 120.0) -> str:
        """Run `manage.py <args>` of one project with the platform's environment; its output."""
        project_dir = self.root / next(p.directory for p in self.projects if p.name == project)
        result = subprocess.run(
            [self.python, "manage.py", *args],
            cwd=project_dir,
            env=self.child_env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if result.returncode != 0:
            raise PlatformError(f"{project}: manage.py {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout

    def stop_process(self, name: str, *, timeout: float = 10.0) -> int | None:
        """Stop one child: SIGTERM to its process group, SIGKILL after `timeout`."""
        child = self.children.get(name)
        if child is None:
            return None
        self._terminate([child], timeout)
        return child.process.returncode if child.process else None

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop every child (SIGTERM, then SIGKILL after `timeout`), then the embedded Redis.
        A Ctrl-C meanwhile is ignored: it would leave the rest running."""
        with _sigint_ignored():
            self._terminate(list(self.children.values()), timeout)
            if self._embedded_redis is not None:
                self._embedded_redis.stop()
                self._embedded_redis = None

    def __enter__(self) -> Platform:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()

    # --- environment -----------------------------------------------------------------
    def child_env(self) -> dict[str, str]:
        """The environment of every child: ours, the overrides, and where everything is."""
        env = dict(os.environ)
        env.pop("DJANGO_SETTINGS_MODULE", None)  # every project names its own
        env.update(self.env_overrides)
        env.update(PYTHONUNBUFFERED="1", COMMERCE_STATE_DIR=str(self.state_dir))
        if self.redis_url:
            env["REDIS_URL"] = self.redis_url
        for project in PROJECTS:
            port = self.ports[project.name]
            env[f"{project.name.upper()}_PORT"] = str(port)
            env[f"{project.name.upper()}_SERVICE_URL"] = f"http://127.0.0.1:{port}"
        return env

    # --- internals -------------------------------------------------------------------
    @staticmethod
    def _select(projects) -> list[Project]:
        if projects is None:
            return list(PROJECTS)
        by_name = {p.name: p for p in PROJECTS}
        wanted = {p.name if isinstance(p, Project) else p for p in projects}
        unknown = wanted - by_name.keys()
        if unknown:
            raise ValueError(f"unknown project(s) {sorted(unknown)}; known: {sorted(by_name)}")
        return [p for p in PROJECTS if p.name in wanted]

    def _port_of(self, project: Project, ports: Mapping[str, int], offset: int) -> int:
        if project.name in ports:
            return int(ports[project.name])
        if offset:
            return project.default_port + offset
        variable = f"{project.name.upper()}_PORT"
        return int(self.env_overrides.get(variable) or os.environ.get(variable) or project.default_port)

    def _check_directories(self) -> None:
        missing = [p.directory for p in self.projects if not (self.root / p.directory / "manage.py").is_file()]
        if missing:
            raise PlatformError(f"no Django project (manage.py) in: {', '.join(missing)}")

    def _ensure_redis(self) -> None:
        if self.redis_url:
            return
        self.redis_url, self._embedded_redis = choose_redis({**os.environ, **self.env_overrides})
        if self._embedded_redis is not None:
            self._say(f"no Redis at REDIS_URL or 127.0.0.1:6379: started an embedded redis-server at {self.redis_url}")

    def _setup_project(self, project: Project, env: dict[str, str], timeout: float) -> None:
        name = f"{project.name}-setup"
        setup_env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(self.root), env.get("PYTHONPATH")]))}
        recent: collections.deque = collections.deque(maxlen=40)
        process = subprocess.Popen(
            [self.python, "-m", "devtools.setup_project"],
            cwd=self.root / project.directory,
            env=setup_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            process_group=0,
        )
        self._setup_processes.add(process)
        pump = self._pump(name, process.stdout, recent)
        try:
            code = process.wait(timeout)
        except subprocess.TimeoutExpired:
            _signal_group(process, signal.SIGKILL)
            process.wait()
            code = f"timeout after {timeout:.0f}s"
        finally:
            self._setup_processes.discard(process)
        pump.join()
        if code != 0:
            raise PlatformError(f"{name} failed ({code}):\n" + "".join(f"  {line}\n" for line in recent))

    def _make_child(self, name: str) -> Child:
        base, _, extra_port = name.partition("@")
        project_name, _, kind = base.rpartition("-")
        project = next((p for p in self.projects if p.name == project_name), None)
        if project is None or kind not in KINDS or (extra_port and (kind != "web" or not extra_port.isdigit())):
            raise ValueError(f"unknown process {name!r}; known: {', '.join(self.child_names())}")
        env = {}
        if kind == "web":
            port = int(extra_port) if extra_port else self.ports[project.name]
            argv = web_argv(project, python=self.python, host="127.0.0.1", port=port)
            if extra_port:  # its metrics beside its own port, not on the first process's
                env["METRICS_PORT"] = str(port + PORT_STEP["web"])
        else:
            argv = worker_argv(project, python=self.python)
        return Child(name=name, project=project, argv=argv, cwd=self.root / project.directory, env=env)

    def _pump(self, name: str, stream, recent: collections.deque) -> threading.Thread:
        def copy_lines():
            with stream:
                for raw in iter(stream.readline, b""):
                    line = raw.decode(errors="replace").rstrip("\r\n")
                    recent.append(line)
                    self._write(f"{name:<{self._width}} | {line}")

        thread = threading.Thread(target=copy_lines, name=f"output-{name}", daemon=True)
        thread.start()
        return thread

    def _terminate(self, children: list[Child], timeout: float) -> None:
        running = [c for c in children if c.running]
        for child in children:
            child.stopping = True
        for child in running:
            _signal_group(child.process, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for child in running:
            try:
                child.process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._say(f"{child.name} did not stop within {timeout:.0f}s: killing it")
                _signal_group(child.process, signal.SIGKILL)
                child.process.wait()
        for child in children:
            if child.pump is not None:
                child.pump.join(timeout=5)

    def _check_children_alive(self) -> None:
        for child in self.exited_children():
            tail = "".join(f"  {line}\n" for line in list(child.recent)[-30:])
            raise PlatformError(f"{child.name} exited with code {child.process.returncode}:\n{tail}")

    def _say(self, message: str) -> None:
        self._write(f"{'platform':<{self._width}} | {message}")

    def _write(self, line: str) -> None:
        if self.output is None:
            return
        with self._print_lock:
            try:
                self.output.write(line + "\n")
                self.output.flush()
            except (ValueError, OSError):  # the stream was closed under us (interpreter exit)
                pass


@contextlib.contextmanager
def _sigint_ignored():
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _signal_group(process: subprocess.Popen, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signum)
