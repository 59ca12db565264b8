"""What the catalog API takes is bounded by what its columns store: anything beyond
is a 400 (or, for an id in the path, a 404) in the error shape, never a 500."""

import json

import pytest

from catalog.models import Category, Product
from commerce_core.web.fields import TEXT_MAX_LENGTH

pytestmark = pytest.mark.django_db

BEYOND_64_BITS = 2**63


def send_json(client, method: str, url: str, body) -> object:
    # json.dumps escapes what DRF's test client cannot encode (a lone surrogate)
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def assert_refused(response, *fields: str):
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == ("validation_error", set(fields))


def test_every_input_of_the_catalog_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


@pytest.mark.parametrize("resource", ["products", "categories"])
@pytest.mark.parametrize("method", ["GET", "PATCH", "DELETE"])
def test_an_id_beyond_64_bits_in_the_path_is_a_404(staff_client, resource, method):
    response = send_json(staff_client, method, f"/api/catalog/{resource}/{BEYOND_64_BITS}/", {"name": "Pan"})
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("category", BEYOND_64_BITS),  # DRF's PrimaryKeyRelatedField let OverflowError through
        ("category", 2**80),
        ("category", 0),
        ("stock", 2**31),  # PositiveIntegerField
        ("stock", -1),
        ("price", "100000000.00"),  # max_digits 10
        ("price", "1e999999999"),
        ("price", "0.001"),
        ("price", "Infinity"),
        ("name", "x" * 201),
        ("name", "Mug\x00"),  # PostgreSQL cannot store NUL
        ("description", "d" * (TEXT_MAX_LENGTH + 1)),
        ("description", "nul\x00inside"),
        ("description", "\udfff"),  # a lone surrogate
    ],
)
def test_a_product_field_beyond_its_column_is_a_field_error(staff_client, field, value):
    body = {"name": "Mug", "price": "9.90", field: value}
    assert_refused(send_json(staff_client, "POST", "/api/catalog/products/", body), field)
    assert not Product.objects.exists()


def test_a_product_update_with_a_category_id_beyond_64_bits_is_a_field_error(staff_client, make_product):
    product = make_product()
    response = send_json(staff_client, "PATCH", f"/api/catalog/products/{product.pk}/", {"category": BEYOND_64_BITS})
    assert_refused(response, "category")


@pytest.mark.parametrize(
    ("field", "value"), [("name", "n" * 101), ("slug", "s" * 101), ("name", "Tea\x00"), ("slug", "tea\x00")]
)
def test_a_category_field_beyond_its_column_is_a_field_error(staff_client, field, value):
    body = {"name": "Tea", field: value}
    assert_refused(send_json(staff_client, "POST", "/api/catalog/categories/", body), field)
    assert not Category.objects.exists()


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("category", "1" * 19),  # more digits than any id, and not a slug either
        ("category", "kitchen\x00"),
        ("search", "mug\x00"),  # PostgreSQL cannot compare a string holding NUL
        ("search", "s" * 201),
        ("ordering", "stock"),
        ("page", "0"),
        ("page", str(2**64)),
        ("page_size", "1000"),
    ],
)
def test_a_product_list_parameter_that_cannot_mean_anything_is_a_400(api_client, make_product, parameter, value):
    make_product()
    assert_refused(api_client.get("/api/catalog/products/", {parameter: value}), parameter)
