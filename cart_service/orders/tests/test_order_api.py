from datetime import timedelta

import pytest
from carts.services import cart_item_add
from django.utils import timezone

from orders import selectors, services
from orders.models import Order

from .conftest import checkout, checkout_declined

pytestmark = pytest.mark.django_db


def test_an_order_shows_its_status_lines_and_total(customer, filled_cart):
    mug, pot = filled_cart
    order_id = checkout(customer).json()["order_id"]
    response = customer.get(f"/api/cart/orders/{order_id}/")
    assert response.status_code == 200
    body = response.json()
    assert {k: v for k, v in body.items() if k not in ("created_at", "updated_at")} == {
        "id": order_id,
        "order_id": order_id,
        "status": "pending",
        "reason": "",
        "items": [
            {"product_id": mug, "quantity": 2, "unit_price": "12.50"},
            {"product_id": pot, "quantity": 1, "unit_price": "3.00"},
        ],
        "total": "28.00",
    }
    assert body["created_at"] and body["updated_at"]


def test_a_failed_order_tells_why(customer, placed_order):
    services.order_fail(order_id=placed_order.pk, reason="Your card was declined.")
    body = customer.get(f"/api/cart/orders/{placed_order.pk}/").json()
    assert (body["status"], body["reason"]) == ("failed", "Your card was declined.")


def test_the_order_list_holds_the_callers_orders_newest_first(
    customer, filled_cart, api_client_factory, catalog_product
):
    first = checkout_declined(customer)
    second = checkout(customer).json()["order_id"]
    Order.objects.filter(pk=first).update(created_at=timezone.now() - timedelta(minutes=5))
    someone_else = api_client_factory()
    cart_item_add(user_id=someone_else.principal.id, product_id=catalog_product(), quantity=1)
    checkout(someone_else)

    response = customer.get("/api/cart/orders/")

    assert response.status_code == 200
    page = response.json()
    assert page["count"] == 2
    assert [order["id"] for order in page["results"]] == [second, first]
    assert page["results"][0]["items"][0]["quantity"] == 2


def test_the_order_list_is_paginated(customer, filled_cart):
    ids = [checkout_declined(customer) for _ in range(3)]
    page = customer.get("/api/cart/orders/?page_size=2").json()
    assert page["count"] == 3
    assert [order["id"] for order in page["results"]] == ids[:0:-1]
    assert page["next"]
    assert [order["id"] for order in customer.get(page["next"]).json()["results"]] == ids[:1]


def test_listed_orders_carry_their_lines_as_lists_read_in_one_query(customer, filled_cart, django_assert_num_queries):
    mug, pot = filled_cart
    for _ in range(3):
        checkout_declined(customer)
    with django_assert_num_queries(2):  # the orders, then the lines of all of them
        orders = list(selectors.order_list(user_id=customer.principal.id))
    assert len(orders) == 3
    for order in orders:
        assert isinstance(order.line_list, list)
        assert [line.product_id for line in order.line_list] == [mug, pot]


def test_a_customer_without_orders_has_an_empty_list(customer):
    assert customer.get("/api/cart/orders/").json()["results"] == []


def test_another_customers_order_is_not_found(customer, placed_order, api_client_factory):
    response = api_client_factory().get(f"/api/cart/orders/{placed_order.pk}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_an_unknown_order_is_not_found(customer):
    assert customer.get("/api/cart/orders/987654/").status_code == 404


@pytest.mark.parametrize("path", ["/api/cart/orders/", "/api/cart/orders/1/"])
def test_an_anonymous_caller_is_told_to_authenticate(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"
