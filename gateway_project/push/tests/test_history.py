"""The history streams as the gateway's event worker writes them (real Redis)."""

import time

import pytest
import redis

from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.contracts.auth import UserUpdated
from commerce_core.events.contracts.orders import OrderPlaced
from commerce_core.events.envelope import Envelope
from commerce_core.events.registry import subscribed_event_types
from push import history
from push.conf import push_settings
from push.streams import Keys, Offset

from .conftest import cart_updated, product_created


@pytest.fixture
def store(push_config):
    client = redis.Redis.from_url(push_config.REDIS_URL, decode_responses=True)
    yield client
    client.close()


def _keys():
    return Keys(push_settings().key_prefix)


def test_the_gateway_worker_subscribes_to_every_event_a_client_may_see_and_to_user_updates():
    pushable = [name for name, c in registered_contracts().items() if c.audience is not Audience.INTERNAL]
    assert subscribed_event_types() == sorted([*pushable, "auth.user.updated"])
    assert "order.placed" not in subscribed_event_types()


@pytest.mark.django_db
def test_an_event_delivered_twice_is_recorded_once(deliver, store):
    body = Envelope.wrap(product_created(), source="catalog").to_dict()
    assert deliver(body) == {"status": "done"}
    history.record(Envelope.from_dict(body))  # a crash between the write and the inbox row
    assert store.xlen(_keys().public("catalog.product.created")) == 1


def test_a_private_event_goes_to_its_users_stream_and_the_feed(store):
    offset = history.record(Envelope.wrap(cart_updated(12), source="cart"))
    keys = _keys()
    [(entry_id, fields)] = store.xrange(keys.private(12, "cart.updated"))
    assert offset == f"{fields['ep']}:{entry_id}"
    [(_, feed)] = store.xrange(keys.feed)
    assert (feed["u"], feed["e"], feed["o"]) == ("12", "cart.updated", offset)


def test_internal_events_are_never_recorded(store):
    event = OrderPlaced(order_id=1, user_id=1, items=[], total="1", payment_token="tok_visa")
    assert history.record(Envelope.wrap(event, source="cart")) is None
    assert not store.keys(f"{_keys().prefix}*")


def test_the_epoch_of_a_stream_is_set_once(store):
    first = Offset.parse(history.record(Envelope.wrap(product_created(), source="catalog")))
    second = Offset.parse(history.record(Envelope.wrap(product_created(), source="catalog")))
    assert first.epoch == second.epoch
    assert second.position > first.position


def test_history_keeps_the_last_events_even_when_they_are_old(push_config, store):
    push_config.PUSH = {**push_config.PUSH, "HISTORY_EVENTS": 5, "HISTORY_SECONDS": 0}
    offsets = []
    for _ in range(12):
        offsets.append(history.record(Envelope.wrap(product_created(), source="c")))
        time.sleep(0.002)  # each older than the next by a millisecond at least: "older than 0 s"
    stream = _keys().public("catalog.product.created")
    assert [
        f"{Offset.parse(o).epoch}:{i}" for o, (i, _) in zip(offsets[-5:], store.xrange(stream), strict=True)
    ] == offsets[-5:]
    assert store.xlen(stream) == 5
    assert store.get(Keys.trimmed(stream)) == Offset.parse(offsets[-6]).entry_id


def test_history_keeps_every_recent_event_beyond_the_count(push_config, store):
    push_config.PUSH = {**push_config.PUSH, "HISTORY_EVENTS": 5, "HISTORY_SECONDS": 600}
    for _ in range(12):
        history.record(Envelope.wrap(product_created(), source="c"))
    assert store.xlen(_keys().public("catalog.product.created")) == 12


def test_history_never_holds_more_than_its_maximum(push_config, store):
    push_config.PUSH = {**push_config.PUSH, "HISTORY_EVENTS": 5, "HISTORY_SECONDS": 600, "HISTORY_MAX_EVENTS": 8}
    for _ in range(20):
        history.record(Envelope.wrap(product_created(), source="c"))
    assert store.xlen(_keys().public("catalog.product.created")) == 8


def test_streams_expire_when_idle(push_config, store):
    push_config.PUSH = {**push_config.PUSH, "HISTORY_IDLE_SECONDS": 100}
    history.record(Envelope.wrap(product_created(), source="c"))
    stream = _keys().public("catalog.product.created")
    assert 0 < store.ttl(stream) <= 100
    assert 0 < store.ttl(Keys.epoch(stream)) <= 100


@pytest.mark.django_db
def test_a_deactivated_users_tokens_are_refused_for_the_lifetime_of_a_token(deliver, store):
    deliver(UserUpdated(user_id=5, username="ada", email="ada@example.com", is_active=False))
    keys = _keys()
    assert store.exists(keys.inactive(5))
    assert 0 < store.ttl(keys.inactive(5)) <= push_settings().deactivated_seconds

    deliver(UserUpdated(user_id=5, username="ada", email="ada@example.com", is_active=True))
    assert not store.exists(keys.inactive(5))


def test_offsets_that_are_not_ours_do_not_parse():
    for text in ["", "abc", "e:x-1", "e:-1-0", 5, None, "e:" + "9" * 200]:
        assert Offset.parse(text) is None
    assert Offset.parse("e:17-3").position == (17, 3)
    assert Offset.parse("e:17").entry_id == "17-0"


def test_time_is_read_from_redis_ids():  # the trim cut-off relies on ids being milliseconds
    offset = Offset.parse(history.record(Envelope.wrap(product_created(), source="c")))
    assert abs(offset.position[0] / 1000 - time.time()) < 60
