"""The payment provider: whoever actually moves the money.

Services talk to it through the small `PaymentProvider` interface only, and the one
in use is named by the `PAYMENT_PROVIDER` setting (a dotted path), so a real
provider's adapter can replace the simulated one without touching services.py.

Every call carries an idempotency key, as real providers (Stripe's
`Idempotency-Key`) accept: repeating a call with the same key returns the first
answer instead of charging or refunding again. The payment service relies on that
when a charge is retried after a crash between the provider's answer and the commit.
"""

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.module_loading import import_string

from .models import SimulatedProviderOperation as Operation

DEFAULT_PROVIDER = "payments.providers.SimulatedProvider"


@dataclass(frozen=True)
class ChargeResult:
    succeeded: bool
    # The provider's id of the charge; a declined card still has one, an unusable token does not.
    reference: str = ""
    # Why it was declined, in the provider's words (e.g. "card_declined"); empty on success.
    failure_reason: str = ""


@dataclass(frozen=True)
class RefundResult:
    succeeded: bool
    reference: str = ""
    failure_reason: str = ""


class PaymentProvider(Protocol):
    def charge(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        """Charge `amount` to what `token` stands for. A decline is a result, not an
        exception; an exception means the provider could not be asked (retry later)."""
        ...

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        """Give back `amount` of the charge `reference`."""
        ...


class IdempotencyKeyReused(ValueError):
    """The same idempotency key with different parameters: a caller's bug, as Stripe says it."""


def get_provider() -> PaymentProvider:
    """The provider named by `settings.PAYMENT_PROVIDER`, read at call time so tests
    and deployments can switch it."""
    return import_string(getattr(settings, "PAYMENT_PROVIDER", DEFAULT_PROVIDER))()


class SimulatedProvider:
    """A provider that moves no money, answering Stripe's test tokens the way Stripe does.

    `tok_visa`, `tok_mastercard` and `tok_amex` are charged; `tok_chargeDeclined` is
    declined as `card_declined`, `tok_chargeDeclinedInsufficientFunds` as
    `insufficient_funds`; any other token is refused as `invalid_token`.

    Its ledger (models.SimulatedProviderOperation) is written in the caller's
    transaction. That is what keeps the simulation honest: a charge whose payment
    update rolls back never happened here either, so a retry cannot charge twice.
    """

    CHARGEABLE_TOKENS = frozenset({"tok_visa", "tok_mastercard", "tok_amex"})
    DECLINED_TOKENS = {
        "tok_chargeDeclined": "card_declined",
        "tok_chargeDeclinedInsufficientFunds": "insufficient_funds",
    }

    def charge(self, *, amount: Decimal, currency: str, token: str, idempotency_key: str) -> ChargeResult:
        previous = self._previous(idempotency_key, kind=Operation.Kind.CHARGE, amount=amount, token=token)
        if previous is not None:
            return ChargeResult(previous.succeeded, previous.reference, previous.failure_reason)
        if token in self.CHARGEABLE_TOKENS:
            result = ChargeResult(True, _reference("ch"))
        elif token in self.DECLINED_TOKENS:
            result = ChargeResult(False, _reference("ch"), self.DECLINED_TOKENS[token])
        else:
            result = ChargeResult(False, "", "invalid_token")
        stored = self._store(
            idempotency_key, kind=Operation.Kind.CHARGE, amount=amount, currency=currency, token=token, result=result
        )
        return ChargeResult(stored.succeeded, stored.reference, stored.failure_reason)

    def refund(self, *, reference: str, amount: Decimal, idempotency_key: str) -> RefundResult:
        previous = self._previous(
            idempotency_key, kind=Operation.Kind.REFUND, amount=amount, charge_reference=reference
        )
        if previous is not None:
            return RefundResult(previous.succeeded, previous.reference, previous.failure_reason)
        charge = Operation.objects.filter(kind=Operation.Kind.CHARGE, reference=reference, succeeded=True).first()
        if charge is None:
            result = RefundResult(False, "", "charge_not_found")
        elif Operation.objects.filter(kind=Operation.Kind.REFUND, charge_reference=reference, succeeded=True).exists():
            result = RefundResult(False, "", "charge_already_refunded")
        elif amount > charge.amount:
            result = RefundResult(False, "", "amount_too_large")
        else:
            result = RefundResult(True, _reference("re"))
        stored = self._store(
            idempotency_key,
            kind=Operation.Kind.REFUND,
            amount=amount,
            currency=charge.currency if charge else "",
            charge_reference=reference,
            result=result,
        )
        return RefundResult(stored.succeeded, stored.reference, stored.failure_reason)

    @staticmethod
    def _previous(idempotency_key: str, *, kind: str, amount: Decimal, token: str = "", charge_reference: str = ""):
        previous = Operation.objects.filter(idempotency_key=idempotency_key).first()
        if previous is not None and (previous.kind, previous.amount, previous.token, previous.charge_reference) != (
            kind,
            amount,
            token,
            charge_reference,
        ):
            raise IdempotencyKeyReused(f"idempotency key {idempotency_key!r} was used for a different request")
        return previous

    @staticmethod
    def _store(
        idempotency_key: str,
        *,
        kind: str,
        amount: Decimal,
        result,
        currency: str = "",
        token: str = "",
        charge_reference: str = "",
    ):
        try:
            # A savepoint: a concurrent call with the same key that committed first wins,
            # and this one answers with its result, as the provider would.
            with transaction.atomic():
                return Operation.objects.create(
                    idempotency_key=idempotency_key,
                    kind=kind,
                    amount=amount,
                    currency=currency,
                    token=token,
                    charge_reference=charge_reference,
                    succeeded=result.succeeded,
                    reference=result.reference,
                    failure_reason=result.failure_reason,
                )
        except IntegrityError:
            return Operation.objects.get(idempotency_key=idempotency_key)


def _reference(prefix: str) -> str:
    return f"{prefix}_sim_{uuid.uuid4().hex}"
