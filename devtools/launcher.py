"""The whole platform as child processes of one Python process.

`Platform` is what `make run` (devtools/run.py), the end-to-end tests
(tests/conftest.py), the drills and the benchmarks use:

    with Platform(port_offset=10_000, state_dir=tmp, fresh_databases=True) as platform:
        platform.up()                    # setup(), start(), wait_healthy()
        platform.stop_process("cart-worker")
        platform.start_process("cart-worker")
        platform.start_process("gateway-web@18010")   # one more gateway web process
    # leaving the block stops every child and the embedded Redis

What runs comes from one table, `commerce_core.settings.topology.PROJECTS`: for each
project a web process on its port (devtools/commands.py) and an event worker
(Celery), with the project's folder as working directory, run by the one process
supervisor (devtools/supervisor.py): each in its own process group, its output
printed line by line behind its name (`catalog-web | ...`).

Entering the `with` block starts nothing (a failure half-way through `up()` is then
still cleaned up by leaving the block).
"""

from __future__ import annotations

import json
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TextIO

from commerce_core.observability.metrics import PORT_STEP
from commerce_core.settings.env import DEV_ADMIN_PASSWORD
from commerce_core.settings.topology import PROJECTS, Project

from . import databases
from .commands import web_argv, worker_argv
from .redis_server import EmbeddedRedis, choose_redis
from .supervisor import Child, Supervisor, SupervisorError, sigint_ignored

REPO_ROOT = Path(__file__).resolve().parent.parent
KINDS = ("web", "worker")
#: `Platform(redis_url=PRIVATE_REDIS)`: an embedded Redis of its own, whatever else answers.
PRIVATE_REDIS = "private"


class PlatformError(RuntimeError):
    pass


class Platform:
    """Sets up, starts, checks and stops the platform's processes.

    projects: names (or `Project`s) to run, default every project of the topology.
    ports: `{project name: port}`; otherwise `port_offset` + the default port, or,
        without an offset, `<NAME>_PORT` from the environment, or the default port.
    state_dir: where SQLite files live (`COMMERCE_STATE_DIR`), default `<repo>/.var`.
    redis_url: the Redis to use; default `REDIS_URL`, a local Redis on 6379, or an
        embedded redis-server that this object starts and stops. `PRIVATE_REDIS`
        always starts an embedded one (what tests want: a Redis nobody else uses).
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
        self._private_redis = redis_url == PRIVATE_REDIS
        self.redis_url = None if self._private_redis else redis_url
        self.fresh_databases = fresh_databases
        self.python = python
        self._embedded_redis: EmbeddedRedis | None = None
        self.supervisor = Supervisor(output=output, name_width=max(len(f"{p.name}-worker") for p in self.projects))

    @property
    def children(self) -> dict[str, Child]:
        return self.supervisor.children

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

    def project(self, name: str) -> Project:
        return next(p for p in PROJECTS if p.name == name)

    # --- life cycle ------------------------------------------------------------------
    def up(self, *, timeout: float = 120.0) -> dict:
        """setup(), start(), then wait_healthy(); returns the gateway's /health body."""
        self.setup()
        self.start()
        return self.wait_healthy(timeout=timeout)

    def setup(self, *, timeout: float = 300.0, seed: bool = True) -> None:
        """Databases first, then each project's migrate / declare_event_queues /
        ensure_admin / seed_demo_data (devtools/setup_project.py; no demo data
        unless `seed`). Projects run their setup side by side unless two of them
        share one database."""
        self._check_directories()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._ensure_redis()
        env = self.child_env()
        urls = [databases.database_url(p.name, env, self.state_dir) for p in self.projects]
        databases.prepare_databases(urls, fresh=self.fresh_databases, log=self.supervisor.say)
        parallel = len(set(urls)) == len(urls)
        argv = [self.python, "-m", "devtools.setup_project", *([] if seed else ["--no-seed"])]
        env = {**env, "PYTHONPATH": os.pathsep.join(filter(None, [str(self.root), env.get("PYTHONPATH")]))}

        def set_up(project: Project) -> None:
            cwd = self.root / project.directory
            self.supervisor.run(f"{project.name}-setup", argv, cwd=cwd, env=env, timeout=timeout)

        with ThreadPoolExecutor(max_workers=len(self.projects) if parallel else 1) as pool:
            futures = [pool.submit(set_up, p) for p in self.projects]
            try:
                errors = [str(exc) for f in futures if (exc := f.exception()) is not None]
            except BaseException:  # Ctrl-C: do not wait for the setups still running
                for future in futures:
                    future.cancel()
                for project in self.projects:
                    self.supervisor.kill(f"{project.name}-setup")
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
                self.supervisor.say(message)
                raise PlatformError(message)
            time.sleep(interval)

    def start_process(self, name: str, *, env: Mapping[str, str] | None = None) -> None:
        """Start one child (`catalog-web`, `cart-worker`, ...) unless it is running;
        `env` adds to its environment for this run only (a drill's faults, say).
        `<project>-web@<port>` is one more web process of that project on that port
        (e.g. a second gateway process)."""
        child = self.children.get(name)
        if child is not None and child.running:
            return
        argv, cwd, own_env = self._command_of(name)
        self.supervisor.start(name, argv, cwd=cwd, env={**self.child_env(), **own_env, **(env or {})})

    def exited_children(self) -> list[Child]:
        """Children that exited without being asked to."""
        return self.supervisor.exited()

    def kill_process(self, name: str) -> None:
        """Kill one child at once (SIGKILL to its process group), as a crash would."""
        self.supervisor.kill(name)

    def restart_process(self, name: str, *, env: Mapping[str, str] | None = None, timeout: float = 10.0) -> None:
        self.stop_process(name, timeout=timeout)
        self.start_process(name, env=env)

    def manage(self, project: str, *args: str, timeout: float = 120.0) -> str:
        """Run `manage.py <args>` of one project with the platform's environment; its output."""
        cwd = self.root / self.project(project).directory
        try:
            return self.supervisor.run(
                f"{project}-manage", [self.python, "manage.py", *args], cwd=cwd, env=self.child_env(), timeout=timeout
            )
        except SupervisorError as exc:
            raise PlatformError(f"{project}: manage.py {' '.join(args)}: {exc}") from None

    def stop_process(self, name: str, *, timeout: float = 10.0) -> int | None:
        """Stop one child: SIGTERM to its process group, SIGKILL after `timeout`."""
        child = self.children.get(name)
        if child is None:
            return None
        self.supervisor.stop([name], timeout=timeout)
        return child.returncode

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop every child (SIGTERM, then SIGKILL after `timeout`), then the embedded Redis.
        A Ctrl-C meanwhile is ignored: it would leave the rest running."""
        with sigint_ignored():
            self.supervisor.stop(timeout=timeout)
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
        if self._private_redis:
            self._embedded_redis = EmbeddedRedis()
            self.redis_url = self._embedded_redis.start()
            return
        self.redis_url, self._embedded_redis = choose_redis({**os.environ, **self.env_overrides})
        if self._embedded_redis is not None:
            self.supervisor.say(
                f"no Redis at REDIS_URL or 127.0.0.1:6379: started an embedded redis-server at {self.redis_url}"
            )

    def _command_of(self, name: str) -> tuple[list[str], Path, dict[str, str]]:
        """argv, working directory and own environment of a child: `<project>-web`,
        `<project>-worker`, or `<project>-web@<port>`."""
        base, _, extra_port = name.partition("@")
        project_name, _, kind = base.rpartition("-")
        project = next((p for p in self.projects if p.name == project_name), None)
        if project is None or kind not in KINDS or (extra_port and (kind != "web" or not extra_port.isdigit())):
            raise ValueError(f"unknown process {name!r}; known: {', '.join(self.child_names())}")
        env = {}
        if kind == "web":
            port = int(extra_port) if extra_port else self.ports[project.name]
            database = databases.database_url(project.name, self.child_env(), self.state_dir)
            argv = web_argv(
                project, python=self.python, host="127.0.0.1", port=port, on_postgres=databases.is_postgres(database)
            )
            if extra_port:  # its metrics beside its own port, not on the first process's
                env["METRICS_PORT"] = str(port + PORT_STEP["web"])
        else:
            argv = worker_argv(project, python=self.python)
        return argv, self.root / project.directory, env

    def _check_children_alive(self) -> None:
        for child in self.exited_children():
            raise PlatformError(f"{child.name} exited with code {child.returncode}:\n{child.tail()}")
