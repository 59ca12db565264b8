"""What the cart API takes is bounded by what its columns store: anything beyond is
a 400 (or, for an id in the path, a 404) in the error shape, never a 500."""

import json

import pytest

from carts.models import CartItem

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**63


def send_json(client, method: str, url: str, body) -> object:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def assert_refused(response, *fields: str):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == ("validation_error", set(fields))


def test_every_input_of_the_cart_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


@pytest.mark.parametrize("product_id", [BEYOND_64_BITS, 2**80, 0])
@pytest.mark.parametrize("method", ["PATCH", "DELETE"])
def test_changing_a_cart_item_whose_id_no_column_holds_is_a_404(customer, method, product_id):
    response = send_json(customer, method, f"/api/cart/items/{product_id}/", {"quantity": 1})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_id", BEYOND_64_BITS),
        ("product_id", 2**80),
        ("product_id", 0),
        ("product_id", "1" * 1001),
        ("quantity", 2**31),  # PositiveIntegerField
        ("quantity", 0),
        ("quantity", 1.5),
    ],
)
def test_adding_a_value_beyond_its_column_to_the_cart_is_a_field_error(customer, catalog_product, field, value):
    body = {"product_id": catalog_product(), "quantity": 1, field: value}
    assert_refused(send_json(customer, "POST", "/api/cart/items/", body), field)
    assert not CartItem.objects.exists()


def test_setting_a_quantity_beyond_its_column_is_a_field_error(customer, catalog_product):
    mug = catalog_product()
    send_json(customer, "POST", "/api/cart/items/", {"product_id": mug})
    assert_refused(send_json(customer, "PATCH", f"/api/cart/items/{mug}/", {"quantity": 2**31}), "quantity")
    assert CartItem.objects.get().quantity == 1


def test_a_cart_item_body_nested_200000_arrays_deep_is_a_400_parse_error(customer):
    response = customer.generic(
        "POST", "/api/cart/items/", "[" * 200_000 + "]" * 200_000, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"
