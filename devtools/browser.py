"""The headless browser of the end-to-end tests: Debian's `chromium` package, driven by
Playwright for Python.

Playwright cannot download its own browser builds on the machines this project runs
on, so the tests launch the system's Chromium (`executable_path`). `ensure_chromium()`
installs Debian's package when `/usr/bin/chromium` is missing (apt-get, as root) and
costs one `stat` when it is present. When it cannot be installed (no network, no
apt-get, not root) it raises `BrowserUnavailable` saying why: the browser tests then
fail with that message, they never skip silently.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
PACKAGE = "chromium"
#: Headless in a container as root, with nothing that reaches out to the network or
#: a GPU: the page under test is the only thing the browser talks to.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
#: Another process may hold dpkg's lock (an installation running beside this one).
APT_OPTIONS = ["-o", "DPkg::Lock::Timeout=600", "-o", "Acquire::Retries=2", "-q"]
APT_TIMEOUT_SECONDS = 900


class BrowserUnavailable(RuntimeError):
    pass


def ensure_chromium(executable: Path = CHROMIUM) -> Path:
    """The Chromium executable, installed first if it is missing."""
    if _is_executable(executable):
        return executable
    if shutil.which("apt-get") is None:
        raise BrowserUnavailable(f"{executable} is missing and there is no apt-get to install {PACKAGE!r} with")
    if os.geteuid() != 0:
        raise BrowserUnavailable(f"{executable} is missing; install it as root: apt-get install -y {PACKAGE}")
    attempts = [_apt("install", "-y", "--no-install-recommends", PACKAGE)]
    if attempts[-1].returncode != 0 or not _is_executable(executable):
        # The package lists may be missing or stale (a new machine): update them, once.
        attempts.append(_apt("update"))
        attempts.append(_apt("install", "-y", "--no-install-recommends", PACKAGE))
    if not _is_executable(executable):
        output = "\n".join(f"$ {' '.join(a.args)}\n{_tail(a.stdout)}" for a in attempts)
        raise BrowserUnavailable(
            f"could not install Debian's {PACKAGE!r} package ({executable} is still missing); "
            f"is the network (Debian's package mirrors) reachable?\n{output}"
        )
    return executable


def _apt(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        return subprocess.run(
            ["apt-get", *APT_OPTIONS, *args],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=APT_TIMEOUT_SECONDS,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        output = exc.stdout.decode(errors="replace") if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return subprocess.CompletedProcess(exc.cmd, 124, f"timed out after {exc.timeout:.0f}s\n{output}")


def _is_executable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def _tail(text: str, lines: int = 15) -> str:
    return "\n".join((text or "").strip().splitlines()[-lines:])
