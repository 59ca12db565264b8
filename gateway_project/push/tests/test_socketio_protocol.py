"""The `/socket.io/` front end's own behaviour: connecting, acks, errors."""

import asyncio

import pytest
import socketio
from websockets.asyncio.client import connect

from .conftest import SocketIOClient, product_created, publish

pytestmark = pytest.mark.anyio


async def _connect_error(gateway, auth) -> dict:
    client = socketio.AsyncClient(reconnection=False)
    errors = []
    client.on("connect_error", lambda data: errors.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        await client.connect(f"http://{gateway}", transports=["websocket"], auth=auth, wait_timeout=5)
    return errors[0]


@pytest.mark.parametrize("auth", [{"token": "garbage"}, {"token": ""}, "a string", {"token": 12}])
async def test_a_bad_token_is_refused_with_connect_error_unauthorized(gateway, auth):
    assert await _connect_error(gateway, auth) == {"message": "unauthorized"}


async def test_an_expired_token_is_refused(gateway, access_token):
    assert await _connect_error(gateway, {"token": access_token(lifetime=-5)}) == {"message": "unauthorized"}


async def test_a_client_without_auth_is_anonymous_and_gets_public_events(gateway):
    client = await SocketIOClient.open(gateway)
    try:
        answer = await client.subscribe("catalog.product.created", "cart.updated")
        assert answer == {"events": ["cart.updated", "catalog.product.created"], "refused": [], "recovered": {}}
        envelope, _ = publish(product_created())
        assert (await client.next_event())[2]["id"] == envelope.id
    finally:
        await client.close()


@pytest.mark.parametrize(
    "event, payload, code",
    [
        ("subscribe", {"events": "catalog.product.created"}, "invalid_message"),
        ("subscribe", {"events": [], "since": {"x": 1}}, "invalid_message"),
        ("subscribe", None, "invalid_message"),
        ("unsubscribe", {"events": [3]}, "invalid_message"),
        ("dance", {}, "unknown_action"),
    ],
)
async def test_a_malformed_request_is_acked_with_an_error_and_the_connection_stays(gateway, event, payload, code):
    client = await SocketIOClient.open(gateway)
    try:
        answer = await client.sio.call(event, payload, timeout=5)
        assert answer["error"]["code"] == code
        assert (await client.subscribe("review.created"))["events"] == ["review.created"]
    finally:
        await client.close()


async def test_a_bad_token_in_auth_is_acked_unauthorized_and_closes(gateway, access_token):
    client = await SocketIOClient.open(gateway, access_token(4))
    answer = await client.refresh("garbage")
    assert answer["error"]["code"] == "unauthorized"
    await asyncio.wait_for(client.disconnected.wait(), 5)


async def test_a_deeply_nested_packet_is_dropped_and_the_connection_stays(gateway):
    """Raw Engine.IO over a websocket, as socket.io-client speaks it."""
    async with connect(f"ws://{gateway}/socket.io/?EIO=4&transport=websocket") as socket:
        assert (await socket.recv()).startswith("0{")
        await socket.send("40")
        assert (await socket.recv()).startswith("40{")
        await socket.send("421" + '["subscribe",' + "[" * 5000 + "]" * 5000 + "]")
        await socket.send('422["subscribe",{"events":["review.created"]}]')
        assert (
            await asyncio.wait_for(socket.recv(), 5) == '432[{"events":["review.created"],"refused":[],"recovered":{}}]'
        )


async def test_long_polling_is_not_offered(gateway):
    import httpx

    async with httpx.AsyncClient() as client:
        response = await client.get(f"http://{gateway}/socket.io/?EIO=4&transport=polling")
    assert response.status_code == 400
