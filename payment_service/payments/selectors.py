"""Reads of payments. A customer only ever sees their own."""

from django.db.models import QuerySet

from commerce_core.web.errors import NotFound

from .models import Payment


def payment_list(*, user_id: int) -> QuerySet[Payment]:
    return Payment.objects.filter(user_id=user_id)


def payment_get(*, user_id: int, payment_id: int) -> Payment:
    """The user's payment; another user's is as absent as one that never existed."""
    payment = payment_list(user_id=user_id).filter(pk=payment_id).first()
    if payment is None:
        raise NotFound(f"Payment {payment_id} not found.")
    return payment
