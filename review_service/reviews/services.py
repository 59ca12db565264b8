"""Writes of the review service: the replicas that events keep up to date, and the
reviews customers write. Each runs in one transaction with the events it publishes."""

from django.db import IntegrityError, transaction

from commerce_core.events.api import publish
from commerce_core.events.contracts.reviews import ReviewCreated
from commerce_core.web.errors import ApplicationError, Conflict

from . import selectors
from .models import ProductReplica, Purchase, Review

# --- replicas, fed by handlers.py ------------------------------------------------------
#
# Every upsert is idempotent in effect and tolerant of order: each field comes from
# one event type only (the name from `created`, the tombstone from `deleted`), so
# there is nothing to order and a plain upsert of that field suffices. (Users are
# replicated by commerce_core.customers.)


@transaction.atomic
def product_replica_record(*, product_id: int, name: str) -> ProductReplica:
    replica, _ = ProductReplica.objects.update_or_create(product_id=product_id, defaults={"name": name})
    return replica


@transaction.atomic
def product_replica_mark_deleted(*, product_id: int) -> ProductReplica:
    """Tombstone the product: no new reviews of it; the existing ones stay."""
    replica, _ = ProductReplica.objects.update_or_create(product_id=product_id, defaults={"is_deleted": True})
    return replica


# --- purchases, fed by handlers.py --------------------------------------------------------


@transaction.atomic
def purchases_record(*, order_id: int, user_id: int, product_ids: list[int]) -> None:
    """Remember that the user bought these products in the paid order `order_id`.

    Recording an order again adds nothing: the unique (user, product, order) rows
    are skipped, so a copy of `order.paid` under a new event id is harmless too."""
    Purchase.objects.bulk_create(
        [Purchase(user_id=user_id, product_id=product_id, order_id=order_id) for product_id in set(product_ids)],
        ignore_conflicts=True,
    )


# --- reviews, written through the API ---------------------------------------------------


@transaction.atomic
def review_create(*, user_id: int, product_id: int, rating: int, comment: str = "") -> Review:
    product = ProductReplica.objects.filter(pk=product_id, is_deleted=False).first()
    if product is None:
        raise ApplicationError(
            "Invalid input.", code="validation_error", fields={"product_id": [f"Unknown product {product_id}."]}
        )
    if not 1 <= rating <= 5:
        raise ApplicationError(
            "Invalid input.", code="validation_error", fields={"rating": ["Ensure this value is between 1 and 5."]}
        )
    already_reviewed = Conflict("You have already reviewed this product.", code="already_reviewed")
    if Review.objects.filter(user_id=user_id, product=product).exists():
        raise already_reviewed
    try:
        # A savepoint, so that losing a race to a concurrent request of the same user
        # leaves this transaction usable for the error response.
        with transaction.atomic():
            review = Review.objects.create(
                user_id=user_id,
                product=product,
                rating=rating,
                comment=comment,
                verified_purchase=selectors.purchase_exists(user_id=user_id, product_id=product_id),
            )
    except IntegrityError:
        raise already_reviewed from None
    publish(
        ReviewCreated(
            review_id=review.id,
            product_id=product.product_id,
            user_id=user_id,
            rating=rating,
            verified_purchase=review.verified_purchase,
        )
    )
    return review
