"""The `/ws/events/` protocol's own frames: authentication, answers, errors."""

import asyncio
import json

import pytest
from websockets.asyncio.client import connect

from .conftest import WebSocketClient

pytestmark = pytest.mark.anyio


@pytest.fixture
async def open_socket(gateway):
    sockets = []

    async def open_() -> WebSocketClient:
        sockets.append(await WebSocketClient.open(gateway))
        return sockets[-1]

    yield open_
    for client in sockets:
        await client.close()


async def test_a_valid_token_authenticates_the_socket(open_socket, access_token):
    socket = await open_socket()
    assert await socket.request({"type": "auth", "token": access_token(42)}) == {
        "type": "authenticated",
        "user_id": 42,
    }


@pytest.mark.parametrize("token_kind", ["garbage", "expired", "refresh", "missing"])
async def test_a_bad_token_closes_the_socket_with_4401(open_socket, access_token, token_kind):
    socket = await open_socket()
    frame = {"type": "auth"}
    if token_kind != "missing":
        frame["token"] = {
            "garbage": "nope",
            "expired": access_token(lifetime=-60),
            "refresh": access_token(token_type="refresh"),
        }[token_kind]
    with pytest.raises(ConnectionError):
        await socket.request(frame)
    assert await socket.closed() == 4401


async def test_subscribing_answers_with_all_of_the_sockets_subscriptions(open_socket):
    socket = await open_socket()
    assert await socket.subscribe("catalog.product.created") == {
        "type": "subscribed",
        "events": ["catalog.product.created"],
    }
    assert await socket.subscribe("review.created", "cart.updated") == {
        "type": "subscribed",
        "events": ["cart.updated", "catalog.product.created", "review.created"],
    }


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid_json"),
        ("[" * 10_000 + "]" * 10_000, "invalid_json"),
        ('{"type": "ping", "x": ' + "[" * 100 + "]" * 100 + "}", "invalid_json"),
        ("[1, 2]", "unknown_action"),
        ('{"type": "dance"}', "unknown_action"),
        ('{"no": "type"}', "unknown_action"),
        ('{"type": "subscribe", "events": "review.created"}', "invalid_message"),
        ('{"type": "subscribe", "events": [1]}', "invalid_message"),
        ('{"type": "subscribe", "events": [], "since": {"review.created": 5}}', "invalid_message"),
        ('{"type": "subscribe", "events": [], "since": []}', "invalid_message"),
    ],
    ids=lambda value: value[:30] if isinstance(value, str) else value,
)
async def test_a_frame_that_is_not_a_known_action_gets_an_error_frame_and_the_socket_stays_open(
    open_socket, frame, code
):
    socket = await open_socket()
    error = await socket.request(frame)
    assert error["type"] == "error" and error["code"] == code and error["message"]
    assert await socket.request({"type": "ping"}) == {"type": "pong"}


async def test_a_binary_frame_gets_an_error_frame(open_socket):
    socket = await open_socket()
    await socket.connection.send(b"\x00")
    assert (await asyncio.wait_for(socket.answers.get(), 5))["code"] == "invalid_frame"


async def test_a_private_subscription_made_before_auth_delivers_once_authenticated(open_socket, access_token):
    from .conftest import cart_updated, publish

    socket = await open_socket()
    await socket.subscribe("cart.updated")
    publish(cart_updated(3))
    with pytest.raises(TimeoutError):
        await socket.next_event(timeout=0.3)

    await socket.request({"type": "auth", "token": access_token(3)})
    publish(cart_updated(3, "1.00"))
    assert (await socket.next_event())[1]["total"] == "1.00"


async def test_other_socket_paths_are_refused(gateway):
    from websockets.exceptions import InvalidStatus

    with pytest.raises(InvalidStatus):
        await connect(f"ws://{gateway}/ws/other/")


async def test_frames_are_json_text(gateway):
    async with connect(f"ws://{gateway}/ws/events/") as socket:
        await socket.send(json.dumps({"type": "ping"}))
        assert json.loads(await socket.recv()) == {"type": "pong"}
