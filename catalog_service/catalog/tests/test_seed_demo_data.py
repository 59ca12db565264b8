import io

import pytest
from django.core.management import call_command

from catalog.models import Category, Product
from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


def seed() -> str:
    out = io.StringIO()
    call_command("seed_demo_data", stdout=out)
    return out.getvalue()


def test_the_demo_catalog_fills_every_category_and_announces_each_product():
    seed()
    assert Category.objects.count() == 6
    assert Product.objects.count() >= 40
    assert not Product.objects.filter(category=None).exists()
    assert all(category.products.count() >= 5 for category in Category.objects.all())
    assert OutboxMessage.objects.filter(event_type="catalog.product.created").count() == Product.objects.count()


def test_seeding_again_creates_nothing_new_and_keeps_what_staff_changed():
    seed()
    products, events = Product.objects.count(), OutboxMessage.objects.count()
    Product.objects.filter(name="Chef's Knife 20 cm").update(stock=0)

    output = seed()

    assert "0 new products" in output
    assert (Category.objects.count(), Product.objects.count(), OutboxMessage.objects.count()) == (6, products, events)
    assert Product.objects.get(name="Chef's Knife 20 cm").stock == 0


def test_seeding_keeps_a_category_that_staff_gave_another_slug():
    Category.objects.create(name="Books", slug="reading")
    seed()
    assert Category.objects.count() == 6
    assert Category.objects.get(name="Books").products.exists()
