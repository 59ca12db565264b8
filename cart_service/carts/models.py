from django.core.validators import MinValueValidator
from django.db import models


class ProductReplica(models.Model):
    """What the cart knows of a catalog product, learnt from catalog events only.

    Events can arrive out of order, so the price and the stock each remember when
    the catalog published them, and only a newer event replaces them. A replica
    can therefore exist before its `catalog.product.created` arrives, holding just
    what the events so far told; it is sold only once its price is known.
    """

    product_id = models.PositiveBigIntegerField(primary_key=True)
    name = models.CharField(max_length=200, blank=True)
    price = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    price_as_of = models.DateTimeField(null=True, blank=True)
    stock = models.PositiveIntegerField(default=0)
    stock_as_of = models.DateTimeField(null=True, blank=True)
    # A tombstone rather than a deletion, so that a late event cannot bring it back.
    is_deleted = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product_id"]

    def __str__(self):
        return self.name or f"product {self.product_id}"

    @property
    def is_purchasable(self) -> bool:
        return not self.is_deleted and self.price is not None


class Cart(models.Model):
    user_id = models.PositiveBigIntegerField(unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-updated_at"]

    def __str__(self):
        return f"cart of user {self.user_id}"


class CartItem(models.Model):
    """A product and how many of it. The unit price is not stored: it is the
    replica's current price whenever the cart is read."""

    cart = models.ForeignKey(Cart, on_delete=models.CASCADE, related_name="items")
    # Replicas are never deleted (see ProductReplica.is_deleted), hence PROTECT.
    product = models.ForeignKey(ProductReplica, on_delete=models.PROTECT, related_name="cart_items")
    quantity = models.PositiveIntegerField(validators=[MinValueValidator(1)])
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["cart", "product"], name="cart_item_once_per_product"),
            models.CheckConstraint(condition=models.Q(quantity__gte=1), name="cart_item_quantity_positive"),
        ]

    def __str__(self):
        return f"{self.quantity} × {self.product}"
