"""Push to clients over the whole platform: real services, the real bus, the real
gateway processes, with WebSocket and Socket.IO clients (python-socketio, and the
stock socket.io-client when Node is installed)."""

from __future__ import annotations

import json
import queue
import shutil
import subprocess
import time
from pathlib import Path

import httpx
import pytest
import socketio

from devtools.journeys import (
    EventSocket,
    add_to_cart,
    create_product,
    eventually,
    http,
    log_in_as_operator,
    register_and_log_in,
)

REPO = Path(__file__).resolve().parent.parent
SOCKETIO_BUNDLE = REPO / "gateway_project/push/static/push/socket.io-4.8.3.min.js"
NODE_CLIENT = Path(__file__).resolve().parent / "node/stock_socketio_client.js"


class SocketIOListener:
    """A python-socketio client of the gateway's `/socket.io/`."""

    def __init__(self, base_url: str, token: str | None = None):
        self.events: queue.Queue = queue.Queue()
        self.client = socketio.Client(reconnection=False)
        self.client.on("*", lambda name, data, meta=None: self.events.put((name, data, meta)))
        self.client.connect(
            base_url, transports=["websocket"], auth={"token": token} if token else None, wait_timeout=10
        )

    def subscribe(self, *events: str, since: dict | None = None) -> dict:
        payload = {"events": list(events), **({"since": since} if since else {})}
        return self.client.call("subscribe", payload, timeout=10)

    def next_event(self, name: str, *, where=lambda data: True, timeout: float = 15) -> tuple[dict, dict]:
        deadline = time.monotonic() + timeout
        while True:
            event, data, meta = self.events.get(timeout=max(0.01, deadline - time.monotonic()))
            if event == name and where(data):
                return data, meta

    def assert_no_event(self, name: str, *, within: float = 2.0) -> None:
        try:
            data, _ = self.next_event(name, timeout=within)
        except queue.Empty:
            return
        raise AssertionError(f"unexpected {name}: {data}")

    def close(self):
        self.client.disconnect()


@pytest.fixture
def socketio_listener(platform):
    listeners = []

    def open_(token: str | None = None, base_url: str | None = None) -> SocketIOListener:
        listeners.append(SocketIOListener(base_url or platform.base_url, token))
        return listeners[-1]

    yield open_
    for listener in listeners:
        listener.close()


@pytest.fixture
def second_gateway(platform):
    """One more gateway web process, on the gateway's port + 10; stopped afterwards."""
    port = platform.platform.ports["gateway"] + 10
    name = f"gateway-web@{port}"
    platform.platform.start_process(name)
    base_url = f"http://127.0.0.1:{port}"

    def answers():
        try:
            return httpx.get(f"{base_url}/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    assert eventually(answers, timeout=60), "the second gateway process did not start"
    yield base_url
    platform.platform.stop_process(name)


def test_both_kinds_of_socket_get_public_events_and_their_own_private_events_only(platform, socketio_listener):
    with http(platform) as client:
        alice, bob = register_and_log_in(client), register_and_log_in(client)
        operator = log_in_as_operator(client)
        alice_sio, bob_sio, anonymous_sio = (
            socketio_listener(alice.access),
            socketio_listener(bob.access),
            socketio_listener(),
        )
        for listener in (alice_sio, bob_sio, anonymous_sio):
            assert listener.subscribe("catalog.product.created", "cart.updated")["refused"] == []
        with EventSocket.listening_as(platform.ws_url, bob, "catalog.product.created", "cart.updated") as bob_ws:
            product = create_product(client, operator, name="Pushed mug")

            for listener in (alice_sio, bob_sio, anonymous_sio):
                data, meta = listener.next_event(
                    "catalog.product.created", where=lambda d: d["product_id"] == product["id"]
                )
                assert data["name"] == "Pushed mug" and meta["id"] and meta["offset"]
            frame = bob_ws.next_event("catalog.product.created", where=lambda d: d["product_id"] == product["id"])
            assert frame["offset"] == meta["offset"]  # one history, both front ends

            add_to_cart(client, alice, product["id"], 2)
            data, _ = alice_sio.next_event("cart.updated")
            assert data["user_id"] == alice.id
            bob_sio.assert_no_event("cart.updated")
            anonymous_sio.assert_no_event("cart.updated", within=0.5)
            bob_ws.assert_no_event("cart.updated", within=0.5)


def test_a_reconnecting_client_gets_exactly_the_events_it_missed_in_order(platform, socketio_listener):
    with http(platform) as client:
        operator = log_in_as_operator(client)
        with EventSocket(platform.ws_url) as socket:
            socket.subscribe("catalog.product.created")
            first = create_product(client, operator)
            offset = socket.next_event("catalog.product.created", where=lambda d: d["product_id"] == first["id"])[
                "offset"
            ]
        missed = [create_product(client, operator)["id"] for _ in range(3)]

        # Wait until the gateway recorded the last one, then reconnect with the offset.
        listener = socketio_listener()
        listener.subscribe("review.created")
        with EventSocket(platform.ws_url) as socket:
            socket.send(
                {
                    "type": "subscribe",
                    "events": ["catalog.product.created"],
                    "since": {"catalog.product.created": offset},
                }
            )
            frames = []
            while True:
                frame = socket.receive()
                if frame["type"] == "subscribed":
                    break
                frames.append(frame)
            seen_after_wait = [f["data"]["product_id"] for f in frames]
        assert frame["recovered"] == {"catalog.product.created": True}
        # Every missed product recorded by then, in order, each once (the rest arrive live).
        assert seen_after_wait == missed[: len(seen_after_wait)]

        answer = listener.subscribe("catalog.product.created", since={"catalog.product.created": offset})
        assert answer["recovered"] == {"catalog.product.created": True}
        replayed = [listener.next_event("catalog.product.created")[0]["product_id"] for _ in missed]
        assert replayed == missed


def test_two_gateway_processes_deliver_every_event_once_to_every_socket(platform, second_gateway, socketio_listener):
    first_ws, second_ws = platform.ws_url, second_gateway.replace("http", "ws") + "/ws/events/"
    listeners = [socketio_listener(base_url=platform.base_url), socketio_listener(base_url=second_gateway)]
    for listener in listeners:
        listener.subscribe("catalog.product.created")
    with http(platform) as client, EventSocket(first_ws) as ws_one, EventSocket(second_ws) as ws_two:
        for socket in (ws_one, ws_two):
            socket.subscribe("catalog.product.created")
        operator = log_in_as_operator(client)
        created = [create_product(client, operator)["id"] for _ in range(5)]

        for listener in listeners:
            got = [
                listener.next_event("catalog.product.created", where=lambda d: d["product_id"] in created)[0][
                    "product_id"
                ]
                for _ in created
            ]
            assert got == created
            listener.assert_no_event("catalog.product.created", within=1.0)
        for socket in (ws_one, ws_two):
            got = [
                socket.next_event("catalog.product.created", where=lambda d: d["product_id"] in created)["data"][
                    "product_id"
                ]
                for _ in created
            ]
            assert got == created
            socket.assert_no_event("catalog.product.created", within=1.0)


def test_deactivating_a_user_closes_their_sockets_on_every_gateway_process(platform, second_gateway, socketio_listener):
    with http(platform) as client:
        user = register_and_log_in(client)
        on_first = EventSocket.listening_as(platform.ws_url, user, "cart.updated")
        on_second = EventSocket.listening_as(second_gateway.replace("http", "ws") + "/ws/events/", user, "cart.updated")
        listener = socketio_listener(user.access)
        disconnected = []
        listener.client.on("closing", lambda info: disconnected.append(info))

        # The operator deactivates the user in the auth service (its own service function).
        subprocess.run(
            [
                platform.platform.python,
                "manage.py",
                "shell",
                "-c",
                f"from accounts.services import user_update; user_update(user_id={user.id}, is_active=False)",
            ],
            cwd=REPO / "auth_service",
            env=platform.platform.child_env(),
            check=True,
            capture_output=True,
            timeout=60,
        )

        for socket in (on_first, on_second):
            with pytest.raises(Exception):  # noqa: B017 - the socket is closed under the client
                while True:
                    socket.receive(timeout=15)
            assert socket.connection.close_code == 4403
        assert eventually(lambda: disconnected, timeout=15) == [{"code": 4403, "reason": "user deactivated"}]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_a_stock_socket_io_client_receives_pushed_events_and_is_refused_a_bad_token(platform):
    def run(token: str, count: int) -> subprocess.Popen:
        return subprocess.Popen(
            [
                "node",
                "--experimental-websocket",
                "--no-warnings",
                str(NODE_CLIENT),
                str(SOCKETIO_BUNDLE),
                platform.base_url,
                token,
                "catalog.product.created",
                str(count),
            ],
            stdout=subprocess.PIPE,
            text=True,
        )

    refused = run("not-a-token", 1)
    assert json.loads(refused.communicate(timeout=30)[0].splitlines()[0]) == {"connect_error": "unauthorized"}

    with http(platform) as client:
        listening = run("-", 1)
        first_line = listening.stdout.readline()  # the ack: subscribed
        assert json.loads(first_line)["ack"]["events"] == ["catalog.product.created"]
        product = create_product(client, log_in_as_operator(client), name="Node mug")
        out, _ = listening.communicate(timeout=30)
    pushed = json.loads(out.splitlines()[0])
    assert pushed["event"] == "catalog.product.created"
    assert pushed["data"]["product_id"] == product["id"] and pushed["meta"]["offset"]
