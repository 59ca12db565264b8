import asyncio
from decimal import Decimal

import pytest
from channels.routing import URLRouter
from conftest import WebsocketCommunicator

from commerce_core.events.contracts.cart import CartUpdated
from commerce_core.events.contracts.catalog import ProductCreated
from commerce_core.events.envelope import Envelope
from push.fanout import dispatch
from push.routing import websocket_urlpatterns

pytestmark = pytest.mark.anyio


@pytest.fixture
async def open_socket(in_memory_channel_layer):
    """open_socket(path="/ws/events/") -> a connected WebsocketCommunicator, closed after the test."""
    sockets = []

    async def open_(path: str = "/ws/events/") -> WebsocketCommunicator:
        communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), path)
        connected, _ = await communicator.connect()
        assert connected
        sockets.append(communicator)
        return communicator

    yield open_
    for communicator in sockets:
        await communicator.disconnect()


async def _authenticate(socket, token):
    await socket.send_json_to({"type": "auth", "token": token})
    return await socket.receive_json_from()


async def _subscribe(socket, *events):
    await socket.send_json_to({"type": "subscribe", "events": list(events)})
    return await socket.receive_json_from()


def _envelope(event) -> Envelope:
    return Envelope.wrap(event, source="test")


async def test_a_valid_token_authenticates_the_socket(open_socket, access_token):
    socket = await open_socket()
    assert await _authenticate(socket, access_token(42)) == {"type": "authenticated", "user_id": 42}


@pytest.mark.parametrize("token_kind", ["garbage", "expired", "refresh", "missing"])
async def test_a_bad_token_closes_the_socket_with_4401(open_socket, access_token, token_kind):
    socket = await open_socket()
    message = {"type": "auth"}
    if token_kind != "missing":
        message["token"] = {
            "garbage": "nope",
            "expired": access_token(lifetime=-60),
            "refresh": access_token(token_type="refresh"),
        }[token_kind]
    await socket.send_json_to(message)
    assert await socket.receive_output() == {"type": "websocket.close", "code": 4401}


async def test_subscribing_answers_with_all_of_the_sockets_subscriptions(open_socket):
    socket = await open_socket()
    assert await _subscribe(socket, "catalog.product.created") == {
        "type": "subscribed",
        "events": ["catalog.product.created"],
    }
    assert await _subscribe(socket, "review.created", "cart.updated") == {
        "type": "subscribed",
        "events": ["cart.updated", "catalog.product.created", "review.created"],
    }


async def test_unknown_and_internal_events_are_refused_in_an_error_frame_and_the_socket_stays_open(open_socket):
    socket = await open_socket()
    reply = await _subscribe(socket, "review.created", "no.such.event", "order.placed")
    assert reply == {"type": "subscribed", "events": ["review.created"]}
    error = await socket.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == "unknown_events"
    assert error["events"] == ["no.such.event", "order.placed"]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}


@pytest.mark.parametrize(
    "frame, code",
    [
        ("not json", "invalid_json"),
        ("[1, 2]", "unknown_action"),
        ('{"type": "dance"}', "unknown_action"),
        ('{"no": "type"}', "unknown_action"),
        ('{"type": "subscribe", "events": "review.created"}', "invalid_message"),
        ('{"type": "subscribe", "events": [1]}', "invalid_message"),
    ],
)
async def test_a_frame_that_is_not_a_known_action_gets_an_error_frame_and_the_socket_stays_open(
    open_socket, frame, code
):
    socket = await open_socket()
    await socket.send_to(text_data=frame)
    error = await socket.receive_json_from()
    assert error["type"] == "error" and error["code"] == code and error["message"]
    await socket.send_json_to({"type": "ping"})
    assert await socket.receive_json_from() == {"type": "pong"}


async def test_a_binary_frame_gets_an_error_frame(open_socket):
    socket = await open_socket()
    await socket.send_to(bytes_data=b"\x00")
    assert (await socket.receive_json_from())["code"] == "invalid_frame"


async def test_a_public_event_reaches_every_socket_subscribed_to_it_and_no_other(open_socket, access_token):
    anonymous, signed_in, elsewhere = await open_socket(), await open_socket(), await open_socket()
    await _subscribe(anonymous, "catalog.product.created")
    await _authenticate(signed_in, access_token(5))
    await _subscribe(signed_in, "catalog.product.created")
    await _subscribe(elsewhere, "review.created")

    envelope = _envelope(ProductCreated(product_id=1, name="Mug", price=Decimal("9.90"), stock=3))
    await dispatch(envelope)

    expected = {
        "type": "event",
        "event": "catalog.product.created",
        "id": envelope.id,
        "data": {"product_id": 1, "name": "Mug", "price": "9.90", "stock": 3},
    }
    assert await anonymous.receive_json_from() == expected
    assert await signed_in.receive_json_from() == expected
    assert await elsewhere.receive_nothing()


async def test_a_private_event_reaches_only_the_sockets_of_its_user(open_socket, access_token):
    first_tab, second_tab, other_user, anonymous = [await open_socket() for _ in range(4)]
    for socket, user_id in ((first_tab, 1), (second_tab, 1), (other_user, 2)):
        await _authenticate(socket, access_token(user_id))
        await _subscribe(socket, "cart.updated")
    await _subscribe(anonymous, "cart.updated")

    envelope = _envelope(CartUpdated(user_id=1, items=[], total=Decimal("0")))
    await dispatch(envelope)

    for socket in (first_tab, second_tab):
        frame = await socket.receive_json_from()
        assert (frame["event"], frame["id"], frame["data"]["user_id"]) == ("cart.updated", envelope.id, 1)
    assert await other_user.receive_nothing()
    assert await anonymous.receive_nothing()


async def test_a_private_subscription_made_before_auth_delivers_once_authenticated(open_socket, access_token):
    socket = await open_socket()
    await _subscribe(socket, "cart.updated")
    await dispatch(_envelope(CartUpdated(user_id=3, items=[], total=Decimal("0"))))
    assert await socket.receive_nothing()

    await _authenticate(socket, access_token(3))
    await dispatch(_envelope(CartUpdated(user_id=3, items=[], total=Decimal("1.00"))))
    assert (await socket.receive_json_from())["data"]["total"] == "1.00"


async def test_switching_user_stops_the_previous_users_private_events(open_socket, access_token):
    socket = await open_socket()
    await _authenticate(socket, access_token(1))
    await _subscribe(socket, "cart.updated")
    await _authenticate(socket, access_token(2))
    await dispatch(_envelope(CartUpdated(user_id=1, items=[], total=Decimal("0"))))
    assert await socket.receive_nothing()


async def test_unsubscribing_stops_delivery_and_answers_with_the_remaining_subscriptions(open_socket):
    socket = await open_socket()
    await _subscribe(socket, "catalog.product.created", "review.created")
    await socket.send_json_to({"type": "unsubscribe", "events": ["catalog.product.created"]})
    assert await socket.receive_json_from() == {"type": "unsubscribed", "events": ["review.created"]}
    await dispatch(_envelope(ProductCreated(product_id=1, name="Mug", price=Decimal("1"), stock=1)))
    assert await socket.receive_nothing()


async def test_a_closed_socket_leaves_its_groups(open_socket, in_memory_channel_layer):
    socket = await open_socket()
    await _subscribe(socket, "review.created")
    await socket.disconnect()
    await asyncio.sleep(0)
    assert not in_memory_channel_layer.groups.get("push.public.review.created")


async def test_other_socket_paths_are_refused(in_memory_channel_layer):
    communicator = WebsocketCommunicator(URLRouter(websocket_urlpatterns), "/ws/other/")
    connected, _ = await communicator.connect()
    assert not connected
