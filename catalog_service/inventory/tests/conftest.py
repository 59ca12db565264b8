from decimal import Decimal

import pytest
from catalog.models import Product


@pytest.fixture
def make_product():
    def make(name: str = "Mug", stock: int = 10, price: str = "10.00", **fields) -> Product:
        return Product.objects.create(name=name, stock=stock, price=Decimal(price), **fields)

    return make


@pytest.fixture
def staff_client(api_client, as_principal, principal_factory):
    return as_principal(api_client, principal_factory(is_staff=True))
