"""The commands that run a project's processes, in one place for the launcher and
the benchmarks (compose.yaml spells the same commands out)."""

from commerce_core.settings.topology import Project

#: Request threads of a service's web process on SQLite. Two rather than four: a request is
#: CPU work under the GIL but for short waits (SQLite, the broker after a commit),
#: and each wait hands the GIL to another thread. With four threads busy, a page of
#: 20 products made about 620 GIL hand-offs (futex calls) against 95 with two, and
#: cost measurably more CPU (catalog list, cart, orders: 10-20% in paired runs).
#: The second thread keeps the process answering while one request waits on a lock.
WEB_THREADS = 2
#: A read-mostly service (the catalog) runs one: its requests are short reads but
#: for the staff's rare writes, and on SQLite every row read hands the GIL to the
#: other thread and back. Served by Granian under `wrk -c32`, a list page of 20
#: products cost 1.4-1.8 ms of CPU with one thread against 2.0-2.5 ms with two, the
#: product detail 1.0 against 1.3. More reads are served by more processes.
READ_MOSTLY_WEB_THREADS = 1
#: On PostgreSQL a request spends much of its time on round trips to the server,
#: with the GIL released, and more threads overlap those waits: the load benchmark's
#: closed loop made 66.3 and 69.7 paid orders/s with four, against 58.5 and 58.2 with
#: two, in alternating runs. On SQLite the waits are for the file's write lock, which
#: more threads only queue for (103.6 with four, 119.1 with two).
POSTGRES_WEB_THREADS = 4


def web_argv(project: Project, *, python: str, host: str, port: int, on_postgres: bool = False) -> list[str]:
    """The command of a project's web process; `on_postgres`: its database is
    PostgreSQL (as in compose.yaml), not SQLite."""
    if project.interface == "asgi":
        return [
            python,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            host,
            "--port",
            str(port),
            "--loop",
            "uvloop",
            "--http",
            "httptools",
            "--no-access-log",
            # Pushed frames are encoded once for every socket; compressing them per
            # socket would cost each socket a compressor's memory and CPU per event.
            "--ws-per-message-deflate",
            "false",
        ]
    return wsgi_argv(
        "config.wsgi:application",
        python=python,
        host=host,
        port=port,
        cpu_bound=project.cpu_bound,
        threads=_web_threads(project, on_postgres=on_postgres),
    )


def _web_threads(project: Project, *, on_postgres: bool) -> int:
    if project.read_mostly:
        return READ_MOSTLY_WEB_THREADS
    # The auth service's requests are password hashing: CPU, not waits.
    return POSTGRES_WEB_THREADS if on_postgres and not project.cpu_bound else WEB_THREADS


def wsgi_argv(
    app: str, *, python: str, host: str, port: int, cpu_bound: bool = False, threads: int = WEB_THREADS
) -> list[str]:
    """The server of the WSGI application `app` (`module:name`) as a service's web
    process is served; the read-path benchmark serves its reference this way too.

    Granian for the services: its HTTP/1.1 server (hyper, in Rust) parses, frames
    and writes outside the GIL, and a request costs its Python thread only the
    application. gunicorn's gthread worker does all of that in Python: 0.87 ms of CPU
    per request in front of a bare DRF view whose own work is 0.15 ms, against
    0.29 ms for Granian, measured side by side (bench/README.md, "The web server").
    The auth service stays on gunicorn, a process per core, whose hooks keep the
    Prometheus series of several processes summed (ops/gunicorn_per_core.py): there
    a request is ~90 ms of password hashing, and the server's share is noise."""
    if cpu_bound:
        return _gunicorn_per_core(app, python=python, host=host, port=port, threads=threads)
    return [
        python,
        "-m",
        "granian",
        app,
        "--interface",
        "wsgi",
        "--host",
        host,
        "--port",
        str(port),
        "--http",
        "1",
        "--no-ws",
        "--workers",
        "1",
        "--blocking-threads",
        str(threads),
        # An idle keep-alive connection is closed after this long without a request:
        # well above the gateway's idle reuse (4 s), so a pooled connection is never
        # closed under a request.
        "--http1-header-read-timeout",
        "30000",
        # On SIGTERM, requests in flight get this long to finish.
        "--workers-kill-timeout",
        "5",
    ]


def _gunicorn_per_core(app: str, *, python: str, host: str, port: int, threads: int) -> list[str]:
    # Keep-alive well above the gateway's idle reuse (4 s), so a pooled connection is
    # never closed under a request; no control socket, since several run side by side.
    return [
        python,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "gthread",
        "--config",
        "python:commerce_core.ops.gunicorn_per_core",
        "--threads",
        str(threads),
        "--keep-alive",
        "75",
        "--graceful-timeout",
        "5",
        "--no-control-socket",
    ]


def worker_argv(project: Project, *, python: str, loglevel: str = "INFO") -> list[str]:
    return [
        python,
        "-m",
        "celery",
        "-A",
        "config.celery",
        "worker",
        # Domain events are consumed by the worker's own thread (commerce_core.events.worker);
        # Celery's pool only runs internal tasks, of which there are none on the hot path.
        "--pool",
        "solo",
        "--loglevel",
        loglevel,
        "--hostname",
        f"{project.name}@%h",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
    ]
