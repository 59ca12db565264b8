"""JSON bodies: whatever a client sends is a 2xx or a 400 in the error shape."""

import json

import pytest

from tests.inputapp.models import Item, Shelf

pytestmark = pytest.mark.django_db

ITEMS = "/api/bustest/items/"


@pytest.fixture
def staff(api_client, as_principal, principal_factory):
    return as_principal(api_client, principal_factory(is_staff=True))


def post_raw(client, body: str | bytes, content_type="application/json"):
    return client.generic("POST", ITEMS, body, content_type=content_type)


def valid_body(**overrides) -> dict:
    shelf = Shelf.objects.create(name="Kitchen")
    return {"shelf": shelf.pk, "name": "Mug", "price": "9.90", "placed_at": "2026-01-01T00:00:00Z", **overrides}


def test_a_valid_body_creates_an_item(staff):
    response = staff.post(ITEMS, valid_body(count=2, rating=4), format="json")
    assert response.status_code == 201, response.content
    assert (Item.objects.get().count, Item.objects.get().rating) == (2, 4)


def test_a_body_nested_200000_arrays_deep_is_a_400_parse_error(staff):
    response = post_raw(staff, "[" * 200_000 + "]" * 200_000)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_body_nested_deeper_than_the_limit_inside_an_object_is_a_400_parse_error(staff):
    response = post_raw(staff, '{"name": ' + "[" * 40 + "]" * 40 + "}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("body", ['{"count": NaN}', '{"count": Infinity}', '{"count": -Infinity}'])
def test_nan_and_infinity_are_not_json(staff, body):
    response = post_raw(staff, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


@pytest.mark.parametrize("body", [b'{"name": "\xff"}', b"{", b'{"count": 1' + b"0" * 5000 + b"}"])
def test_bytes_that_are_not_json_are_a_400_parse_error(staff, body):
    response = post_raw(staff, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_body_that_is_not_json_is_a_415(staff):
    response = post_raw(staff, "name=Mug", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("count", 2**31),  # PositiveIntegerField: 0 to 2**31-1
        ("count", -1),
        ("count", 2**64),
        ("count", "1" * 30),
        ("count", 1.5),
        ("count", True),
        ("rating", 6),  # the model's own validators: 1 to 5
        ("rating", 0),
        ("shelf", 2**63),  # beyond any id: no query at all
        ("shelf", 2**80),
        ("shelf", 0),
        ("shelf", "x"),
        ("price", "12345.00"),  # max_digits 6
        ("price", "1e999999999"),
        ("price", "1e-999999999"),
        ("price", "NaN"),
        ("name", "x" * 41),  # max_length 40
        ("name", "nul\x00byte"),  # PostgreSQL cannot store it
        ("name", "\ud800"),  # a lone surrogate: no UTF-8 for it
        ("placed_at", "10000-01-01T00:00:00Z"),
        ("placed_at", "9999-12-31T23:00:00-05:00"),  # no such moment in UTC
        ("placed_at", "0001-01-01T00:00:00+01:00"),
        ("placed_at", "yesterday"),
    ],
)
def test_a_field_beyond_what_its_column_stores_is_a_field_error(staff, field, value):
    # json.dumps, as DRF's test client cannot encode a lone surrogate
    response = post_raw(staff, json.dumps(valid_body(**{field: value})))
    assert response.status_code == 400, response.content
    error = response.json()["error"]
    assert (error["code"], set(error["fields"])) == ("validation_error", {field})
    assert not Item.objects.exists()


def test_an_id_that_names_no_row_is_a_field_error(staff):
    response = staff.post(ITEMS, valid_body(shelf=2**63 - 1), format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"shelf": ["There is no shelf 9223372036854775807."]}


def test_the_largest_values_each_column_stores_are_accepted(staff):
    response = staff.post(ITEMS, valid_body(count=2**31 - 1, rating=5, price="9999.99", name="x" * 40), format="json")
    assert response.status_code == 201, response.content
    assert Item.objects.get().count == 2**31 - 1
