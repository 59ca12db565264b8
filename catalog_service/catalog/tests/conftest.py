from decimal import Decimal

import pytest

from catalog.models import Category, Product


@pytest.fixture
def staff_client(api_client, as_principal, principal_factory):
    return as_principal(api_client, principal_factory(is_staff=True))


@pytest.fixture
def customer_client(api_client, as_principal, principal_factory):
    return as_principal(api_client, principal_factory())


@pytest.fixture
def make_category():
    def make(name: str = "Kitchen", slug: str | None = None) -> Category:
        return Category.objects.create(name=name, slug=slug or name.lower().replace(" ", "-"))

    return make


@pytest.fixture
def make_product():
    """A product stored directly, so the outbox holds only what the test itself causes."""

    def make(name: str = "Mug", price: str = "10.00", stock: int = 10, **fields) -> Product:
        return Product.objects.create(name=name, price=Decimal(price), stock=stock, **fields)

    return make
