from decimal import Decimal

import pytest

from commerce_core.events.contracts.catalog import ProductDeleted
from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


def add(client, product_id, quantity=1):
    return client.post("/api/cart/items/", {"product_id": product_id, "quantity": quantity}, format="json")


def test_a_new_customer_has_an_empty_cart(customer):
    response = customer.get("/api/cart/")
    assert response.status_code == 200
    assert response.json() == {"items": [], "total": "0.00"}


def test_adding_a_product_answers_201_with_the_priced_cart(customer, catalog_product):
    mug = catalog_product(price="12.50", stock=5)
    response = add(customer, mug, 2)
    assert response.status_code == 201, response.content
    assert response.json() == {"items": [{"product_id": mug, "quantity": 2, "unit_price": "12.50"}], "total": "25.00"}
    assert customer.get("/api/cart/").json() == response.json()


def test_adding_a_product_already_in_the_cart_raises_its_quantity(customer, catalog_product):
    mug = catalog_product(stock=5)
    add(customer, mug, 2)
    response = add(customer, mug, 3)
    assert response.status_code == 201
    assert response.json()["items"] == [{"product_id": mug, "quantity": 5, "unit_price": "10.00"}]


def test_a_product_the_cart_has_never_heard_of_is_a_field_error(customer):
    response = add(customer, 999_999)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"product_id"}


def test_a_deleted_product_cannot_be_added(customer, catalog_product, deliver):
    mug = catalog_product()
    deliver(ProductDeleted(product_id=mug))
    response = add(customer, mug)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"product_id"}


@pytest.mark.parametrize("quantity", [0, -1])
def test_a_quantity_below_one_is_rejected(customer, catalog_product, quantity):
    response = add(customer, catalog_product(), quantity)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"quantity"}


def test_a_quantity_above_the_stock_is_rejected(customer, catalog_product):
    response = add(customer, catalog_product(stock=3), 4)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"quantity"}


def test_adding_more_than_the_stock_in_two_steps_is_rejected_too(customer, catalog_product):
    mug = catalog_product(stock=3)
    add(customer, mug, 2)
    response = add(customer, mug, 2)
    assert response.status_code == 400
    assert customer.get("/api/cart/").json()["items"][0]["quantity"] == 2


def test_patching_an_item_sets_its_quantity(customer, catalog_product):
    mug = catalog_product(price="2.00", stock=9)
    add(customer, mug, 1)
    response = customer.patch(f"/api/cart/items/{mug}/", {"quantity": 4}, format="json")
    assert response.status_code == 200
    assert response.json() == {"items": [{"product_id": mug, "quantity": 4, "unit_price": "2.00"}], "total": "8.00"}


def test_patching_above_the_stock_or_to_zero_is_rejected(customer, catalog_product):
    mug = catalog_product(stock=3)
    add(customer, mug, 1)
    assert customer.patch(f"/api/cart/items/{mug}/", {"quantity": 4}, format="json").status_code == 400
    assert customer.patch(f"/api/cart/items/{mug}/", {"quantity": 0}, format="json").status_code == 400


def test_patching_a_product_not_in_the_cart_is_404(customer, catalog_product):
    response = customer.patch(f"/api/cart/items/{catalog_product()}/", {"quantity": 1}, format="json")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_deleting_an_item_takes_it_out_of_the_cart(customer, catalog_product):
    mug, pot = catalog_product(price="1.00"), catalog_product(price="2.00")
    add(customer, mug)
    add(customer, pot)
    response = customer.delete(f"/api/cart/items/{mug}/")
    assert response.status_code == 204
    assert customer.get("/api/cart/").json() == {
        "items": [{"product_id": pot, "quantity": 1, "unit_price": "2.00"}],
        "total": "2.00",
    }


def test_deleting_a_product_not_in_the_cart_is_404(customer, catalog_product):
    assert customer.delete(f"/api/cart/items/{catalog_product()}/").status_code == 404


@pytest.mark.parametrize(
    "method, path",
    [
        ("get", "/api/cart/"),
        ("post", "/api/cart/items/"),
        ("patch", "/api/cart/items/1/"),
        ("delete", "/api/cart/items/1/"),
    ],
)
def test_an_anonymous_caller_is_told_to_authenticate(api_client, method, path):
    response = getattr(api_client, method)(path, {}, format="json")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_one_customer_never_sees_or_changes_another_customers_cart(customer, catalog_product, api_client_factory):
    mug = catalog_product()
    add(customer, mug, 2)
    someone_else = api_client_factory()
    assert someone_else.get("/api/cart/").json() == {"items": [], "total": "0.00"}
    assert someone_else.patch(f"/api/cart/items/{mug}/", {"quantity": 1}, format="json").status_code == 404
    assert someone_else.delete(f"/api/cart/items/{mug}/").status_code == 404
    assert customer.get("/api/cart/").json()["items"][0]["quantity"] == 2


def test_the_cart_shows_the_products_current_price(customer, catalog_product, deliver):
    from commerce_core.events.contracts.catalog import ProductPriceChanged

    mug = catalog_product(price="10.00")
    add(customer, mug, 3)
    deliver(ProductPriceChanged(product_id=mug, old_price=Decimal("10.00"), price=Decimal("8.00")))
    assert customer.get("/api/cart/").json() == {
        "items": [{"product_id": mug, "quantity": 3, "unit_price": "8.00"}],
        "total": "24.00",
    }


def test_every_change_stores_cart_updated_for_the_owner_in_the_outbox(
    customer, catalog_product, django_capture_on_commit_callbacks
):
    mug = catalog_product(price="12.50", stock=5)
    user_id = customer.principal.id
    # Nothing reaches Redis: the on-commit send is captured and not run.
    with django_capture_on_commit_callbacks(execute=False) as sends:
        add(customer, mug, 2)
        customer.patch(f"/api/cart/items/{mug}/", {"quantity": 3}, format="json")
        customer.delete(f"/api/cart/items/{mug}/")
    assert len(sends) == 3
    messages = list(OutboxMessage.objects.filter(event_type="cart.updated").order_by("created_at"))
    assert [m.envelope["data"] for m in messages] == [
        {"user_id": user_id, "items": [{"product_id": mug, "quantity": 2, "unit_price": "12.50"}], "total": "25.00"},
        {"user_id": user_id, "items": [{"product_id": mug, "quantity": 3, "unit_price": "12.50"}], "total": "37.50"},
        {"user_id": user_id, "items": [], "total": "0.00"},
    ]


def test_a_rejected_change_publishes_nothing(customer, catalog_product):
    add(customer, catalog_product(stock=1), 2)
    assert not OutboxMessage.objects.filter(event_type="cart.updated").exists()
