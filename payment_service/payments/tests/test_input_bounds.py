"""What the payment API takes is bounded by what its columns store: anything beyond
is a 400 (or, for an id in the path, a 404) in the error shape, never a 500."""

from decimal import Decimal

import pytest

from payments.models import Payment

pytestmark = pytest.mark.django_db


@pytest.fixture
def principal(principal_factory):
    return principal_factory()


@pytest.fixture
def customer(api_client, as_principal, principal):
    return as_principal(api_client, principal)


@pytest.fixture
def payment(principal):
    return Payment.objects.create(order_id=77, user_id=principal.id, amount=Decimal("25.00"))


def test_every_input_of_the_payment_api_is_bounded(unbounded_inputs):
    assert unbounded_inputs == []


@pytest.mark.parametrize("payment_id", [2**63, 2**80, 0])
def test_a_payment_id_no_column_holds_is_a_404(customer, payment_id):
    response = customer.get(f"/api/payments/{payment_id}/")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_the_payments_filter_by_order_id(customer, payment):
    response = customer.get("/api/payments/", {"order_id": payment.order_id})
    assert [p["id"] for p in response.json()["results"]] == [payment.id]
    assert customer.get("/api/payments/", {"order_id": 2**63 - 1}).json()["results"] == []


@pytest.mark.parametrize(
    ("parameter", "value"),
    [
        ("order_id", str(2**63)),  # PositiveBigIntegerField
        ("order_id", "-1"),
        ("order_id", "77.5"),  # was rounded down to order 77
        ("order_id", "1e2"),
        ("status", "paid\x00"),
        ("status", "bogus"),
        ("ordering", "payment_token"),
        ("page", "0"),
        ("page_size", "0"),
    ],
)
def test_a_payment_list_parameter_that_cannot_mean_anything_is_a_400(customer, payment, parameter, value):
    response = customer.get("/api/payments/", {parameter: value})
    assert response.status_code == 400, response.content
    assert set(response.json()["error"]["fields"]) == {parameter}
