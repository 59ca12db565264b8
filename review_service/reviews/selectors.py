"""Reads of reviews."""

from django.db.models import QuerySet

from .models import Purchase, Review


def review_list() -> QuerySet[Review]:
    """Every review, newest first; reviews of a product that has since been deleted included."""
    return Review.objects.all()


def purchase_exists(*, user_id: int, product_id: int) -> bool:
    """Whether the user has a paid order with the product."""
    return Purchase.objects.filter(user_id=user_id, product_id=product_id).exists()
