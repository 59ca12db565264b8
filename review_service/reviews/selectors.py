"""Reads of reviews."""
from django.db.models import QuerySet

from .models import Review


def review_list() -> QuerySet[Review]:
    """Every review, newest first; reviews of a product that has since been deleted included."""
    return Review.objects.all()
