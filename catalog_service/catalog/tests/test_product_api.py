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


def test_staff_creates_a_product_and_the_event_is_stored_in_the_outbox(api_client, as_principal, principal_factory,
                                                                         django_capture_on_commit_callbacks):
    as_principal(api_client, principal_factory(is_staff=True))
    with django_capture_on_commit_callbacks(execute=False):
        response = api_client.post("/api/catalog/products/", {"name": "Mug", "price": "12.50", "stock": 10},
                                   format="json")
    assert response.status_code == 201, response.content
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "catalog.product.created"
    assert outbox.envelope["data"] == {"product_id": response.json()["id"], "name": "Mug", "price": "12.50", "stock": 10}


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
