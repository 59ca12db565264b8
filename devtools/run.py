"""`python -m devtools.run` (what `make run` calls): the whole platform in the foreground.

A development start: it sets `DEVELOPMENT_MODE=true` (unless the environment says
otherwise), so the processes accept the development defaults (secrets, admin /
admin, local host names) that production refuses, and says so. Prints the admin
credentials and the URLs, sets every project up (migrations, event
queues, admin user, demo data), starts a web process and an event worker per
project, waits until the gateway's /health answers 200 and prints "ready". Ctrl-C,
SIGTERM or SIGHUP stops every child it started; so does any child exiting on its
own (the platform is only useful whole), after which it exits 1.
"""

import argparse
import os
import signal
import sys
import time

from .launcher import Platform, PlatformError


class Stop(Exception):
    pass


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


def _stop_on_signal(signum, frame):
    # Stopping takes a few seconds; a second Ctrl-C must not interrupt it half-way.
    for other in STOP_SIGNALS:
        signal.signal(other, signal.SIG_IGN)
    raise Stop(signal.Signals(signum).name)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.run", description=__doc__.splitlines()[0])
    parser.add_argument("--projects", help="comma-separated subset of projects to run (default: all)")
    parser.add_argument("--health-timeout", type=float, default=180.0, help="seconds to wait for /health (180)")
    args = parser.parse_args(argv)

    for signum in STOP_SIGNALS:
        signal.signal(signum, _stop_on_signal)
    development = os.environ.get("DEVELOPMENT_MODE", "true")
    platform = Platform(
        projects=args.projects.split(",") if args.projects else None, env={"DEVELOPMENT_MODE": development}
    )
    username, password = platform.admin_credentials
    gateway = platform.gateway_url
    if development.lower() in ("true", "1", "yes", "on"):
        print(
            "development mode (DEVELOPMENT_MODE=true): development secrets and admin password are accepted; "
            "never expose it (production settings: README, 'Security model')",
            flush=True,
        )
    print(f"admin user:  {username} / {password}  (ADMIN_USERNAME / ADMIN_PASSWORD)", flush=True)
    print(f"gateway:     {gateway}/   health {gateway}/health   API docs {gateway}/api/docs/", flush=True)
    print(f"websocket:   {platform.ws_url}", flush=True)
    print(f"live page:   {gateway}/live/", flush=True)
    for project in platform.projects:
        if project.name != "gateway":
            print(f"{project.name + ':':<12} {platform.service_url(project.name)}/admin/", flush=True)

    code = 0
    try:
        platform.setup()
        platform.start()
        platform.wait_healthy(timeout=args.health_timeout)
        print(f"ready: {gateway}/health answers 200 (Ctrl-C stops everything)", flush=True)
        while not (exited := platform.exited_children()):
            time.sleep(0.5)
        names = ", ".join(f"{c.name} (exit {c.process.returncode})" for c in exited)
        print(f"{names} exited: stopping everything", file=sys.stderr, flush=True)
        code = 1
    except Stop as stop:
        print(f"\n{stop}: stopping every process", flush=True)
    except PlatformError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        code = 1
    finally:
        for signum in STOP_SIGNALS:
            signal.signal(signum, signal.SIG_IGN)
        platform.stop()
    print("stopped", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
