import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_the_admin_is_created_once_as_a_staff_superuser_with_the_configured_password(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "operator", "a-long-configured-password"

    call_command("ensure_admin")

    admin = get_user_model().objects.get(username="operator")
    assert admin.is_staff and admin.is_superuser and admin.is_active
    assert admin.check_password("a-long-configured-password")


def test_a_password_changed_since_is_never_reset(settings):
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "operator", "the-first-password-given"
    call_command("ensure_admin")
    admin = get_user_model().objects.get(username="operator")
    admin.set_password("changed-by-the-operator")
    admin.save()

    settings.ADMIN_PASSWORD = "another-password-in-the-environment"
    call_command("ensure_admin")

    admin.refresh_from_db()
    assert admin.check_password("changed-by-the-operator")


def test_an_existing_user_of_that_name_is_left_as_it_is(settings):
    get_user_model().objects.create_user(username="Operator", password="its-own-password", is_active=False)
    settings.ADMIN_USERNAME, settings.ADMIN_PASSWORD = "operator", "a-long-configured-password"

    call_command("ensure_admin")

    [user] = get_user_model().objects.filter(username__iexact="operator")
    assert (user.username, user.is_staff, user.is_active) == ("Operator", False, False)
    assert user.check_password("its-own-password")
