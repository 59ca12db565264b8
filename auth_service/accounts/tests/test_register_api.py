import pytest
from django.contrib.auth.models import User

from commerce_core.events.models import OutboxMessage

from .conftest import PASSWORD

pytestmark = pytest.mark.django_db

URL = "/api/auth/register/"


def register(client, **overrides):
    body = {"username": "bob", "email": "bob@example.com", "password": PASSWORD, **overrides}
    return client.post(URL, body, format="json")


def test_registering_creates_the_user_and_stores_the_registered_event_in_the_outbox(
    api_client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as sends:
        response = register(api_client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {"id", "username", "email"}
    user = User.objects.get(pk=body["id"])
    assert (user.username, user.email) == ("bob", "bob@example.com")
    assert user.check_password(PASSWORD)
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "auth.user.registered"
    assert outbox.envelope["data"] == {"user_id": user.id, "username": "bob", "email": "bob@example.com"}
    assert len(sends) == 1  # the send to the bus waits for the commit


def test_a_taken_username_in_any_case_is_a_field_error(api_client, user):
    response = register(api_client, username="ALICE")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) == {"username"}
    assert not OutboxMessage.objects.exists()


def test_a_taken_email_in_any_case_is_a_field_error(api_client, user):
    response = register(api_client, email="Alice@EXAMPLE.com")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"email"}


def test_a_weak_password_is_a_field_error_and_creates_nobody(api_client):
    response = register(api_client, password="12345678")

    assert response.status_code == 400
    error = response.json()["error"]
    assert set(error["fields"]) == {"password"}
    assert any("common" in message for message in error["fields"]["password"])
    assert not User.objects.exists()


def test_a_password_like_the_username_is_rejected(api_client):
    response = register(api_client, username="margaretha", password="margaretha1")

    assert response.status_code == 400
    assert "password" in response.json()["error"]["fields"]


def test_missing_and_malformed_fields_are_each_reported(api_client):
    response = api_client.post(URL, {"username": "not a valid name!", "email": "nope"}, format="json")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username", "email", "password"}


def test_an_invalid_username_is_a_field_error(api_client):
    response = register(api_client, username="no spaces allowed")

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"username"}


def test_malformed_json_is_a_400_in_the_common_shape(api_client):
    response = api_client.post(URL, "{not json", content_type="application/json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "parse_error"


def test_the_schema_describes_the_request_and_response_bodies(api_client):
    response = api_client.get("/api/auth/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert {"/api/auth/register/", "/api/auth/token/", "/api/auth/token/refresh/", "/api/auth/me/"} <= set(paths)
    register_op = paths["/api/auth/register/"]["post"]
    assert "requestBody" in register_op
    assert {"201", "400"} <= set(register_op["responses"])


def test_a_registration_that_loses_a_race_for_the_username_still_gets_a_field_error(api_client, user, monkeypatch):
    from accounts import selectors

    # The check says the name is free, as it would while a concurrent registration
    # of "Alice" has not committed yet; the database's unique index then refuses it.
    real = selectors.username_taken
    calls = []

    def free_at_first(**kwargs):
        calls.append(kwargs)
        return len(calls) > 1 and real(**kwargs)

    monkeypatch.setattr(selectors, "username_taken", free_at_first)

    response = register(api_client, username="Alice")

    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"username": ["A user with that username already exists."]}
    assert len(calls) == 2  # the check, then the diagnosis of the refused insert
