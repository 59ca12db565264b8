import sqlite3
from decimal import Decimal
from pathlib import Path

import pytest
from django.db import transaction

from payments.providers import ChargeResult, IdempotencyKeyReused, SimulatedProvider, get_provider, read_ledger

pytestmark = pytest.mark.django_db

AMOUNT = Decimal("25.00")


@pytest.fixture
def provider():
    return SimulatedProvider()


def charge(provider, token="tok_visa", key="order-1", amount=AMOUNT) -> ChargeResult:
    return provider.charge(amount=amount, currency="usd", token=token, idempotency_key=key)


@pytest.mark.parametrize("token", ["tok_visa", "tok_mastercard", "tok_amex"])
def test_a_test_card_token_is_charged_with_a_simulated_charge_reference(provider, token):
    result = charge(provider, token)

    assert result.succeeded
    assert result.reference.startswith("ch_sim_") and len(result.reference) == len("ch_sim_") + 32
    assert result.failure_reason == ""


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        ("tok_chargeDeclined", "card_declined"),
        ("tok_chargeDeclinedInsufficientFunds", "insufficient_funds"),
    ],
)
def test_a_declining_card_token_is_declined_with_stripes_reason(provider, token, reason):
    result = charge(provider, token)

    assert not result.succeeded
    assert result.failure_reason == reason


@pytest.mark.parametrize("token", ["", "tok_unknown", "4242424242424242"])
def test_any_other_token_is_refused_as_invalid(provider, token):
    result = charge(provider, token)

    assert (result.succeeded, result.reference, result.failure_reason) == (False, "", "invalid_token")


def test_charging_again_with_the_same_key_returns_the_first_answer_without_a_second_charge(provider):
    first = charge(provider)
    second = charge(provider)

    assert second == first
    assert [entry.kind for entry in read_ledger()] == ["charge"]


def test_charges_with_different_keys_are_different_charges(provider):
    assert charge(provider, key="order-1").reference != charge(provider, key="order-2").reference


def test_reusing_a_key_for_a_different_charge_is_refused(provider):
    charge(provider, amount=AMOUNT)

    with pytest.raises(IdempotencyKeyReused):
        charge(provider, amount=Decimal("99.00"))


def test_a_charge_is_refunded_once_with_a_simulated_refund_reference(provider):
    reference = charge(provider).reference

    first = provider.refund(reference=reference, amount=AMOUNT, idempotency_key="order-1-refund")
    again = provider.refund(reference=reference, amount=AMOUNT, idempotency_key="order-1-refund")

    assert first.succeeded and first.reference.startswith("re_sim_")
    assert again == first
    assert [entry.kind for entry in read_ledger()] == ["charge", "refund"]


def test_a_second_refund_of_the_same_charge_under_another_key_is_declined(provider):
    reference = charge(provider).reference
    provider.refund(reference=reference, amount=AMOUNT, idempotency_key="refund-a")

    result = provider.refund(reference=reference, amount=AMOUNT, idempotency_key="refund-b")

    assert (result.succeeded, result.failure_reason) == (False, "charge_already_refunded")


def test_refunding_a_charge_it_never_made_is_declined(provider):
    result = provider.refund(reference="ch_sim_nope", amount=AMOUNT, idempotency_key="refund-a")

    assert (result.succeeded, result.failure_reason) == (False, "charge_not_found")


def test_refunding_more_than_was_charged_is_declined(provider):
    reference = charge(provider).reference

    result = provider.refund(reference=reference, amount=AMOUNT + 1, idempotency_key="refund-a")

    assert (result.succeeded, result.failure_reason) == (False, "amount_too_large")


def test_the_provider_in_use_is_the_simulated_one_by_default(settings):
    assert isinstance(get_provider(), SimulatedProvider)


def test_the_provider_in_use_comes_from_the_payment_provider_setting(settings):
    settings.PAYMENT_PROVIDER = "payments.tests.conftest.CountingProvider"

    assert type(get_provider()).__name__ == "CountingProvider"


def test_the_ledger_keeps_a_charge_whose_callers_transaction_rolled_back(provider):
    # The provider is another system: the caller's rollback cannot undo what it did.
    with pytest.raises(RuntimeError), transaction.atomic():
        reference = charge(provider).reference
        raise RuntimeError("the caller died before committing")

    assert [(e.kind, e.reference, e.succeeded) for e in read_ledger()] == [("charge", reference, True)]
    assert charge(provider).reference == reference  # and asked again, it answers the same


def test_the_ledger_is_a_file_of_its_own_shared_by_every_instance(provider_ledger):
    first = SimulatedProvider().charge(amount=AMOUNT, currency="usd", token="tok_visa", idempotency_key="order-7")
    again = SimulatedProvider().charge(amount=AMOUNT, currency="usd", token="tok_visa", idempotency_key="order-7")

    assert again == first
    assert [e.idempotency_key for e in read_ledger(provider_ledger)] == ["order-7"]


def test_a_declined_charge_is_kept_and_answered_alike_to_the_same_key(provider):
    first = charge(provider, "tok_chargeDeclined")

    assert charge(provider, "tok_chargeDeclined") == first
    assert [(e.kind, e.succeeded, e.failure_reason) for e in read_ledger()] == [("charge", False, "card_declined")]


def test_a_thread_asks_the_ledger_over_one_connection_opened_once(provider, monkeypatch):
    opened = []
    real_connect = sqlite3.connect
    monkeypatch.setattr(
        sqlite3, "connect", lambda *args, **kwargs: opened.append(args) or real_connect(*args, **kwargs)
    )

    for number in range(3):
        charge(provider, key=f"order-{number}")

    assert len(opened) <= 1  # none when this thread had it open already
    assert [e.idempotency_key for e in read_ledger()] == ["order-0", "order-1", "order-2"]


def test_a_ledger_file_replaced_under_an_open_connection_is_opened_afresh(provider, provider_ledger):
    charge(provider, key="order-1")
    Path(provider_ledger).unlink()
    for leftover in Path(provider_ledger).parent.glob("*-wal"):
        leftover.unlink()

    charge(provider, key="order-2")

    assert [e.idempotency_key for e in read_ledger(provider_ledger)] == ["order-2"]


def test_a_failed_operation_leaves_the_connection_ready_for_the_next(provider):
    charge(provider, key="order-1")
    with pytest.raises(IdempotencyKeyReused):
        charge(provider, key="order-1", amount=Decimal("1.00"))

    assert charge(provider, key="order-2").succeeded
    assert [e.idempotency_key for e in read_ledger()] == ["order-1", "order-2"]
