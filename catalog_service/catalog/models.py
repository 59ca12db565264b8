from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models


def validate_not_only_digits(value: str) -> None:
    # Filters accept a category by id or by slug; an all-digit slug would read as an id.
    if value.isdigit():
        raise ValidationError("A slug needs at least one letter, hyphen or underscore.", code="digits_only")


class Category(models.Model):
    """A shelf of the shop. Products name at most one."""

    name = models.CharField(max_length=100, unique=True)
    slug = models.SlugField(
        max_length=100,
        unique=True,
        validators=[validate_not_only_digits],
        help_text="The category's name in URLs and filters.",
    )
    description = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self):
        return self.name


class Product(models.Model):
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, validators=[MinValueValidator(Decimal("0.00"))])
    # Positive in the database too: the last line of defence against overselling.
    stock = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(default=True)
    # PROTECT rather than SET_NULL: deleting a shelf should not silently uncategorise
    # everything on it; staff move the products first (services.category_delete says so).
    category = models.ForeignKey(Category, on_delete=models.PROTECT, null=True, blank=True, related_name="products")
    # Kept up to date from review events; never written by the API. The sum is kept
    # beside the count so the average is exact after any number of reviews, instead of
    # drifting from being re-derived from an already rounded average.
    rating_avg = models.DecimalField(max_digits=3, decimal_places=2, default=Decimal("0.00"))
    rating_count = models.PositiveIntegerField(default=0)
    rating_sum = models.PositiveBigIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["price"]), models.Index(fields=["name"])]

    def __str__(self):
        return self.name
