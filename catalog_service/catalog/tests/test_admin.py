"""The admin writes through the services, so its changes are announced like the API's."""

from decimal import Decimal

import pytest

from catalog.models import Category, Product
from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


def product_form(**values) -> dict:
    form = {"name": "Mug", "description": "", "price": "10.00", "stock": "5", "is_active": "on", "category": ""}
    form.update(values)
    return form


def event_types() -> list[str]:
    return sorted(OutboxMessage.objects.values_list("event_type", flat=True))


def test_adding_a_product_in_the_admin_announces_it(operator_client, make_category):
    category = make_category("Kitchen")
    response = operator_client.post("/admin/catalog/catalog/product/add/", product_form(category=category.pk))
    assert response.status_code == 302, response.content
    product = Product.objects.get()
    assert (product.name, product.category) == ("Mug", category)
    assert event_types() == ["catalog.product.created"]


def test_changing_a_price_in_the_admin_announces_the_new_price(operator_client, make_product):
    product = make_product(price="10.00", stock=5)
    response = operator_client.post(f"/admin/catalog/catalog/product/{product.pk}/change/", product_form(price="7.50"))
    assert response.status_code == 302, response.content
    assert Product.objects.get().price == Decimal("7.50")
    assert event_types() == ["catalog.product.price_changed"]


def test_a_three_decimal_price_is_refused_by_the_admin_form(operator_client, make_product):
    product = make_product(price="10.00")
    response = operator_client.post(f"/admin/catalog/catalog/product/{product.pk}/change/", product_form(price="7.505"))
    assert response.status_code == 200  # the form again, with its error
    assert Product.objects.get().price == Decimal("10.00")
    assert not OutboxMessage.objects.exists()


def test_deleting_products_in_the_admin_announces_each_deletion(operator_client, make_product):
    first, second = make_product("Mug"), make_product("Cup")
    response = operator_client.post(f"/admin/catalog/catalog/product/{first.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    response = operator_client.post(
        "/admin/catalog/catalog/product/", {"action": "delete_selected", "post": "yes", "_selected_action": [second.pk]}
    )
    assert response.status_code == 302
    assert not Product.objects.exists()
    assert event_types() == ["catalog.product.deleted", "catalog.product.deleted"]


def test_the_product_list_in_the_admin_filters_by_category_and_searches(operator_client, make_category, make_product):
    category = make_category("Kitchen")
    make_product("Skillet", category=category)
    response = operator_client.get("/admin/catalog/catalog/product/", {"category__id__exact": category.pk, "q": "skil"})
    assert response.status_code == 200
    assert b"Skillet" in response.content


def test_categories_are_managed_in_the_admin(operator_client):
    response = operator_client.post(
        "/admin/catalog/catalog/category/add/", {"name": "Books", "slug": "books", "description": ""}
    )
    assert response.status_code == 302, response.content
    assert Category.objects.get().slug == "books"
    assert operator_client.get("/admin/catalog/catalog/category/", {"q": "boo"}).status_code == 200
