"""The commands that run a project's processes, in one place for the launcher and
the benchmarks (compose.yaml spells the same commands out)."""

from commerce_core.settings.topology import Project

#: Request threads of a service's web process. Two rather than four: a request is
#: CPU work under the GIL but for short waits (SQLite, the broker after a commit),
#: and each wait hands the GIL to another thread. With four threads busy, a page of
#: 20 products made about 620 GIL hand-offs (futex calls) against 95 with two, and
#: cost measurably more CPU (catalog list, cart, orders: 10-20% in paired runs).
#: The second thread keeps the process answering while one request waits on a lock.
WEB_THREADS = 2


def web_argv(project: Project, *, python: str, host: str, port: int) -> list[str]:
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
    return wsgi_argv("config.wsgi:application", python=python, host=host, port=port, cpu_bound=project.cpu_bound)


def wsgi_argv(app: str, *, python: str, host: str, port: int, cpu_bound: bool = False) -> list[str]:
    """gunicorn serving the WSGI application `app` (`module:name`) as a service's web
    process is served; the read-path benchmark serves its reference this way too."""
    # Keep-alive well above the gateway's idle reuse (4 s), so a pooled connection is
    # never closed under a request; no control socket, since several run side by side.
    # A CPU-bound service runs a process per core (commerce_core/ops/gunicorn_per_core.py).
    processes = ["--config", "python:commerce_core.ops.gunicorn_per_core"] if cpu_bound else ["--workers", "1"]
    return [
        python,
        "-m",
        "gunicorn",
        app,
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "gthread",
        *processes,
        "--threads",
        str(WEB_THREADS),
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
