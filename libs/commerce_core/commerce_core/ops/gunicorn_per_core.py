"""gunicorn settings for a CPU-bound service's web process (`--config python:<this module>`):
one worker process per core this process may run on, or `WEB_PROCESSES` if set.

The auth service hashes a password for every sign-up and sign-in. Argon2 releases
the GIL while it hashes, but everything around it (Django, DRF, the database)
holds it, so one process of threads serves at most one core's worth of requests;
a process per core lets a burst of sign-ins use the whole machine.

Several processes serve one port, so a scrape of `/metrics` reaches any one of them:
each keeps its Prometheus series in files of a directory made here, in the master,
before any worker imports prometheus_client (it reads `PROMETHEUS_MULTIPROC_DIR`
at import), and `/metrics` answers with the sum of all (observability/metrics.py).
The directory is removed when gunicorn exits.
"""

import os
import shutil
import tempfile

workers = int(os.environ.get("WEB_PROCESSES") or 0) or len(os.sched_getaffinity(0))

if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="prometheus-multiproc-")
    _made_here = os.environ["PROMETHEUS_MULTIPROC_DIR"]
else:
    _made_here = None


def child_exit(server, worker):
    """A worker's live gauges stop counting once it is gone (its counters stay summed)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server):
    if _made_here:
        shutil.rmtree(_made_here, ignore_errors=True)


def on_starting(server):
    """Refuse an insecure production start in the master, before any worker is forked:
    with several workers each refusing on its own, gunicorn's shutdown races and may
    exit 1 instead of 3 (the status that says "refused to start")."""
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()  # the ops app's ready() refuses (exit 3) when the settings are unsafe
