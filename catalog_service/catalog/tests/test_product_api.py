from decimal import Decimal

import pytest

from catalog.models import Product
from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


def test_anyone_can_list_products(api_client):
    Product.objects.create(name="Mug", price=Decimal("9.90"), stock=3)
    response = api_client.get("/api/catalog/products/")
    assert response.status_code == 200
    assert response.json()["results"][0]["name"] == "Mug"


def test_staff_creates_a_product_and_the_event_is_stored_in_the_outbox(
    api_client, as_principal, principal_factory, django_capture_on_commit_callbacks
):
    as_principal(api_client, principal_factory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(
            "/api/catalog/products/", {"name": "Mug", "price": "12.50", "stock": 10}, format="json"
        )
    assert response.status_code == 201, response.content
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "catalog.product.created"
    assert outbox.envelope["data"] == {
        "product_id": response.json()["id"],
        "name": "Mug",
        "price": "12.50",
        "stock": 10,
    }


def test_a_customer_cannot_create_products(api_client, as_principal, principal_factory):
    as_principal(api_client, principal_factory())
    response = api_client.post("/api/catalog/products/", {"name": "Mug", "price": "1.00"}, format="json")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"


def test_an_anonymous_caller_is_told_to_authenticate(api_client):
    response = api_client.post("/api/catalog/products/", {"name": "Mug", "price": "1.00"}, format="json")
    assert response.status_code == 401


def test_a_forged_identity_header_is_anonymous(api_client, principal_factory):
    from commerce_core.identity.gateway_identity import META_KEY, sign_identity

    forged = sign_identity(principal_factory(is_staff=True), secret="not-the-gateway-key")
    api_client.credentials(**{META_KEY: forged})
    response = api_client.post("/api/catalog/products/", {"name": "Mug", "price": "1.00"}, format="json")
    assert response.status_code == 401


def test_invalid_product_input_gets_field_errors(api_client, as_principal, principal_factory):
    as_principal(api_client, principal_factory(is_staff=True))
    response = api_client.post("/api/catalog/products/", {"name": "", "price": "1.234", "stock": -1}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"name", "price", "stock"}


def test_malformed_json_is_a_400_in_the_common_shape(api_client, as_principal, principal_factory):
    as_principal(api_client, principal_factory(is_staff=True))
    response = api_client.post("/api/catalog/products/", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_a_price_with_three_decimals_or_a_negative_stock_or_an_unknown_category_gets_field_errors(staff_client):
    response = staff_client.post(
        "/api/catalog/products/", {"name": "Mug", "price": "9.999", "stock": -3, "category": 999}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"price", "stock", "category"}


@pytest.mark.parametrize("price", ["-0.01", "NaN", "Infinity", "twelve", "123456789.00"])
def test_a_price_that_is_not_a_plausible_amount_is_refused(staff_client, price):
    response = staff_client.post("/api/catalog/products/", {"name": "Mug", "price": price}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"price"}


def test_a_product_without_a_name_is_refused(staff_client):
    response = staff_client.post("/api/catalog/products/", {"price": "1.00"}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"name"}


def test_staff_create_a_product_in_a_category(staff_client, make_category):
    category = make_category("Kitchen")
    response = staff_client.post(
        "/api/catalog/products/", {"name": "Pan", "price": "30.00", "category": category.pk}, format="json"
    )
    assert response.status_code == 201, response.content
    assert response.json()["category"] == category.pk
    assert Product.objects.get().category == category


def test_the_product_detail_carries_the_contract_fields(api_client, make_product):
    product = make_product()
    body = api_client.get(f"/api/catalog/products/{product.pk}/").json()
    assert {"id", "name", "price", "stock", "rating_avg", "rating_count", "category"} <= set(body)


def test_a_partial_update_changes_only_what_it_names_and_announces_price_and_stock(
    staff_client, make_product, make_category
):
    product = make_product(name="Mug", price="10.00", stock=5, description="Blue")
    category = make_category("Kitchen")
    response = staff_client.patch(
        f"/api/catalog/products/{product.pk}/", {"price": "12.00", "stock": 8, "category": category.pk}, format="json"
    )
    assert response.status_code == 200, response.content
    product.refresh_from_db()
    assert (product.name, product.description, product.price, product.stock, product.category) == (
        "Mug",
        "Blue",
        Decimal("12.00"),
        8,
        category,
    )
    events = {m.event_type: m.envelope["data"] for m in OutboxMessage.objects.all()}
    assert events == {
        "catalog.product.price_changed": {"product_id": product.pk, "old_price": "10.00", "price": "12.00"},
        "catalog.product.stock_changed": {"product_id": product.pk, "stock": 8},
    }


def test_the_list_shows_a_new_price_and_stock_at_the_next_request_after_a_change(
    api_client, staff_client, make_product
):
    product = make_product(name="Mug", price="10.00", stock=5)
    before = api_client.get("/api/catalog/products/").json()["results"]

    staff_client.patch(f"/api/catalog/products/{product.pk}/", {"price": "12.00"}, format="json")
    Product.objects.filter(pk=product.pk).update(stock=4)  # as a reservation's delivery would
    after = api_client.get("/api/catalog/products/").json()["results"]

    assert [(p["price"], p["stock"]) for p in before] == [("10.00", 5)]
    assert [(p["price"], p["stock"]) for p in after] == [("12.00", 4)]


def test_a_partial_update_can_take_a_product_out_of_its_category(staff_client, make_product, make_category):
    product = make_product(category=make_category("Kitchen"))
    response = staff_client.patch(f"/api/catalog/products/{product.pk}/", {"category": None}, format="json")
    assert response.status_code == 200
    assert response.json()["category"] is None


def test_a_partial_update_with_bad_values_changes_nothing(staff_client, make_product):
    product = make_product(price="10.00", stock=5)
    response = staff_client.patch(
        f"/api/catalog/products/{product.pk}/", {"price": "1.001", "stock": -1}, format="json"
    )
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"price", "stock"}
    product.refresh_from_db()
    assert (product.price, product.stock) == (Decimal("10.00"), 5)
    assert not OutboxMessage.objects.exists()


def test_deleting_a_product_announces_it(staff_client, make_product):
    product = make_product()
    response = staff_client.delete(f"/api/catalog/products/{product.pk}/")
    assert response.status_code == 204
    assert not Product.objects.exists()
    message = OutboxMessage.objects.get()
    assert (message.event_type, message.envelope["data"]) == ("catalog.product.deleted", {"product_id": product.pk})


def test_a_customer_cannot_change_or_delete_a_product(customer_client, make_product):
    product = make_product()
    assert (
        customer_client.patch(f"/api/catalog/products/{product.pk}/", {"price": "0.00"}, format="json").status_code
        == 403
    )
    assert customer_client.delete(f"/api/catalog/products/{product.pk}/").status_code == 403
    assert Product.objects.get().price == Decimal("10.00")


def test_the_request_id_travels_on_the_events_the_request_publishes(
    api_client, as_principal, principal_factory, django_capture_on_commit_callbacks
):
    as_principal(api_client, principal_factory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post(
            "/api/catalog/products/",
            {"name": "Mug", "price": "2.00"},
            format="json",
            HTTP_X_REQUEST_ID="trace-0123456789",
        )
    assert response["X-Request-ID"] == "trace-0123456789"
    outbox = OutboxMessage.objects.get()
    assert outbox.correlation_id == "trace-0123456789"
    assert outbox.envelope["correlationid"] == "trace-0123456789"
    assert outbox.envelope["subject"] == f"product/{response.json()['id']}"


def test_the_list_and_the_detail_write_a_product_exactly_as_drf_fields_would(api_client, make_product, make_category):
    # The product's output is written by hand (apis.product_representation); DRF's own
    # ModelSerializer of the same fields is the reference, for every kind of column.
    from datetime import UTC, datetime

    from rest_framework import serializers

    from catalog.apis import PRODUCT_FIELDS

    class Reference(serializers.ModelSerializer):
        class Meta:
            model = Product
            fields = list(PRODUCT_FIELDS)

    kitchen = make_category("Kitchen")
    make_product("Mug", price="0.00", description='Ünïcode \u2028 and "quotes"', category=kitchen)
    make_product("Lamp", price="99999999.99", stock=0, rating_avg="4.67", rating_count=3)
    make_product("On the second", price="7.50")
    Product.objects.filter(name="On the second").update(created_at=datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC))

    expected = [Reference(product).data for product in Product.objects.order_by("id")]
    listed = api_client.get("/api/catalog/products/").json()["results"]
    assert listed == [dict(product) for product in Reference(Product.objects.order_by("id"), many=True).data]
    assert listed == [api_client.get(f"/api/catalog/products/{p['id']}/").json() for p in expected]
    assert listed[2]["created_at"] == "2030-01-02T03:04:05Z"
