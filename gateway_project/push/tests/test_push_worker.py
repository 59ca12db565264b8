from decimal import Decimal

import pytest

from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.contracts.cart import CartUpdated
from commerce_core.events.contracts.catalog import ProductCreated
from commerce_core.events.contracts.orders import OrderPlaced
from commerce_core.events.registry import subscribed_event_types


class RecordingLayer:
    def __init__(self):
        self.sent = []

    async def group_send(self, group, message):
        self.sent.append((group, message))


@pytest.fixture
def layer(monkeypatch):
    recording = RecordingLayer()
    monkeypatch.setattr("push.fanout.get_channel_layer", lambda: recording)
    return recording


def test_the_gateway_worker_subscribes_to_every_event_a_client_may_see_and_to_no_internal_one():
    expected = sorted(
        name for name, contract in registered_contracts().items() if contract.audience is not Audience.INTERNAL
    )
    assert subscribed_event_types() == expected
    assert "order.placed" not in expected


@pytest.mark.django_db
def test_a_delivered_public_event_is_sent_to_its_public_group(deliver, layer):
    assert deliver(ProductCreated(product_id=9, name="Mug", price=Decimal("9.90"), stock=1)) == {"status": "done"}
    [(group, message)] = layer.sent
    assert group == "push.public.catalog.product.created"
    assert message["type"] == "push.event"
    assert message["data"]["product_id"] == 9


@pytest.mark.django_db
def test_a_delivered_private_event_is_sent_to_its_recipients_group_only(deliver, layer):
    deliver(CartUpdated(user_id=12, items=[], total=Decimal("0")))
    assert [group for group, _ in layer.sent] == ["push.user.12.cart.updated"]


@pytest.mark.django_db
def test_an_event_delivered_twice_is_pushed_once(deliver, layer):
    from commerce_core.events.envelope import Envelope

    body = Envelope.wrap(ProductCreated(product_id=1, name="Mug", price=Decimal("1"), stock=1), source="catalog")
    deliver(body.to_dict())
    deliver(body.to_dict())
    assert len(layer.sent) == 1


def test_internal_events_are_never_dispatched(layer):
    from asgiref.sync import async_to_sync

    from commerce_core.events.envelope import Envelope
    from push.fanout import dispatch

    event = OrderPlaced(order_id=1, user_id=1, items=[], total=Decimal("1"), payment_token="tok_visa")
    assert async_to_sync(dispatch)(Envelope.wrap(event, source="cart")) is None
    assert layer.sent == []
