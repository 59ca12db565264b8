"""Fixtures every app of the cart service tests with."""
import itertools
from decimal import Decimal

import pytest

from commerce_core.events.contracts.catalog import ProductCreated

_product_ids = itertools.count(500)


@pytest.fixture
def catalog_product(deliver):
    """Announce a product the way the catalog does; returns its id."""

    def announce(*, price: str = "10.00", stock: int = 10, name: str = "Mug") -> int:
        product_id = next(_product_ids)
        deliver(ProductCreated(product_id=product_id, name=name, price=Decimal(price), stock=stock))
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


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory):
    """On SQLite, test against a database file, as the service runs, rather than Django's
    in-memory default: its shared cache fails concurrent writers at once ("table is
    locked") where a file makes them wait, so the tests of concurrent checkouts could
    not run. PostgreSQL needs nothing."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test_cart.sqlite3")
