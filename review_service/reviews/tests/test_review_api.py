import pytest

from commerce_core.events.contracts.catalog import ProductDeleted
from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


def review(client, product_id, rating=5, comment="Sturdy."):
    return client.post("/api/reviews/", {"product_id": product_id, "rating": rating, "comment": comment}, format="json")


def test_anyone_can_list_reviews_and_there_are_none_at_first(api_client):
    response = api_client.get("/api/reviews/")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert response.json()["results"] == []


def test_a_customer_reviews_a_product(customer, catalog_product):
    mug = catalog_product()
    response = review(customer, mug, rating=4, comment="Nice mug.")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["id"]
    assert body["verified_purchase"] is False
    assert (body["product_id"], body["user_id"], body["rating"], body["comment"]) == (
        mug,
        customer.principal.id,
        4,
        "Nice mug.",
    )


def test_a_review_stores_review_created_in_the_outbox(customer, catalog_product, django_capture_on_commit_callbacks):
    mug = catalog_product()
    with django_capture_on_commit_callbacks(execute=False):
        response = review(customer, mug, rating=3)
    message = OutboxMessage.objects.get()
    assert message.event_type == "review.created"
    assert message.envelope["data"] == {
        "review_id": response.json()["id"],
        "product_id": mug,
        "user_id": customer.principal.id,
        "rating": 3,
        "verified_purchase": False,
    }


def test_a_review_of_an_unknown_product_is_a_field_error(customer):
    response = review(customer, 999_999)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"product_id"}


def test_a_review_of_a_deleted_product_is_a_field_error(customer, catalog_product, deliver):
    mug = catalog_product()
    deliver(ProductDeleted(product_id=mug))
    response = review(customer, mug)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"product_id"}


def test_a_second_review_of_the_same_product_by_the_same_customer_is_a_conflict(customer, catalog_product):
    mug = catalog_product()
    review(customer, mug)
    response = review(customer, mug, rating=1)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "already_reviewed"
    assert customer.get(f"/api/reviews/?product_id={mug}").json()["count"] == 1


def test_two_customers_may_review_the_same_product(customer, catalog_product, api_client_factory):
    mug = catalog_product()
    assert review(customer, mug).status_code == 201
    assert review(api_client_factory(), mug).status_code == 201


@pytest.mark.parametrize("rating", [0, 6, -1])
def test_a_rating_outside_one_to_five_is_rejected(customer, catalog_product, rating):
    response = review(customer, catalog_product(), rating=rating)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"rating"}


def test_an_anonymous_caller_cannot_review(api_client, catalog_product):
    response = review(api_client, catalog_product())
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_reviews_can_be_filtered_by_product(customer, catalog_product, api_client_factory, api_client):
    mug, pot = catalog_product(), catalog_product()
    review(customer, mug)
    review(customer, pot)
    review(api_client_factory(), mug)
    response = api_client.get(f"/api/reviews/?product_id={mug}")
    assert response.status_code == 200
    assert response.json()["count"] == 2
    assert {r["product_id"] for r in response.json()["results"]} == {mug}


def test_a_malformed_product_filter_is_a_400(api_client):
    response = api_client.get("/api/reviews/?product_id=abc")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
