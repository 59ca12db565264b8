from io import StringIO

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command

from commerce_core.events.models import OutboxMessage

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _default_demo_credentials(monkeypatch):
    """The defaults, whatever the environment running the tests says."""
    for name in ("DEMO_USERNAME", "DEMO_PASSWORD", "DEMO_EMAIL"):
        monkeypatch.delenv(name, raising=False)


def seed() -> str:
    out = StringIO()
    call_command("seed_demo_data", stdout=out)
    return out.getvalue()


def test_seeding_registers_the_default_demo_customer_and_prints_how_to_sign_in(no_event_sending):
    output = seed()

    demo = User.objects.get(username="demo")
    assert demo.check_password("demo-password-123")
    assert (demo.email, demo.is_staff, demo.is_active) == ("demo@example.com", False, True)
    assert "'demo'" in output and "'demo-password-123'" in output


def test_the_demo_customer_is_announced_as_registered(no_event_sending):
    seed()

    outbox = OutboxMessage.objects.get()
    demo = User.objects.get(username="demo")
    assert outbox.event_type == "auth.user.registered"
    assert outbox.envelope["data"] == {"user_id": demo.id, "username": "demo", "email": "demo@example.com"}


def test_the_demo_credentials_come_from_the_environment(no_event_sending, monkeypatch, api_client):
    monkeypatch.setenv("DEMO_USERNAME", "shopper")
    monkeypatch.setenv("DEMO_PASSWORD", "a-quite-long-passphrase")

    seed()

    response = api_client.post(
        "/api/auth/token/", {"username": "shopper", "password": "a-quite-long-passphrase"}, format="json"
    )
    assert response.status_code == 200


def test_seeding_twice_creates_nothing_the_second_time(no_event_sending):
    seed()

    output = seed()

    assert User.objects.count() == 1
    assert OutboxMessage.objects.count() == 1
    assert "kept" in output


def test_seeding_leaves_an_existing_user_of_that_name_as_it_is(no_event_sending, user, monkeypatch):
    monkeypatch.setenv("DEMO_USERNAME", "ALICE")

    seed()

    user.refresh_from_db()
    assert user.username == "alice" and user.check_password("correct-horse-battery-staple")
    assert User.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_a_weak_demo_password_is_a_command_error(no_event_sending, monkeypatch):
    monkeypatch.setenv("DEMO_PASSWORD", "123")

    with pytest.raises(CommandError, match="password"):
        seed()
    assert not User.objects.exists()
