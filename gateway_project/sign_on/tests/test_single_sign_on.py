"""One sign-in at /admin/ for every service's admin: who gets in, as whom, with what
of their credentials, and how a session ends."""

import time

import pytest
from conftest import StubResponse
from django.core.cache import caches

from commerce_core.identity.gateway_identity import verify_identity
from sign_on import sessions

from .conftest import csrf_token, sign_in

pytestmark = pytest.mark.anyio


def identity_at_the_service(request):
    value = request.header("x-gateway-identity")
    from django.conf import settings

    return verify_identity(value, secret=settings.GATEWAY_IDENTITY_SECRET) if value else None


async def test_a_staff_member_signs_in_once_and_reaches_a_service_admin_as_themselves(auth, catalog, browser):
    client = browser()
    signed_in = await sign_in(client, "olga", next_page="/admin/catalog/catalog/product/?q=mug")
    assert signed_in.status_code == 302
    assert signed_in.headers["location"] == "/admin/catalog/catalog/product/?q=mug"

    page = await client.get("/admin/catalog/catalog/product/?q=mug")

    assert page.status_code == 200
    [forwarded] = catalog.requests
    assert forwarded.path == "/admin/catalog/catalog/product/?q=mug"  # unchanged: the admin is mounted there
    operator = identity_at_the_service(forwarded)
    assert (operator.id, operator.username, operator.is_staff, operator.is_superuser) == (1, "olga", True, True)


async def test_the_service_gets_neither_the_session_cookie_nor_any_bearer_token(auth, catalog, browser):
    client = browser()
    await sign_in(client, "sam")

    await client.get("/admin/catalog/", headers={"authorization": "Bearer whatever"})

    [forwarded] = catalog.requests
    cookies = forwarded.header("cookie")
    assert "csrftoken=" in cookies  # the admin's own CSRF cookie goes through
    assert "admin_session" not in cookies
    assert forwarded.header("authorization") is None
    assert identity_at_the_service(forwarded).is_superuser is False


async def test_an_anonymous_visitor_is_sent_to_the_sign_in_and_reaches_no_service(auth, catalog, browser):
    client = browser()

    for method in ("GET", "POST"):
        answer = await client.request(method, "/admin/catalog/catalog/product/1/change/", data={"price": "0.01"})
        assert answer.status_code == 302
        assert answer.headers["location"] == "/admin/login/?next=%2Fadmin%2Fcatalog%2Fcatalog%2Fproduct%2F1%2Fchange%2F"
    assert (await client.get("/admin/")).headers["location"] == "/admin/login/?next=/admin/"
    assert catalog.requests == []


async def test_a_forged_session_cookie_opens_nothing(auth, catalog, browser):
    client = browser()
    client.cookies.set("admin_session", "made-up-session-key", path="/admin/")

    assert (await client.get("/admin/catalog/")).status_code == 302
    assert catalog.requests == []


async def test_someone_who_is_not_staff_cannot_sign_in_and_is_told_as_little_as_for_a_wrong_password(
    auth, catalog, browser
):
    customer, guesser = browser(), browser()

    not_staff = await sign_in(customer, "carl")
    wrong_password = await sign_in(guesser, "olga", "guess")

    for answer in (not_staff, wrong_password):
        assert answer.status_code == 200
        assert "Please enter the username and password of a staff account" in answer.text
        assert "admin_session" not in answer.headers.get("set-cookie", "")
    assert (await customer.get("/admin/catalog/")).status_code == 302
    assert catalog.requests == []


async def test_signing_out_ends_the_session_for_every_admin_even_for_a_copy_of_its_cookie(auth, catalog, browser):
    client, thief = browser(), browser()
    await sign_in(client, "olga")
    thief.cookies.set("admin_session", client.cookies["admin_session"], path="/admin/")
    entry = await client.get("/admin/")
    assert (await thief.get("/admin/catalog/")).status_code == 200

    signed_out = await client.post(
        "/admin/logout/", data={"csrfmiddlewaretoken": csrf_token(entry.text)}, headers={"origin": "http://testserver"}
    )

    assert signed_out.status_code == 200
    assert "You are signed out of every admin" in signed_out.text
    assert "admin_session" not in client.cookies
    for someone in (client, thief):
        assert (await someone.get("/admin/catalog/")).status_code == 302
        assert (await someone.get("/admin/")).status_code == 302
    assert len(catalog.requests) == 1


async def test_signing_out_takes_a_post_with_the_csrf_token(auth, browser):
    client = browser()
    await sign_in(client, "olga")

    assert (await client.get("/admin/logout/")).status_code == 405
    assert (await client.post("/admin/logout/", headers={"origin": "http://testserver"})).status_code == 403
    assert (await client.get("/admin/")).status_code == 200  # still signed in


async def test_a_service_pages_csrf_token_signs_out_at_the_gateway(auth, catalog, browser):
    """Every admin page's "Sign out" posts to the gateway with the page's token: the
    services and the gateway share one CSRF cookie, so the gateway accepts it."""
    client = browser()
    await sign_in(client, "olga")
    secret = client.cookies["csrftoken"]
    from django.middleware.csrf import _mask_cipher_secret

    token_a_service_renders = _mask_cipher_secret(secret)

    signed_out = await client.post(
        "/admin/logout/", data={"csrfmiddlewaretoken": token_a_service_renders}, headers={"origin": "http://testserver"}
    )

    assert signed_out.status_code == 200
    assert (await client.get("/admin/catalog/")).status_code == 302


async def test_a_staff_member_demoted_or_deactivated_in_the_auth_service_loses_every_admin_at_the_next_check(
    auth, catalog, browser, settings
):
    settings.OPERATOR_SIGN_ON = {**settings.OPERATOR_SIGN_ON, "RECHECK_SECONDS": 0}
    demoted, deactivated = browser(), browser()
    await sign_in(demoted, "olga")
    await sign_in(deactivated, "sam")
    assert (await demoted.get("/admin/catalog/")).status_code == 200

    auth.accounts["olga"].is_staff = False
    auth.accounts["sam"].active = False

    for client in (demoted, deactivated):
        assert (await client.get("/admin/catalog/")).status_code == 302
        assert (await client.get("/admin/")).status_code == 302
    assert len(catalog.requests) == 1
    # The sessions are gone, not merely refused: making olga staff again opens nothing.
    auth.accounts["olga"].is_staff = True
    assert (await demoted.get("/admin/catalog/")).status_code == 302


async def test_a_session_is_confirmed_with_the_auth_service_at_most_once_per_interval(auth, catalog, browser, settings):
    settings.OPERATOR_SIGN_ON = {**settings.OPERATOR_SIGN_ON, "RECHECK_SECONDS": 60}
    client = browser()
    await sign_in(client, "sam")
    sessions.confirmations._entries.clear()  # as another gateway process would see it

    for _ in range(3):
        assert (await client.get("/admin/catalog/")).status_code == 200

    assert auth.refreshes == 1


async def test_when_the_auth_service_cannot_confirm_a_due_session_nobody_is_let_in(auth, catalog, browser, settings):
    settings.OPERATOR_SIGN_ON = {**settings.OPERATOR_SIGN_ON, "RECHECK_SECONDS": 0}
    client = browser()
    await sign_in(client, "olga")
    auth.down = True

    answer = await client.get("/admin/catalog/")

    assert answer.status_code == 503
    assert answer.json()["error"]["code"] == "auth_unavailable"
    assert catalog.requests == []
    auth.down = False
    assert (await client.get("/admin/catalog/")).status_code == 200  # the session survived the outage


async def test_a_session_ends_at_its_maximum_age_however_busy(auth, catalog, browser, settings):
    client = browser()
    await sign_in(client, "olga")
    settings.OPERATOR_SIGN_ON = {**settings.OPERATOR_SIGN_ON, "MAX_SECONDS": 0}
    time.sleep(0.01)

    assert (await client.get("/admin/catalog/")).status_code == 302
    assert catalog.requests == []


async def test_an_idle_session_expires_and_a_confirmation_pushes_its_expiry_back(auth, browser, settings):
    settings.OPERATOR_SIGN_ON = {**settings.OPERATOR_SIGN_ON, "RECHECK_SECONDS": 0}
    client = browser()
    await sign_in(client, "olga")
    store = caches[settings.SESSION_CACHE_ALIAS]
    key = "django.contrib.sessions.cache" + client.cookies["admin_session"]
    store.touch(key, 1)

    assert (await client.get("/admin/")).status_code == 200
    assert store._expire_info[store.make_and_validate_key(key)] > time.time() + settings.SESSION_COOKIE_AGE - 5

    store.touch(key, 0.01)
    time.sleep(0.05)
    assert (await client.get("/admin/")).status_code == 302


async def test_the_session_cookie_holds_only_a_key_is_httponly_samesite_under_admin_and_ends_with_the_browser(
    auth, browser
):
    answer = await sign_in(browser(), "olga")

    cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("admin_session="))
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
    assert "httponly" in attributes
    assert "samesite=lax" in cookie.lower()
    assert "path=/admin/" in cookie.lower()
    assert not {"max-age", "expires"} & attributes
    assert "secure" not in attributes  # plain HTTP here
    assert len(cookie.split(";")[0].split("=", 1)[1]) == 32  # Django's random session key, no token


async def test_cookies_are_secure_when_the_browser_came_over_tls(auth, browser):
    answer = await sign_in(browser("https://testserver"), "olga")

    for cookie in answer.headers.get_list("set-cookie"):
        assert "secure" in cookie.lower(), cookie


async def test_after_signing_in_the_browser_goes_back_to_an_admin_page_never_elsewhere(auth, browser):
    for asked, goes_to in [
        ("/admin/catalog/catalog/product/", "/admin/catalog/catalog/product/"),
        ("https://evil.example/admin/", "/admin/"),
        ("//evil.example/admin/", "/admin/"),
        ("/live/", "/admin/"),
        ("/admin/logout/", "/admin/"),
    ]:
        answer = await sign_in(browser(), "olga", next_page=asked)
        assert answer.headers["location"] == goes_to, asked


async def test_sign_ins_count_against_the_gateways_sign_in_rate_limit(auth, browser, settings):
    import uuid

    settings.GATEWAY = {
        **settings.GATEWAY,
        "RATE_LIMITS": {
            **settings.GATEWAY["RATE_LIMITS"],
            "ENABLED": True,
            "SIGN_INS": (0.001, 1),
            "KEY_PREFIX": f"test-{uuid.uuid4().hex}:",
        },
    }
    first, second = await sign_in(browser(), "olga", "guess"), await sign_in(browser(), "olga")

    assert first.status_code == 200
    assert second.status_code == 429
    assert "Too many sign-ins" in second.text
    assert "admin_session" not in second.headers.get("set-cookie", "")


async def test_the_entry_lists_every_admin_behind_the_one_sign_in(auth, browser):
    client = browser()
    await sign_in(client, "sam")

    entry = await client.get("/admin/")

    assert entry.status_code == 200
    for name in ("auth", "catalog", "cart", "payment", "review", "gateway"):
        assert f'href="/admin/{name}/"' in entry.text
    assert "Signed in as <strong>sam</strong>" in entry.text
    assert 'action="/admin/logout/"' in entry.text


@pytest.mark.django_db(transaction=True)
async def test_the_gateways_own_admin_is_behind_the_same_sign_in(auth, browser):
    anonymous, client = browser(), browser()
    assert (await anonymous.get("/admin/gateway/", follow_redirects=True)).url.path == "/admin/login/"

    await sign_in(client, "olga")
    page = await client.get("/admin/gateway/events/deadletter/")

    assert page.status_code == 200
    assert "Gateway administration" in page.text


async def test_the_auth_services_answers_are_verified_not_trusted(auth, browser, settings):
    async def forged(request):
        import jwt

        claims = {"user_id": 1, "username": "olga", "is_staff": True, "token_type": "access", "exp": time.time() + 60}
        access = jwt.encode(claims, "not-the-platforms-secret-0123456789abcdef", algorithm="HS256")
        return StubResponse(body=f'{{"access": "{access}", "refresh": "r"}}'.encode())

    auth.stub.handler = forged

    answer = await sign_in(browser(), "olga")

    assert answer.status_code == 503
    assert "admin_session" not in answer.headers.get("set-cookie", "")
