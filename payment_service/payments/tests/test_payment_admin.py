import pytest

from commerce_core.events.models import OutboxMessage
from payments.models import Payment

from .conftest import money_taken

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/payment/payments/payment/"


@pytest.fixture
def charged(deliver, order):
    deliver(order.placed())
    deliver(order.stock_reserved())
    return Payment.objects.get(order_id=order.id)


def refund_action(operator_client, *payments):
    return operator_client.post(
        CHANGELIST, {"action": "refund", "_selected_action": [p.pk for p in payments]}, follow=True
    )


def test_the_refund_action_refunds_a_succeeded_payment_and_publishes_payment_refunded(
    operator_client, charged, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        response = refund_action(operator_client, charged)

    assert response.status_code == 200
    assert "Refunded 1 payment(s)." in response.content.decode()
    charged.refresh_from_db()
    assert charged.status == "refunded" and charged.refund_reference.startswith("re_sim_")
    assert OutboxMessage.objects.filter(event_type="payment.refunded").count() == 1
    assert money_taken(charged.order_id) == 0


def test_the_refund_action_leaves_a_payment_that_was_not_charged_as_it_is(
    operator_client, deliver, order, django_capture_on_commit_callbacks
):
    deliver(order.placed())
    pending = Payment.objects.get(order_id=order.id)

    with django_capture_on_commit_callbacks(execute=False):
        response = refund_action(operator_client, pending)

    assert "only a succeeded payment can be refunded" in response.content.decode()
    pending.refresh_from_db()
    assert pending.status == "pending"
    assert not OutboxMessage.objects.filter(event_type="payment.refunded").exists()


def test_refunding_twice_in_the_admin_refunds_once(operator_client, charged, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False):
        refund_action(operator_client, charged)
        refund_action(operator_client, charged)

    assert OutboxMessage.objects.filter(event_type="payment.refunded").count() == 1


def test_the_admin_lists_searches_and_filters_payments(operator_client, charged):
    assert operator_client.get(CHANGELIST).status_code == 200
    assert operator_client.get(CHANGELIST, {"status__exact": "succeeded"}).status_code == 200
    for term in [charged.order_id, charged.user_id, charged.provider_reference]:
        response = operator_client.get(CHANGELIST, {"q": term})
        assert charged.provider_reference in response.content.decode(), term
    assert operator_client.get(CHANGELIST, {"q": "not-a-number"}).status_code == 200


def test_the_admin_shows_a_payment_without_its_token_and_cannot_edit_it(operator_client, charged):
    response = operator_client.get(f"{CHANGELIST}{charged.pk}/change/")

    assert response.status_code == 200
    assert "tok_visa" not in response.content.decode()
    operator_client.post(f"{CHANGELIST}{charged.pk}/change/", {"status": "pending", "amount": "1.00"})
    charged.refresh_from_db()
    assert (charged.status, str(charged.amount)) == ("succeeded", "25.00")


def test_the_refund_action_leaves_a_payment_whose_refund_is_in_flight_to_the_resolver(
    operator_client, charged, django_capture_on_commit_callbacks
):
    Payment.objects.filter(pk=charged.pk).update(status="refunding")

    with django_capture_on_commit_callbacks(execute=False):
        response = refund_action(operator_client, charged)

    assert "only a succeeded payment can be refunded" in response.content.decode()
    assert money_taken(charged.order_id) == charged.amount
