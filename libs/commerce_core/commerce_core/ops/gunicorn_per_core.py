"""gunicorn settings for a CPU-bound service's web process (`--config python:<this module>`):
one worker process per core this process may run on, or `WEB_PROCESSES` if set.

The auth service hashes a password for every sign-up and sign-in. Argon2 releases
the GIL while it hashes, but everything around it (Django, DRF, the database)
holds it, so one process of threads serves at most one core's worth of requests;
a process per core lets a burst of sign-ins use the whole machine.
"""

import os

workers = int(os.environ.get("WEB_PROCESSES") or 0) or len(os.sched_getaffinity(0))
