"""The catalog's part of the checkout saga: all of an order's stock or none, held until
the order is paid or given back when it is cancelled, once per order."""

from decimal import Decimal

import pytest
from catalog.models import Product

from commerce_core.events.api import Envelope
from commerce_core.events.models import OutboxMessage
from inventory.models import StockReservation

from .factories import BUYER, order_cancelled, order_placed, payment_succeeded

pytestmark = pytest.mark.django_db


def published(event_type: str) -> list[dict]:
    return [m.envelope["data"] for m in OutboxMessage.objects.filter(event_type=event_type).order_by("created_at")]


def stock_of(*products: Product) -> list[int]:
    return [Product.objects.get(pk=p.pk).stock for p in products]


def reservation_of(order) -> StockReservation:
    return StockReservation.objects.get(order_id=order.order_id)


def test_an_order_whose_every_line_is_in_stock_is_reserved_whole(deliver, make_product):
    mug, pan = make_product("Mug", stock=5, price="10.00"), make_product("Pan", stock=3, price="30.00")
    order = order_placed((mug, 2), (pan, 3))

    deliver(order)

    assert stock_of(mug, pan) == [3, 0]
    reservation = reservation_of(order)
    assert (reservation.status, reservation.user_id, reservation.total) == ("reserved", BUYER, Decimal("110.00"))
    assert sorted(reservation.lines.values_list("product_id", "quantity")) == sorted([(mug.pk, 2), (pan.pk, 3)])
    assert published("stock.reserved") == [
        {
            "order_id": order.order_id,
            "user_id": BUYER,
            "total": "110.00",
            "items": [
                {"product_id": mug.pk, "quantity": 2, "unit_price": "10.00"},
                {"product_id": pan.pk, "quantity": 3, "unit_price": "30.00"},
            ],
        }
    ]
    assert sorted(published("catalog.product.stock_changed"), key=lambda e: e["product_id"]) == [
        {"product_id": mug.pk, "stock": 3},
        {"product_id": pan.pk, "stock": 0},
    ]
    assert published("stock.rejected") == []


def test_one_short_line_rejects_the_whole_order_and_moves_no_stock(deliver, make_product):
    mug, pan = make_product("Mug", stock=5), make_product("Pan", stock=1)
    order = order_placed((mug, 2), (pan, 2))

    deliver(order)

    assert stock_of(mug, pan) == [5, 1]
    reservation = reservation_of(order)
    assert reservation.status == "rejected"
    assert reservation.lines.count() == 2  # what was asked stays on record
    rejected = published("stock.rejected")
    assert len(rejected) == 1
    assert rejected[0]["unavailable_product_ids"] == [pan.pk]
    assert f"product {pan.pk}: 2 wanted, 1 in stock" in rejected[0]["reason"]
    assert published("stock.reserved") == published("catalog.product.stock_changed") == []


def test_unknown_and_withdrawn_products_reject_the_order(deliver, make_product):
    mug, withdrawn = make_product("Mug"), make_product("Old mug", is_active=False)
    order = order_placed((mug, 1), (withdrawn, 1), (999_999, 1))

    deliver(order)

    assert stock_of(mug, withdrawn) == [10, 10]
    assert published("stock.rejected")[0]["unavailable_product_ids"] == [withdrawn.pk, 999_999]


def test_an_order_without_lines_or_with_a_line_below_one_is_rejected(deliver, make_product):
    mug = make_product("Mug")
    deliver(order_placed())
    deliver(order_placed((mug, 0)))
    assert stock_of(mug) == [10]
    assert [e["unavailable_product_ids"] for e in published("stock.rejected")] == [[], [mug.pk]]


def test_two_lines_of_the_same_product_are_reserved_together(deliver, make_product):
    mug = make_product("Mug", stock=3)
    deliver(order_placed((mug, 2), (mug, 2)))
    assert stock_of(mug) == [3]
    deliver(order_placed((mug, 2), (mug, 1)))
    assert stock_of(mug) == [0]


def test_a_duplicated_order_placed_delivery_reserves_once(deliver, make_product):
    mug = make_product("Mug", stock=5)
    body = Envelope.wrap(order_placed((mug, 2)), source="cart").to_dict()

    deliver(body)
    deliver(body)

    assert stock_of(mug) == [3]
    assert len(published("stock.reserved")) == 1


def test_the_same_order_placed_again_under_a_new_event_id_reserves_once(deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))
    deliver(order)
    deliver(order)  # wrapped afresh: a new event id, past the inbox
    assert stock_of(mug) == [3]
    assert len(published("stock.reserved")) == 1
    assert StockReservation.objects.count() == 1


def test_a_paid_order_commits_its_reservation_and_keeps_the_stock_sold(deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))
    deliver(order)

    deliver(payment_succeeded(order))

    assert reservation_of(order).status == "committed"
    assert stock_of(mug) == [3]


def test_a_cancelled_order_gets_its_stock_back_and_announces_it(deliver, make_product):
    mug, pan = make_product("Mug", stock=5), make_product("Pan", stock=2)
    order = order_placed((mug, 2), (pan, 2))
    deliver(order)
    OutboxMessage.objects.all().delete()

    deliver(order_cancelled(order, reason="timed out"))

    assert stock_of(mug, pan) == [5, 2]
    reservation = reservation_of(order)
    assert (reservation.status, reservation.reason) == ("released", "timed out")
    assert sorted(published("catalog.product.stock_changed"), key=lambda e: e["product_id"]) == [
        {"product_id": mug.pk, "stock": 5},
        {"product_id": pan.pk, "stock": 2},
    ]


def test_a_duplicated_order_cancelled_gives_the_stock_back_once(deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))
    deliver(order)
    body = Envelope.wrap(order_cancelled(order), source="cart").to_dict()

    deliver(body)
    deliver(body)
    deliver(order_cancelled(order))  # and once more under a new event id

    assert stock_of(mug) == [5]
    assert len(published("catalog.product.stock_changed")) == 2  # one taken, one given back


def test_cancelling_a_rejected_order_moves_no_stock(deliver, make_product):
    mug = make_product("Mug", stock=1)
    order = order_placed((mug, 2))
    deliver(order)

    deliver(order_cancelled(order, reason="out of stock"))

    assert stock_of(mug) == [1]
    assert reservation_of(order).status == "rejected"
    assert published("catalog.product.stock_changed") == []


def test_a_payment_that_arrives_after_the_cancellation_changes_nothing(deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))
    deliver(order)
    deliver(order_cancelled(order, reason="timed out"))

    deliver(payment_succeeded(order))

    assert reservation_of(order).status == "released"
    assert stock_of(mug) == [5]


def test_an_order_paid_while_it_timed_out_gets_its_stock_back_when_the_cancellation_arrives(deliver, make_product):
    # The cart cancels only pending orders, so the payment service refunds this one;
    # the stock it took comes back with the money.
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))
    deliver(order)
    deliver(payment_succeeded(order))

    deliver(order_cancelled(order, reason="timed out"))

    assert reservation_of(order).status == "released"
    assert stock_of(mug) == [5]


def test_a_cancellation_that_overtakes_its_placement_keeps_the_late_order_from_holding_stock(deliver, make_product):
    mug = make_product("Mug", stock=5)
    order = order_placed((mug, 2))

    deliver(order_cancelled(order, reason="timed out"))
    deliver(order)

    assert stock_of(mug) == [5]
    assert reservation_of(order).status == "released"
    assert published("stock.reserved") == published("stock.rejected") == []


def test_deleting_a_reserved_product_keeps_the_reservation_and_the_release_skips_it(
    deliver, make_product, staff_client
):
    mug, pan = make_product("Mug", stock=5), make_product("Pan", stock=5)
    order = order_placed((mug, 1), (pan, 1))
    deliver(order)

    assert staff_client.delete(f"/api/catalog/products/{pan.pk}/").status_code == 204
    deliver(order_cancelled(order))

    reservation = reservation_of(order)
    assert reservation.status == "released"
    assert reservation.lines.count() == 2
    assert stock_of(mug) == [5]
