import pytest
from django.contrib.auth.models import User

from accounts import services
from commerce_core.events.models import OutboxMessage
from commerce_core.web.errors import ApplicationError

pytestmark = pytest.mark.django_db


def change_form(user: User, **overrides) -> dict:
    """What the admin's change page posts for `user`, with `overrides`."""
    form = {
        "username": user.username,
        "email": user.email,
        "first_name": "",
        "last_name": "",
        "is_active": "on" if user.is_active else "",
        "is_staff": "",
        "is_superuser": "",
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": "12:00:00",
        **overrides,
    }
    return {key: value for key, value in form.items() if value != ""}


def test_changing_the_email_through_the_service_publishes_user_updated(user, no_event_sending):
    services.user_update(user_id=user.id, email="alice@new.example.com")

    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "auth.user.updated"
    assert outbox.envelope["data"] == {
        "user_id": user.id,
        "username": "alice",
        "email": "alice@new.example.com",
        "is_active": True,
    }


def test_deactivating_through_the_service_publishes_user_updated(user, no_event_sending):
    services.user_update(user_id=user.id, is_active=False)

    assert OutboxMessage.objects.get().envelope["data"]["is_active"] is False


def test_a_change_of_nothing_others_know_publishes_nothing(user, no_event_sending):
    user.first_name = "Alice"
    services.user_save(user=user)

    assert not OutboxMessage.objects.exists()


def test_the_service_refuses_an_email_another_user_has(user, no_event_sending):
    other = User.objects.create_user(username="bob", email="bob@example.com", password="x")

    with pytest.raises(ApplicationError) as raised:
        services.user_update(user_id=other.id, email="ALICE@example.com")
    assert set(raised.value.fields) == {"email"}


def test_the_database_refuses_usernames_and_emails_that_differ_only_in_case(user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="ALICE", email="other@example.com")
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="other", email="ALICE@example.com")


def test_an_admin_edit_publishes_user_updated(operator_client, user, no_event_sending):
    response = operator_client.post(
        f"/admin/auth/auth/user/{user.id}/change/", change_form(user, username="alice_renamed")
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    user.refresh_from_db()
    assert user.username == "alice_renamed"
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "auth.user.updated"
    assert outbox.envelope["data"]["username"] == "alice_renamed"


def test_an_admin_edit_to_a_taken_email_is_a_form_error(operator_client, user, no_event_sending):
    other = User.objects.create_user(username="bob", email="bob@example.com", password="x")

    response = operator_client.post(
        f"/admin/auth/auth/user/{other.id}/change/", change_form(other, email="Alice@example.com")
    )

    assert response.status_code == 200
    assert services.EMAIL_TAKEN in response.content.decode()
    assert not OutboxMessage.objects.exists()


def test_a_user_added_in_the_admin_is_announced_as_registered(operator_client, no_event_sending):
    response = operator_client.post(
        "/admin/auth/auth/user/add/",
        {
            "username": "carol",
            "email": "carol@example.com",
            "usable_password": "true",
            "password1": "correct-horse-battery-staple",
            "password2": "correct-horse-battery-staple",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    carol = User.objects.get(username="carol")
    assert carol.check_password("correct-horse-battery-staple")
    outbox = OutboxMessage.objects.get()
    assert outbox.event_type == "auth.user.registered"
    assert outbox.envelope["data"] == {"user_id": carol.id, "username": "carol", "email": "carol@example.com"}
