"""Under load, the gateway answers what the services did, or tells the client to
retry: never a timeout for work a service completed, never a thread held by a
client that sends its body slowly."""

from __future__ import annotations

import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import httpx

from devtools.journeys import http, register_and_log_in

PASSWORD = "correct-horse-battery-staple"
RETRY_LATER = {429, 503}


def _post(client: httpx.Client, path: str, body: dict) -> httpx.Response:
    return client.post(path, json=body)


def _log_in_retrying(client: httpx.Client, username: str, attempts: int = 20) -> int:
    """Sign in as a client told to retry would: after `Retry-After`, a bounded number of times."""
    for _ in range(attempts):
        response = client.post("/api/auth/token/", json={"username": username, "password": PASSWORD})
        if response.status_code not in RETRY_LATER:
            return response.status_code
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return response.status_code


def test_a_burst_of_sign_ups_and_sign_ins_gets_answers_or_retry_laters_but_never_a_timeout(platform):
    with http(platform) as client:
        existing = [register_and_log_in(client).username for _ in range(5)]
    sign_ups = [f"burst_{uuid.uuid4().hex[:10]}" for _ in range(50)]
    requests = [
        ("/api/auth/register/", {"username": name, "email": f"{name}@example.com", "password": PASSWORD})
        for name in sign_ups
    ] + [("/api/auth/token/", {"username": existing[n % 5], "password": PASSWORD}) for n in range(50)]

    # One connection per request, all at once; the client waits longer than the gateway would.
    limits = httpx.Limits(max_connections=len(requests), max_keepalive_connections=len(requests))
    with http(platform, timeout=60, limits=limits) as client, ThreadPoolExecutor(len(requests)) as pool:
        responses = list(pool.map(lambda request: _post(client, *request), requests))

    sign_up_statuses = [r.status_code for r in responses[:50]]
    sign_in_statuses = [r.status_code for r in responses[50:]]
    assert set(sign_up_statuses) <= {201} | RETRY_LATER, sign_up_statuses
    assert set(sign_in_statuses) <= {200} | RETRY_LATER, sign_in_statuses
    for response in responses:
        if response.status_code in RETRY_LATER:
            assert response.headers["Retry-After"]
            assert response.json()["error"]["code"]
    created = [name for name, status in zip(sign_ups, sign_up_statuses, strict=True) if status == 201]
    assert created, "no sign-up of the burst succeeded"
    with http(platform) as client:
        assert [_log_in_retrying(client, name) for name in created] == [200] * len(created)


def test_clients_sending_their_bodies_slowly_hold_no_service_thread(platform):
    """More slow clients than the catalog has threads: while they dribble their bodies
    the catalog still serves others, and each slow client ends with 408."""
    gateway = urlsplit(platform.base_url)
    slow = []
    for _ in range(12):
        sock = socket.create_connection((gateway.hostname, gateway.port), timeout=30)
        sock.sendall(
            b"POST /api/catalog/products/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            b'Content-Length: 1000\r\n\r\n{"name": '
        )
        slow.append(sock)
    try:
        time.sleep(1)
        with http(platform) as client:
            served = [client.get("/api/catalog/products/").status_code for _ in range(5)]
        assert served == [200] * 5

        answers = []
        for sock in slow:
            answers.append(sock.recv(4096).split(b"\r\n", 1)[0])
        assert answers == [b"HTTP/1.1 408 Request Timeout"] * len(slow)
    finally:
        for sock in slow:
            sock.close()
