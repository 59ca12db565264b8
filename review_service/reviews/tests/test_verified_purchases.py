import itertools
from decimal import Decimal

import pytest

from commerce_core.events.api import Envelope
from commerce_core.events.contracts.cart import CartLine
from commerce_core.events.contracts.orders import OrderPaid
from commerce_core.events.models import OutboxMessage
from reviews.models import Purchase

pytestmark = pytest.mark.django_db

_order_ids = itertools.count(90_001)


def paid_order(user_id: int, *product_ids: int) -> OrderPaid:
    return OrderPaid(
        order_id=next(_order_ids),
        user_id=user_id,
        items=[CartLine(product_id=p, quantity=1, unit_price=Decimal("10.00")) for p in product_ids],
    )


def review(client, product_id):
    return client.post("/api/reviews/", {"product_id": product_id, "rating": 5, "comment": "Bought it."}, format="json")


def test_a_paid_order_is_remembered_as_one_purchase_per_product(deliver):
    order = paid_order(3, 7, 8)

    deliver(order)

    assert set(Purchase.objects.values_list("user_id", "product_id", "order_id")) == {
        (3, 7, order.order_id),
        (3, 8, order.order_id),
    }


def test_a_redelivered_order_paid_creates_no_second_purchase(deliver):
    body = Envelope.wrap(paid_order(3, 7), source="cart").to_dict()

    deliver(body)
    deliver(body)

    assert Purchase.objects.count() == 1


def test_the_same_order_paid_under_a_new_event_id_creates_no_second_purchase(deliver):
    order = paid_order(3, 7)

    deliver(order)
    deliver(OrderPaid(**order.model_dump()))

    assert Purchase.objects.count() == 1


def test_a_review_by_a_customer_who_paid_for_the_product_is_a_verified_purchase(
    customer, catalog_product, deliver, django_capture_on_commit_callbacks
):
    mug = catalog_product()
    deliver(paid_order(customer.principal.id, mug))

    with django_capture_on_commit_callbacks(execute=False):
        response = review(customer, mug)

    assert response.status_code == 201, response.content
    assert response.json()["verified_purchase"] is True
    assert OutboxMessage.objects.get(event_type="review.created").envelope["data"]["verified_purchase"] is True


def test_a_review_without_a_purchase_is_not_verified(customer, catalog_product):
    assert review(customer, catalog_product()).json()["verified_purchase"] is False


def test_another_customers_purchase_does_not_verify_a_review(customer, catalog_product, deliver, principal_factory):
    mug = catalog_product()
    deliver(paid_order(principal_factory().id, mug))

    assert review(customer, mug).json()["verified_purchase"] is False


def test_a_purchase_of_another_product_does_not_verify_a_review(customer, catalog_product, deliver):
    mug, pot = catalog_product(), catalog_product()
    deliver(paid_order(customer.principal.id, pot))

    assert review(customer, mug).json()["verified_purchase"] is False


def test_the_review_list_shows_who_rated_what_and_whether_they_bought_it(
    customer, catalog_product, deliver, api_client
):
    mug = catalog_product()
    deliver(paid_order(customer.principal.id, mug))
    review(customer, mug)

    [listed] = api_client.get(f"/api/reviews/?product_id={mug}").json()["results"]

    assert set(listed) >= {"rating", "comment", "product_id", "user_id", "verified_purchase", "created_at"}
    assert (
        listed["rating"],
        listed["comment"],
        listed["product_id"],
        listed["user_id"],
        listed["verified_purchase"],
    ) == (5, "Bought it.", mug, customer.principal.id, True)


def test_the_admin_lists_and_searches_purchases(operator_client, deliver):
    client = operator_client
    order = paid_order(3, 7)
    deliver(order)

    response = client.get("/admin/review/reviews/purchase/", {"q": order.order_id})

    assert response.status_code == 200
    assert str(order.order_id) in response.content.decode()
    assert client.get("/admin/review/reviews/purchase/", {"q": "abc"}).status_code == 200
