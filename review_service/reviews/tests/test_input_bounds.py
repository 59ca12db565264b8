"""What the review API takes is bounded by what its columns store: anything beyond
is a 400 in the error shape, never a 500."""

import json

import pytest

from reviews.models import Review

pytestmark = pytest.mark.django_db


def test_every_input_of_the_review_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


@pytest.mark.parametrize("product_id", [str(2**63), str(2**80), "-1", "1.5"])
def test_listing_the_reviews_of_a_product_id_no_column_holds_is_a_400(api_client, product_id):
    response = api_client.get("/api/reviews/", {"product_id": product_id})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"product_id"}


def test_the_largest_product_id_simply_has_no_reviews(api_client):
    response = api_client.get("/api/reviews/", {"product_id": 2**63 - 1})
    assert response.status_code == 200
    assert response.json()["count"] == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("product_id", 2**63),
        ("product_id", 2**80),
        ("rating", 2**63),
        ("comment", "c" * 5001),
        ("comment", "Sturdy\x00"),  # PostgreSQL cannot store NUL
        ("comment", "\ud83d"),  # half of a surrogate pair
    ],
)
def test_a_review_field_beyond_its_column_is_a_field_error(customer, catalog_product, field, value):
    body = json.dumps({"product_id": catalog_product(), "rating": 4, "comment": "Sturdy.", field: value})
    response = customer.generic("POST", "/api/reviews/", body, content_type="application/json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {field}
    assert not Review.objects.exists()


@pytest.mark.parametrize(
    ("parameter", "value"), [("search", "s\x00"), ("search", "s" * 201), ("ordering", "user_id"), ("page", "-1")]
)
def test_a_review_list_parameter_that_cannot_mean_anything_is_a_400(api_client, parameter, value):
    response = api_client.get("/api/reviews/", {parameter: value})
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {parameter}
