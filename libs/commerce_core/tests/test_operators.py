"""Every project's admin behind the gateway: the user is the staff member the gateway's
signed header names, in a local account linked to the auth service's user; no session
is kept; signing in and out are the gateway's."""

import time

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.contrib.sessions.models import Session
from django.test import Client

from commerce_core.identity.gateway_identity import META_KEY, sign_identity
from commerce_core.identity.principal import Principal
from commerce_core.operators.accounts import operator_user
from commerce_core.operators.models import OperatorAccount
from commerce_core.operators.sessions import RequestOnlySession

pytestmark = pytest.mark.django_db


def staff(id: int, username: str, *, superuser: bool = False) -> Principal:
    return Principal(id=id, username=username, is_staff=True, is_superuser=superuser)


def client_as(principal: Principal | None, settings, *, secret: str | None = None, age: float = 0) -> Client:
    if principal is None:
        return Client()
    header = sign_identity(principal, secret=secret or settings.GATEWAY_IDENTITY_SECRET, now=time.time() - age)
    return Client(**{META_KEY: header})


# --- the local account --------------------------------------------------------------------
def test_a_staff_member_gets_one_local_account_linked_to_their_auth_user():
    first = operator_user(staff(41, "olga"))
    again = operator_user(staff(41, "olga"))

    assert first.pk == again.pk
    assert (first.username, first.is_staff, first.is_superuser, first.has_usable_password()) == (
        "olga",
        True,
        False,
        False,
    )
    assert OperatorAccount.objects.get(user=first).auth_user_id == 41


def test_superuser_status_follows_the_auth_service_both_ways():
    assert operator_user(staff(41, "olga", superuser=True)).is_superuser
    assert not operator_user(staff(41, "olga", superuser=False)).is_superuser
    assert User.objects.count() == 1


def test_a_local_user_nobody_claimed_becomes_the_account_of_the_staff_member_of_that_name():
    prepared = User.objects.create_user(username="sam", password=None)
    prepared.groups.add(Group.objects.create(name="refunds"))

    account = operator_user(staff(7, "sam"))

    assert account.pk == prepared.pk
    assert list(account.groups.values_list("name", flat=True)) == ["refunds"]


def test_a_renamed_staff_member_keeps_their_account_under_the_new_name():
    before = operator_user(staff(7, "sam"))

    after = operator_user(staff(7, "samuel"))

    assert after.pk == before.pk
    assert after.username == "samuel"


def test_a_name_taken_over_by_another_staff_member_does_not_give_them_the_former_owners_account():
    bob = operator_user(staff(1, "bob"))
    bob.groups.add(Group.objects.create(name="refunds"))
    # In the auth service, bob was renamed robert, and someone else registered as bob.
    newcomer = operator_user(staff(2, "bob"))
    robert = operator_user(staff(1, "robert"))

    assert newcomer.pk != bob.pk
    assert list(newcomer.groups.all()) == []
    assert robert.pk == bob.pk
    assert list(robert.groups.values_list("name", flat=True)) == ["refunds"]
    assert sorted(User.objects.values_list("username", flat=True)) == ["bob", "robert"]


def test_only_staff_have_an_account():
    with pytest.raises(ValueError):
        operator_user(Principal(id=3, username="carl"))
    assert not User.objects.exists()


# --- who the admin lets in ----------------------------------------------------------------
def test_the_admin_answers_the_staff_member_the_gateways_signed_header_names(settings, admin_url):
    page = client_as(staff(41, "olga", superuser=True), settings).get(admin_url())

    assert page.status_code == 200
    assert page.context["user"].username == "olga"


@pytest.mark.parametrize(
    "caller",
    ["nobody", "a forged header", "an expired header", "a customer"],
)
def test_anyone_else_is_sent_to_the_gateways_sign_in(settings, admin_url, caller):
    client = {
        "nobody": lambda: client_as(None, settings),
        "a forged header": lambda: client_as(staff(41, "olga", superuser=True), settings, secret="x" * 40),
        "an expired header": lambda: client_as(staff(41, "olga", superuser=True), settings, age=60),
        "a customer": lambda: client_as(Principal(id=3, username="carl"), settings),
    }[caller]()

    page = client.get(admin_url("customers/customerreplica/"), follow=True)

    assert page.redirect_chain[-1] == (
        "/admin/login/?next=%2Fadmin%2F" + settings.SERVICE_NAME + "%2Fcustomers%2Fcustomerreplica%2F",
        302,
    )
    assert not User.objects.filter(is_staff=True).exclude(username="root").exists()


def test_a_staff_member_who_is_not_a_superuser_sees_only_what_this_project_granted_them(settings, admin_url):
    client = client_as(staff(7, "sam"), settings)
    assert client.get(admin_url("customers/customerreplica/")).status_code == 403

    sam = User.objects.get(username="sam")
    sam.user_permissions.add(Permission.objects.get(codename="view_customerreplica"))

    assert client.get(admin_url("customers/customerreplica/")).status_code == 200


def test_the_apis_never_make_a_local_account(settings, as_principal, api_client):
    as_principal(api_client, staff(41, "olga", superuser=True))

    api_client.get("/api/bustest/items/")

    assert not User.objects.exists()


def test_the_admin_keeps_no_session_and_sends_no_session_cookie(settings, admin_url):
    client = client_as(staff(41, "olga", superuser=True), settings)

    responses = [client.get(admin_url()), client.get(admin_url("customers/customerreplica/"))]

    assert not Session.objects.exists()
    assert all(settings.SESSION_COOKIE_NAME not in response.cookies for response in responses)


def test_a_password_changed_in_the_admin_leaves_no_session_behind(settings, admin_url):
    """Django's password change writes the session (update_session_auth_hash): here it
    is forgotten with the request (in the auth service, users change theirs this way)."""
    olga = operator_user(staff(41, "olga", superuser=True))
    olga.set_password("old-password-1234")
    olga.save()
    client = client_as(staff(41, "olga", superuser=True), settings)

    changed = client.post(
        admin_url("password_change/"),
        {"old_password": "old-password-1234", "new_password1": "N3w-passw0rd-xyz", "new_password2": "N3w-passw0rd-xyz"},
    )

    assert changed.status_code == 302
    olga.refresh_from_db()
    assert olga.check_password("N3w-passw0rd-xyz")
    assert not Session.objects.exists()
    assert settings.SESSION_COOKIE_NAME not in changed.cookies


def test_what_the_admin_writes_into_a_session_is_forgotten_with_the_request():
    session = RequestOnlySession()
    session["_auth_user_hash"] = "x"
    session.cycle_key()
    session.save()

    assert RequestOnlySession(session.session_key).load() == {}
    assert not Session.objects.exists()


# --- signing in and out are the gateway's ---------------------------------------------------
def test_every_admin_page_signs_out_at_the_gateway_and_leads_back_to_every_admin(settings, admin_url):
    page = client_as(staff(41, "olga", superuser=True), settings).get(admin_url()).content.decode()

    assert '<form id="logout-form" method="post" action="/admin/logout/">' in page
    assert 'name="csrfmiddlewaretoken"' in page
    assert '<a href="/admin/">All admins</a>' in page
    assert f"{settings.SERVICE_NAME.capitalize()} administration" in page


def test_the_admins_own_login_and_logout_hand_over_to_the_gateway(settings, admin_url):
    anonymous, olga = Client(), client_as(staff(41, "olga", superuser=True), settings)

    login = anonymous.get(admin_url("login/"), {"next": admin_url("customers/")})
    elsewhere = anonymous.get(admin_url("login/"), {"next": "https://evil.example/"})
    logout = olga.post(admin_url("logout/"))

    assert login["Location"] == f"/admin/login/?next=%2Fadmin%2F{settings.SERVICE_NAME}%2Fcustomers%2F"
    assert elsewhere["Location"] == f"/admin/login/?next=%2Fadmin%2F{settings.SERVICE_NAME}%2F"
    assert (logout.status_code, logout["Location"]) == (302, "/admin/")


def test_cookies_set_over_tls_are_secure_and_only_then(settings, admin_url):
    client = client_as(staff(41, "olga", superuser=True), settings)
    page = admin_url()  # its "Sign out" form sets the CSRF cookie

    over_tls = client.get(page, HTTP_X_FORWARDED_PROTO="https").cookies["csrftoken"]
    plain = Client(
        **{META_KEY: sign_identity(staff(41, "olga", superuser=True), secret=settings.GATEWAY_IDENTITY_SECRET)}
    )
    over_http = plain.get(page).cookies["csrftoken"]

    assert over_tls["secure"] is True
    assert not over_http["secure"]
    assert (over_tls["path"], over_tls["httponly"], over_tls["samesite"]) == ("/admin/", True, "Lax")


def test_the_signed_header_says_whether_the_staff_member_is_a_superuser(settings):
    from commerce_core.identity.gateway_identity import verify_identity

    secret = settings.GATEWAY_IDENTITY_SECRET
    assert verify_identity(sign_identity(staff(1, "olga", superuser=True), secret=secret), secret=secret).is_superuser
    assert not verify_identity(sign_identity(staff(1, "sam"), secret=secret), secret=secret).is_superuser


# --- what operators do there -------------------------------------------------------------
def test_an_operator_replays_a_dead_letter_from_the_admin(operator_client, admin_url):
    from commerce_core.events.models import DeadLetter, ScheduledRetry

    event_id = "5f0c8e52-4d7e-4f57-9a55-1f1f0a3c1b01"
    letter = DeadLetter.objects.create(
        event_id=event_id,
        event_type="bustest.thing.failed",
        handler="tests.busapp.handlers.broken_handler",
        subject="thing/1",
        body={"id": event_id},
        error="downstream unavailable",
    )

    answer = operator_client.post(
        admin_url("events/deadletter/"), {"action": "replay_selected", "_selected_action": [letter.pk]}, follow=True
    )

    assert "Scheduled 1 event(s) again." in answer.content.decode()
    letter.refresh_from_db()
    assert letter.replayed_at is not None
    assert ScheduledRetry.objects.get(event_id=event_id).attempts == 0
