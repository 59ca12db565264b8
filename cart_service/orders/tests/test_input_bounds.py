"""What checkout and the orders API take is bounded: anything beyond is a 400 (or,
for an id in the path, a 404) in the error shape, never a 500."""

import json

import pytest

from orders.models import Order

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("order_id", [2**63, 2**80, 0])
def test_an_order_id_no_column_holds_is_a_404(customer, order_id):
    response = customer.get(f"/api/cart/orders/{order_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("token", ["tok_\x00visa", "tok_\ud800"])
def test_a_payment_token_postgresql_could_not_store_is_a_field_error(customer, filled_cart, token):
    body = json.dumps({"payment_token": token})
    response = customer.generic("POST", "/api/cart/checkout/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"payment_token"}
    assert not Order.objects.exists()


@pytest.mark.parametrize(("parameter", "value"), [("page", "0"), ("page", "x"), ("page_size", "101")])
def test_a_page_of_orders_that_is_no_such_number_is_a_400(customer, parameter, value):
    response = customer.get("/api/cart/orders/", {parameter: value})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {parameter}
