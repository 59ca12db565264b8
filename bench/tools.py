"""External programs the benchmarks drive: wrk and nginx, installed from Debian when
missing and possible."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from .harness import Skip, note

_EXTRA_PATH = ("/usr/sbin", "/usr/local/sbin", "/sbin")


def find_or_install(binary: str, package: str) -> str:
    """The path of `binary`; `apt-get install -y <package>` when it is missing and we
    may; Skip when it cannot be had."""
    path = _which(binary)
    if path:
        return path
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise Skip(f"`{binary}` is not installed and cannot be installed here (apt-get install {package})")
    note(f"{binary} is missing: apt-get install -y {package}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    attempt = ["apt-get", "install", "-y", "--no-install-recommends", package]
    done = subprocess.run(attempt, env=env, capture_output=True, timeout=300)
    if done.returncode != 0:  # perhaps the package lists are missing or old
        subprocess.run(["apt-get", "update"], env=env, capture_output=True, timeout=300)
        done = subprocess.run(attempt, env=env, capture_output=True, timeout=300)
    path = _which(binary)
    if not path:
        raise Skip(f"`{binary}` could not be installed (apt-get install {package} exited {done.returncode})")
    return path


def _which(binary: str) -> str | None:
    return shutil.which(binary) or shutil.which(binary, path=os.pathsep.join(_EXTRA_PATH))


# --- wrk ----------------------------------------------------------------------------
@dataclass
class WrkResult:
    requests_per_second: float
    requests: int
    errors: int  # non-2xx/3xx responses plus socket errors


def run_wrk(
    wrk: str, url: str, *, duration: float, connections: int = 32, threads: int = 1, headers: dict | None = None
) -> WrkResult:
    argv = [wrk, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s", "--timeout", "5s"]
    for name, value in (headers or {}).items():
        argv += ["-H", f"{name}: {value}"]
    argv.append(url)
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60, start_new_session=True)
    out = done.stdout
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if done.returncode != 0 or not rps:
        raise RuntimeError(f"wrk failed ({done.returncode}): {out} {done.stderr}")
    total = re.search(r"(\d+) requests in", out)
    errors = 0
    if non_2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        errors += int(non_2xx.group(1))
    if socket_errors := re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out):
        errors += sum(int(n) for n in socket_errors.groups())
    return WrkResult(float(rps.group(1)), int(total.group(1)) if total else 0, errors)


# --- nginx --------------------------------------------------------------------------
NGINX_CONF = """\
{user}worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    access_log off;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;

    upstream catalog {{
        server 127.0.0.1:{upstream_port};
        keepalive 32;
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://catalog;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
        }}
    }}
}}
"""


def nginx_argv(nginx: str, directory: Path, *, port: int, upstream_port: int) -> list[str]:
    """Write a one-worker reverse-proxy configuration in `directory`; the command that runs it."""
    directory.mkdir(parents=True, exist_ok=True)
    conf = directory / "nginx.conf"
    # As root, nginx would hand its worker to `nobody`, who cannot enter the private temp dir.
    user = "user root;\n" if os.geteuid() == 0 else ""
    conf.write_text(NGINX_CONF.format(user=user, dir=directory, port=port, upstream_port=upstream_port))
    return [nginx, "-p", str(directory), "-e", str(directory / "nginx-error.log"), "-c", str(conf)]
