import pytest
from carts.services import cart_item_add

from orders import services


def checkout(client, payment_token="tok_visa", *, key=None, **body):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    return client.post("/api/cart/checkout/", {"payment_token": payment_token, **body}, format="json", **headers)


def checkout_declined(client) -> int:
    """Check out and have the card declined: the order fails and its lines come back to
    the cart, so that the customer can check out again. Returns the order's id."""
    order_id = checkout(client, "tok_chargeDeclined").json()["order_id"]
    services.order_fail(order_id=order_id, reason="Your card was declined.")
    return order_id


@pytest.fixture
def mug_and_pot(catalog_product):
    """Two products: a mug at 12.50 and a pot at 3.00, ten of each in stock."""
    return catalog_product(price="12.50", name="Mug"), catalog_product(price="3.00", name="Pot")


@pytest.fixture
def filled_cart(customer, mug_and_pot):
    """The customer's cart holds 2 mugs and 1 pot (28.00); returns (mug, pot)."""
    mug, pot = mug_and_pot
    cart_item_add(user_id=customer.principal.id, product_id=mug, quantity=2)
    cart_item_add(user_id=customer.principal.id, product_id=pot, quantity=1)
    return mug, pot


@pytest.fixture
def placed_order(customer, filled_cart):
    """A pending order of the customer's cart, placed the way checkout places it."""
    return services.order_place(user_id=customer.principal.id, payment_token="tok_visa")
