"""What a client sees, the same through `/ws/events/` and `/socket.io/`: every test
runs once per front end, against the real gateway application and Redis."""

import asyncio

import pytest
import socketio

from push import control
from push.conf import push_settings

from .conftest import cart_updated, product_created, publish

pytestmark = pytest.mark.anyio


async def test_a_public_event_reaches_every_socket_subscribed_to_it_and_no_other(open_client, access_token):
    anonymous, signed_in, elsewhere = await open_client(), await open_client(access_token(5)), await open_client()
    await anonymous.subscribe("catalog.product.created")
    await signed_in.subscribe("catalog.product.created")
    await elsewhere.subscribe("review.created")

    envelope, offset = publish(product_created(product_id=1, name="Mug"))

    for client in (anonymous, signed_in):
        name, data, meta = await client.next_event()
        assert name == "catalog.product.created"
        assert data == {"product_id": 1, "name": "Mug", "price": "9.90", "stock": 3}
        assert meta == {"id": envelope.id, "offset": offset}
    with pytest.raises(TimeoutError):
        await elsewhere.next_event(timeout=0.3)


async def test_a_private_event_reaches_only_the_sockets_of_its_user(open_client, access_token):
    first_tab, second_tab = await open_client(access_token(1)), await open_client(access_token(1))
    other_user, anonymous = await open_client(access_token(2)), await open_client()
    for client in (first_tab, second_tab, other_user, anonymous):
        await client.subscribe("cart.updated")

    envelope, _ = publish(cart_updated(1, "4.00"))

    for client in (first_tab, second_tab):
        name, data, meta = await client.next_event()
        assert (name, data["user_id"], meta["id"]) == ("cart.updated", 1, envelope.id)
    for client in (other_user, anonymous):
        with pytest.raises(TimeoutError):
            await client.next_event(timeout=0.3)


async def test_unknown_and_internal_events_are_refused_and_the_rest_subscribed(open_client):
    client = await open_client()
    answer = await client.subscribe("review.created", "no.such.event", "order.placed")
    assert answer["events"] == ["review.created"]
    if open_client.kind == "socketio":
        assert answer["refused"] == ["no.such.event", "order.placed"]
    else:
        error = await asyncio.wait_for(client.answers.get(), 5)
        assert (error["code"], error["events"]) == ("unknown_events", ["no.such.event", "order.placed"])


async def test_switching_user_stops_the_previous_users_private_events(open_client, access_token):
    client = await open_client(access_token(1))
    await client.subscribe("cart.updated")
    assert (await client.refresh(access_token(2)))["user_id"] == 2

    publish(cart_updated(1))
    publish(cart_updated(2, "2.00"))

    _, data, _ = await client.next_event()
    assert data["user_id"] == 2


async def test_a_client_that_reconnects_with_its_offset_gets_exactly_the_missed_events_in_order(
    open_client, access_token
):
    client = await open_client(access_token(3))
    await client.subscribe("catalog.product.created", "cart.updated")
    publish(product_created(product_id=100))
    publish(cart_updated(3, "1.00"))
    last_product = (await client.next_event())[2]["offset"]
    last_cart = (await client.next_event())[2]["offset"]
    await client.close()

    missed_products = [publish(product_created(product_id=n))[0].id for n in (101, 102, 103)]
    missed_cart = [publish(cart_updated(3, total))[0].id for total in ("2.00", "3.00")]
    publish(cart_updated(4, "9.00"))  # someone else's: never replayed to this user

    client = await open_client(access_token(3))
    answer = await client.subscribe(
        "catalog.product.created",
        "cart.updated",
        since={"catalog.product.created": last_product, "cart.updated": last_cart},
    )

    assert answer["recovered"] == {"catalog.product.created": True, "cart.updated": True}
    received = [await client.next_event() for _ in range(5)]
    assert [meta["id"] for name, _, meta in received if name == "catalog.product.created"] == missed_products
    assert [meta["id"] for name, _, meta in received if name == "cart.updated"] == missed_cart
    with pytest.raises(TimeoutError):
        await client.next_event(timeout=0.3)


async def test_the_missed_events_arrive_before_the_answer(open_client):
    client = await open_client()
    await client.subscribe("review.created")
    _, offset = publish(product_created())
    publish(product_created())
    await asyncio.sleep(0.3)  # `publish` held the loop: let the hub read them first

    answer = await client.subscribe("catalog.product.created", since={"catalog.product.created": offset})

    assert answer["recovered"] == {"catalog.product.created": True}
    assert client.events.qsize() == 1  # already there when the answer came


async def test_events_published_during_the_replay_are_neither_lost_nor_duplicated(open_client, push_config):
    push_config.PUSH = {**push_config.PUSH, "REPLAY_BATCH": 3}  # a replay of many round trips
    client = await open_client()
    _, start = publish(product_created())
    published = [publish(product_created())[0].id for _ in range(30)]

    async def keep_publishing():
        for _ in range(30):
            published.append(await asyncio.to_thread(lambda: publish(product_created())[0].id))

    publisher = asyncio.ensure_future(keep_publishing())
    answer = await client.subscribe("catalog.product.created", since={"catalog.product.created": start})
    await publisher

    assert answer["recovered"] == {"catalog.product.created": True}
    received = [(await client.next_event())[2]["id"] for _ in range(len(published))]
    assert received == published
    with pytest.raises(TimeoutError):
        await client.next_event(timeout=0.3)


async def test_a_gap_older_than_the_retained_history_is_not_recovered(open_client, push_config):
    push_config.PUSH = {**push_config.PUSH, "HISTORY_EVENTS": 3, "HISTORY_SECONDS": 0}
    client = await open_client()
    _, old_offset = publish(product_created())
    await asyncio.sleep(0.01)  # older than the newest by a millisecond at least: "older than 0 s"
    in_the_gap = set()
    for _ in range(5):
        # Each in a millisecond of its own: entries recorded within the newest's
        # millisecond are not "older than 0 s", and would be kept.
        await asyncio.sleep(0.002)
        in_the_gap.add(publish(product_created())[0].id)
    await asyncio.sleep(0.3)  # `publish` held the loop: let the hub read them first

    answer = await client.subscribe("catalog.product.created", since={"catalog.product.created": old_offset})

    assert answer["recovered"] == {"catalog.product.created": False}
    live = publish(product_created())[0].id
    received = []
    while live not in received:
        received.append((await client.next_event())[2]["id"])
    assert not in_the_gap.intersection(received)  # the client reloads over REST instead


async def test_lost_history_is_not_recovered(open_client, push_config):
    import redis

    _, offset = publish(product_created())
    # Redis restarted empty: the stream and its epoch are gone.
    client_redis = redis.Redis.from_url(push_config.REDIS_URL)
    stream = push_config.PUSH["KEY_PREFIX"] + "h:catalog.product.created"
    client_redis.delete(stream, f"{stream}:epoch")
    publish(product_created())

    client = await open_client()
    answer = await client.subscribe("catalog.product.created", since={"catalog.product.created": offset})

    assert answer["recovered"] == {"catalog.product.created": False}


async def test_an_offset_that_is_not_one_of_ours_is_not_recovered(open_client):
    client = await open_client()
    answer = await client.subscribe("catalog.product.created", since={"catalog.product.created": "nonsense"})
    assert answer["recovered"] == {"catalog.product.created": False}


async def test_a_private_events_history_is_the_users_own(open_client, access_token):
    _, offset_of_user_1 = publish(cart_updated(1))
    publish(cart_updated(1, "5.00"))

    thief = await open_client(access_token(2))
    answer = await thief.subscribe("cart.updated", since={"cart.updated": offset_of_user_1})

    assert answer["recovered"] == {"cart.updated": False}  # another stream's epoch
    with pytest.raises(TimeoutError):
        await thief.next_event(timeout=0.3)


async def test_a_socket_whose_token_expires_is_closed_with_4401(open_client, access_token):
    client = await open_client(access_token(8, lifetime=1.5))
    await client.subscribe("cart.updated")

    if open_client.kind == "websocket":
        assert await client.closed(timeout=5) == 4401
    else:
        await asyncio.wait_for(client.disconnected.wait(), 5)
        assert client.closing == [{"code": 4401, "reason": "token expired"}]


async def test_a_fresh_token_before_expiry_keeps_the_socket_open(open_client, access_token):
    client = await open_client(access_token(8, lifetime=1.5))
    await client.subscribe("cart.updated")
    assert (await client.refresh(access_token(8, lifetime=60)))["user_id"] == 8

    await asyncio.sleep(2.5)
    publish(cart_updated(8, "1.00"))

    assert (await client.next_event())[1]["total"] == "1.00"


async def test_deactivating_a_user_closes_their_sockets_and_refuses_their_tokens(
    open_client, access_token, gateway, push_config
):
    client, bystander = await open_client(access_token(9)), await open_client(access_token(10))
    await client.subscribe("cart.updated")
    await bystander.subscribe("cart.updated")

    await asyncio.to_thread(control.user_deactivated, 9)

    if open_client.kind == "websocket":
        assert await client.closed(timeout=5) == 4403
    else:
        await asyncio.wait_for(client.disconnected.wait(), 5)
        assert client.closing == [{"code": 4403, "reason": "user deactivated"}]
    with pytest.raises((ConnectionError, socketio.exceptions.ConnectionError)):
        await open_client(access_token(9))
    publish(cart_updated(10))
    assert (await bystander.next_event())[1]["user_id"] == 10


async def test_a_deactivation_whose_order_was_lost_still_closes_the_users_sockets(
    open_client, access_token, gateway, push_config
):
    from push.history import sync_client
    from push.hub import SWEEP_SECONDS
    from push.streams import Keys

    client = await open_client(access_token(11))
    await client.subscribe("cart.updated")
    # Marked inactive, as the worker does, but the order to every gateway process never came.
    config = push_settings()
    sync_client(config).set(Keys(config.key_prefix).inactive(11), "1", ex=60)

    if open_client.kind == "websocket":
        assert await client.closed(timeout=SWEEP_SECONDS + 3) == 4403
    else:
        await asyncio.wait_for(client.disconnected.wait(), SWEEP_SECONDS + 3)
        assert client.closing == [{"code": 4403, "reason": "user deactivated"}]


async def test_unsubscribing_stops_delivery(open_client):
    client = await open_client()
    await client.subscribe("catalog.product.created", "review.created")
    if open_client.kind == "websocket":
        answer = await client.request({"type": "unsubscribe", "events": ["catalog.product.created"]})
        assert answer == {"type": "unsubscribed", "events": ["review.created"]}
    else:
        answer = await client.sio.call("unsubscribe", {"events": ["catalog.product.created"]})
        assert answer == {"events": ["review.created"], "refused": []}
    publish(product_created())
    with pytest.raises(TimeoutError):
        await client.next_event(timeout=0.3)


async def test_pushed_frames_are_written_straight_to_the_socket_under_uvicorn(open_client):
    from push.hub import get_hub

    await open_client()
    hub = await get_hub()
    [connection] = hub.connections
    assert connection.outbox._write_direct is not None  # push/wire.py recognised the server
