import itertools
from decimal import Decimal

import pytest

from payments.models import Payment

pytestmark = pytest.mark.django_db

_order_ids = itertools.count(1)


def payment_of(principal, **fields) -> Payment:
    values = {"order_id": next(_order_ids), "user_id": principal.id, "amount": Decimal("25.00"), **fields}
    return Payment.objects.create(**values)


@pytest.fixture
def principal(principal_factory):
    return principal_factory()


@pytest.fixture
def customer(api_client, as_principal, principal):
    return as_principal(api_client, principal)


def test_a_customer_lists_their_own_payments_only(customer, principal, principal_factory):
    mine = payment_of(principal, status=Payment.Status.SUCCEEDED, provider_reference="ch_1", payment_token="tok_visa")
    payment_of(principal_factory())
    response = customer.get("/api/payments/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["results"][0] == {
        "id": mine.id,
        "order_id": mine.order_id,
        "amount": "25.00",
        "currency": "usd",
        "status": "succeeded",
        "provider_reference": "ch_1",
        "failure_reason": "",
        "created_at": body["results"][0]["created_at"],
        "updated_at": body["results"][0]["updated_at"],
    }


def test_the_payment_list_is_paginated(customer, principal):
    for _ in range(3):
        payment_of(principal)
    body = customer.get("/api/payments/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]


def test_a_customer_reads_one_of_their_payments(customer, principal):
    payment = payment_of(principal, status=Payment.Status.FAILED, failure_reason="card_declined")
    response = customer.get(f"/api/payments/{payment.id}/")
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["failure_reason"]) == ("failed", "card_declined")


def test_another_customers_payment_is_not_found(customer, principal_factory):
    theirs = payment_of(principal_factory())
    response = customer.get(f"/api/payments/{theirs.id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_a_payment_that_does_not_exist_is_not_found(customer):
    assert customer.get("/api/payments/999999/").status_code == 404


@pytest.mark.parametrize("path", ["/api/payments/", "/api/payments/1/"])
def test_an_anonymous_caller_is_told_to_authenticate(api_client, path):
    response = api_client.get(path)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_a_payment_charged_through_the_checkout_shows_in_the_customers_list(
    api_client, as_principal, principal_factory, deliver, order
):
    deliver(order.placed(token="tok_visa"))
    deliver(order.stock_reserved())
    client = as_principal(api_client, principal_factory(id=order.user_id))

    [payment] = client.get("/api/payments/").json()["results"]

    assert (payment["order_id"], payment["status"], payment["amount"]) == (order.id, "succeeded", "25.00")
    assert payment["provider_reference"].startswith("ch_sim_")
    assert "payment_token" not in payment


def test_payments_can_be_filtered_by_status(customer, principal):
    payment_of(principal, status=Payment.Status.REFUNDED)
    payment_of(principal, status=Payment.Status.CANCELLED)

    body = customer.get("/api/payments/?status=refunded").json()

    assert [p["status"] for p in body["results"]] == ["refunded"]
