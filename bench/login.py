"""Sign-in: the CPU the auth service spends per token request, and the strength of
its password hashing against Django's PBKDF2 default it replaced.

The auth service runs as the platform runs it (`devtools.commands.web_argv`: gunicorn,
a process per core), served directly. A customer whose password was hashed with the
current first hasher (Argon2id) asks for tokens `requests` times, one after another;
CPU per request is the CPU time of the service's process group during those requests,
above its idle CPU, divided by their number. A second customer, whose password was
stored by PBKDF2 (what earlier releases stored), signs in once: the row shows that the
hash was upgraded to the current hasher at that sign-in.

Reference, measured in the same run: one PBKDF2-SHA256 hash at Django's default
iterations, the cost of a sign-in before, in this process.

Target: at most 100 ms of CPU per token request.
"""

from __future__ import annotations

import json
import time
import urllib.request
from dataclasses import dataclass

from commerce_core.settings.topology import SERVICES
from devtools.commands import web_argv

from .harness import PYTHON, REPO_ROOT, BenchError, Table, Workspace, note, verdict, wait_for_port

PORT_OFFSET = 25_000  # auth on 33001
REDIS_PORT = 33_090
TARGET_CPU_MS = 100.0
PASSWORD = "Correct-horse-battery-staple-7"
AUTH = next(project for project in SERVICES if project.name == "auth")

SEED = f"""\
import django
django.setup()
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
User = get_user_model()
User.objects.create_user("bench-current", "current@example.com", {PASSWORD!r})
User.objects.create(username="bench-earlier", email="earlier@example.com",
                    password=make_password({PASSWORD!r}, hasher="pbkdf2_sha256"))
print("HASHER=" + User.objects.get(username="bench-current").password.split("$", 1)[0])
"""

STORED_HASHER = """\
import django
django.setup()
from django.contrib.auth import get_user_model
print("HASHER=" + get_user_model().objects.get(username="bench-earlier").password.split("$", 1)[0])
"""

PBKDF2_CPU = """\
import time
from django.conf import settings
settings.configure()
from django.contrib.auth.hashers import PBKDF2PasswordHasher
hasher = PBKDF2PasswordHasher()
started = time.process_time()
for _ in range(3):
    hasher.encode("a password", hasher.salt())
print(f"CPU={(time.process_time() - started) / 3} ITERATIONS={hasher.iterations}")
"""


@dataclass
class Options:
    requests: int = 30


def run(options: Options | None = None) -> Table:
    options = options or Options()
    port = AUTH.default_port + PORT_OFFSET
    with Workspace("login", redis_port=REDIS_PORT) as ws:
        ws.start_redis()
        databases = ws.prepare_databases(["auth"])
        note("setting up the auth service")
        ws.setup_projects(["auth"])
        env = ws.env(DJANGO_SETTINGS_MODULE="config.settings")
        hasher = _value(ws.run("seed", [PYTHON, "-c", SEED], cwd=REPO_ROOT / AUTH.directory, env=env), "HASHER")
        auth = ws.start(
            "auth-web", web_argv(AUTH, python=PYTHON, host="127.0.0.1", port=port), cwd=REPO_ROOT / AUTH.directory
        )
        wait_for_port(port, timeout=60, alive=lambda: auth.running, what="auth-web")
        url = f"http://127.0.0.1:{port}/api/auth/token/"
        for _ in range(3):  # warm-up: every gunicorn process loads its code
            _token(url, "bench-current")

        idle_before, idle_started = auth.cpu_seconds(), time.monotonic()
        time.sleep(2.0)
        idle_rate = (auth.cpu_seconds() - idle_before) / (time.monotonic() - idle_started)
        note(f"{options.requests} token requests")
        cpu_before, started = auth.cpu_seconds(), time.monotonic()
        for _ in range(options.requests):
            _token(url, "bench-current")
        elapsed = time.monotonic() - started
        cpu_ms = ((auth.cpu_seconds() - cpu_before) - idle_rate * elapsed) * 1000 / options.requests

        _token(url, "bench-earlier")
        upgraded = _value(
            ws.run("stored-hasher", [PYTHON, "-c", STORED_HASHER], cwd=REPO_ROOT / AUTH.directory, env=env), "HASHER"
        )
        reference = ws.run("pbkdf2", [PYTHON, "-c", PBKDF2_CPU], cwd=REPO_ROOT, env=env)
        pbkdf2_ms = float(_value(reference, "CPU")) * 1000
        iterations = _value(reference, "ITERATIONS")

    table = Table("login: CPU per token request (auth service, served directly)")
    table.row(
        f"CPU per token request ({hasher}), {options.requests} requests",
        f"{cpu_ms:.0f} ms",
        f"PBKDF2 hash alone {pbkdf2_ms:.0f} ms",
        f"{cpu_ms / pbkdf2_ms:.2f}",
        f"≤ {TARGET_CPU_MS:.0f} ms — {verdict(cpu_ms <= TARGET_CPU_MS)}",
    )
    table.row(
        "a PBKDF2 hash stored by an earlier release, after one sign-in",
        upgraded,
        "pbkdf2_sha256",
        target=f"{hasher} — {verdict(upgraded == hasher)}",
    )
    table.notes.append(
        f"Databases: {databases}. Reference: Django's PBKDF2-SHA256 at {iterations} iterations, the first "
        f"hasher before; the current one's parameters are in commerce_core/identity/passwords.py. Requests one "
        f"after another over HTTP/1.1 from this process; CPU above the service's idle CPU."
    )
    return table


def _token(url: str, username: str) -> dict:
    request = urllib.request.Request(
        url,
        data=json.dumps({"username": username, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())
    except OSError as exc:
        raise BenchError(f"token request for {username} failed: {exc}") from None


def _value(output: str, name: str) -> str:
    for line in output.splitlines():
        for part in line.split():
            if part.startswith(f"{name}="):
                return part.split("=", 1)[1]
    raise BenchError(f"no {name}= in:\n{output}")
