"""The commands that run a project's processes, in one place for the launcher and
the benchmarks (compose.yaml spells the same commands out)."""

from commerce_core.settings.topology import Project

#: Request threads of a service's web process.
WEB_THREADS = 4


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
    # Keep-alive well above the gateway's idle reuse (4 s), so a pooled connection is
    # never closed under a request; no control socket, since several run side by side.
    # A CPU-bound service runs a process per core (commerce_core/ops/gunicorn_per_core.py).
    processes = ["--config", "python:commerce_core.ops.gunicorn_per_core"] if project.cpu_bound else ["--workers", "1"]
    return [
        python,
        "-m",
        "gunicorn",
        "config.wsgi:application",
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
