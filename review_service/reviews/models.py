from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models


class ProductReplica(models.Model):
    """What the review service knows of a catalog product, learnt from catalog events only.

    A `catalog.product.deleted` that overtakes the product's creation leaves a
    tombstone without a name, which the creation then names but never revives.
    """

    product_id = models.PositiveBigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    is_deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id"]

    def __str__(self):
        return self.name or f"product {self.product_id}"


class Review(models.Model):
    # Replicas are never deleted (see ProductReplica.is_deleted), hence PROTECT.
    product = models.ForeignKey(ProductReplica, on_delete=models.PROTECT, related_name="reviews")
    user_id = models.PositiveBigIntegerField(db_index=True)
    rating = models.PositiveSmallIntegerField(validators=[MinValueValidator(1), MaxValueValidator(5)])
    comment = models.TextField(blank=True)
    # Whether the reviewer had a paid order with the product when writing the review.
    verified_purchase = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user_id", "product"], name="review_once_per_user_and_product"),
            models.CheckConstraint(condition=models.Q(rating__gte=1, rating__lte=5), name="review_rating_1_to_5"),
        ]

    def __str__(self):
        return f"{self.rating}★ for {self.product} by user {self.user_id}"


class Purchase(models.Model):
    """A product a user bought: one line of a paid order, learnt from `order.paid` only.

    Plain ids rather than foreign keys: it is a fact about the order, true whether or
    not this service has heard of the product yet."""

    user_id = models.PositiveBigIntegerField()
    product_id = models.PositiveBigIntegerField()
    order_id = models.PositiveBigIntegerField(db_index=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            # Also the index `purchase_exists` reads through (user_id, product_id first).
            models.UniqueConstraint(fields=["user_id", "product_id", "order_id"], name="purchase_once_per_order_line"),
        ]

    def __str__(self):
        return f"user {self.user_id} bought product {self.product_id} (order {self.order_id})"
