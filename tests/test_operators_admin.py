"""The operators' admin in a real headless browser (Debian's Chromium, driven by
Playwright) against the whole platform: one sign-in at the gateway's /admin/ opens
every service's admin; a price changed in the catalog's admin reaches the cart's
replica through events; signing out closes every admin, for a copy of the cookies
too; a customer and an anonymous visitor get none of them, and the services' own
ports serve none."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from playwright.sync_api import Page, expect

from commerce_core.settings.topology import PROJECTS, SERVICES
from devtools.journeys import CUSTOMER_PASSWORD, create_product, http, log_in_as_operator, register_and_log_in

expect.set_options(timeout=20_000)
ADMINS = [project.name for project in PROJECTS]  # the services' and the gateway's own
SIGN_IN_PAGE = re.compile(r"/admin/login/")


@pytest.fixture
def new_page(browser, platform):
    """new_page() -> a page in a browser context of its own; `page.failed_assets` lists
    the admin's CSS and scripts that did not load."""
    contexts = []

    def new() -> Page:
        context = browser.new_context(base_url=platform.base_url)
        contexts.append(context)
        page = context.new_page()
        page.failed_assets = []
        page.on(
            "response",
            lambda r: (
                page.failed_assets.append(f"{r.status} {r.url}") if "/static/" in r.url and r.status >= 400 else None
            ),
        )
        return page

    yield new
    for context in contexts:
        context.close()


def sign_in(page: Page, username: str, password: str) -> None:
    page.goto("/admin/")
    expect(page).to_have_url(SIGN_IN_PAGE)
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()


def expect_no_admin(page: Page, name: str) -> None:
    page.goto(f"/admin/{name}/")
    expect(page).to_have_url(SIGN_IN_PAGE)
    expect(page.locator("#login-form")).to_be_visible()


def test_a_staff_member_signs_in_once_works_in_every_admin_and_signs_out_of_all_of_them(platform, new_page):
    with http(platform) as client:
        product = create_product(client, log_in_as_operator(client), name="Admin enamel mug", price="8.50", stock=5)
    username, password = platform.platform.admin_credentials
    page = new_page()

    sign_in(page, username, password)

    expect(page).to_have_url(re.compile(r"/admin/$"))
    expect(page.locator("#user-tools")).to_contain_text(f"Signed in as {username}")
    for name in ADMINS:
        expect(page.locator(f'#admins tr[data-admin="{name}"] a')).to_have_attribute("href", f"/admin/{name}/")

    # The catalog's admin: the price changes through the catalog's service layer...
    page.locator('#admins tr[data-admin="catalog"] a').click()
    expect(page).to_have_title(re.compile("catalog admin"))
    expect(page.locator("#site-name")).to_have_text("Catalog administration")
    page.goto(f"/admin/catalog/catalog/product/{product['id']}/change/")
    page.get_by_label("Price").fill("6.25")
    page.get_by_role("button", name="Save", exact=True).click()
    expect(page.locator(".messagelist .success")).to_contain_text("was changed successfully")

    # ...and the cart's admin shows its replica following, through the bus.
    replica = f"/admin/cart/carts/productreplica/?q={product['name'].replace(' ', '+')}"
    deadline = time.monotonic() + 20
    while True:
        page.goto(replica)
        row = page.locator("#result_list tbody tr", has_text=product["name"])
        if row.count() == 1 and "6.25" in row.inner_text():
            break
        assert time.monotonic() < deadline, f"the cart's replica still shows {row.all_inner_texts()}"
        time.sleep(0.5)

    for name in ("auth", "payment", "review", "gateway"):
        page.goto(f"/admin/{name}/")
        expect(page.locator("#site-name")).to_have_text(f"{name.capitalize()} administration")
    assert page.failed_assets == []
    cookies = page.context.cookies()
    session = next(c for c in cookies if c["name"] == "admin_session")
    assert (session["httpOnly"], session["sameSite"], session["path"], session["expires"]) == (
        True,
        "Lax",
        "/admin/",
        -1,
    )
    assert not {"sessionid"} & {c["name"] for c in cookies}  # no service keeps a session of its own

    # Signing out on any admin's page closes them all.
    page.goto("/admin/review/")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You are signed out of every admin")).to_be_visible()
    for name in ADMINS:
        expect_no_admin(page, name)

    # A copy of the cookies taken before signing out opens nothing either.
    thief = new_page()
    thief.context.add_cookies(cookies)
    for name in ("catalog", "cart"):
        expect_no_admin(thief, name)


def test_a_customer_cannot_sign_in_and_an_anonymous_visitor_gets_no_admin(platform, new_page):
    with http(platform) as client:
        customer = register_and_log_in(client)
        product = create_product(client, log_in_as_operator(client), name="Guarded teapot", price="20.00", stock=1)
    customer_page, visitor_page = new_page(), new_page()

    sign_in(customer_page, customer.username, CUSTOMER_PASSWORD)

    expect(customer_page.locator(".errornote")).to_contain_text("staff account")
    assert not {"admin_session"} & {c["name"] for c in customer_page.context.cookies()}
    for page in (customer_page, visitor_page):
        for name in ADMINS:
            expect_no_admin(page, name)
        page.goto("/admin/")
        expect(page).to_have_url(SIGN_IN_PAGE)

    # A form posted without a sign-in never reaches the catalog.
    with httpx.Client(base_url=platform.base_url) as anonymous:
        posted = anonymous.post(
            f"/admin/catalog/catalog/product/{product['id']}/change/",
            data={"name": "Guarded teapot", "price": "0.01", "stock": "1", "is_active": "on"},
        )
        assert posted.status_code == 302 and SIGN_IN_PAGE.search(posted.headers["location"])
        assert anonymous.get(f"/api/catalog/products/{product['id']}/").json()["price"] == "20.00"

    # The services' own ports serve no admin: without the gateway's signed header a
    # service only points at the gateway's sign-in, which it does not serve itself.
    for service in SERVICES:
        direct = httpx.get(
            f"{platform.platform.service_url(service.name)}/admin/{service.name}/", follow_redirects=True
        )
        assert "administration" not in direct.text
        assert direct.status_code == 404
