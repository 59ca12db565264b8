import itertools
from decimal import Decimal

import pytest

from commerce_core.events.contracts.catalog import ProductCreated

_product_ids = itertools.count(500)


@pytest.fixture
def catalog_product(deliver):
    """Announce a product the way the catalog does; returns its id."""

    def announce(*, name: str = "Mug") -> int:
        product_id = next(_product_ids)
        deliver(ProductCreated(product_id=product_id, name=name, price=Decimal("10.00"), stock=1))
        return product_id

    return announce


@pytest.fixture
def api_client_factory(as_principal, principal_factory):
    """A new signed-in customer's API client at each call; `client.principal` is who it is."""
    from rest_framework.test import APIClient

    def make():
        client = APIClient()
        client.principal = principal_factory()
        return as_principal(client, client.principal)

    return make


@pytest.fixture
def customer(api_client_factory):
    return api_client_factory()
