"""The live page (`GET /live/`) in a real headless browser (Debian's Chromium, driven by
Playwright) against the whole platform: events reach the page as they happen, a
customer who signs in on it sees their order become paid, and the page survives a
dropped socket, a lost history and an expiring access token."""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field

import jwt
import pytest
import redis
from playwright.sync_api import Page, WebSocketRoute, expect

from devtools.journeys import (
    CUSTOMER_PASSWORD,
    EventSocket,
    add_to_cart,
    checkout,
    create_product,
    http,
    log_in_as_operator,
    register_and_log_in,
)

#: Events cross several services and workers before they reach the page.
expect.set_options(timeout=20_000)
SOCKET_IO = re.compile(r"/socket\.io/")


@dataclass
class LivePage:
    page: Page
    #: Uncaught exceptions and policy violations in the page: a test ends with none.
    problems: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def open(self) -> LivePage:
        self.page.goto("/live/")
        expect(self.connection).to_have_text("Live")
        return self

    @property
    def connection(self):
        return self.page.locator("#connection")

    def event(self, text: str):
        """The feed's entries containing `text`."""
        return self.page.locator("#events li", has_text=text)

    def product_row(self, product_id: int):
        return self.page.locator(f'#products tr[data-product-id="{product_id}"]')

    def order_status(self, order_id: int):
        return self.page.locator(f'#orders tr[data-order-id="{order_id}"] .status')

    def notice(self, pattern: str):
        return self.page.locator("#notices .notice", has_text=re.compile(pattern))

    def sign_in(self, username: str, password: str) -> None:
        self.page.get_by_label("Username").fill(username)
        self.page.get_by_label("Password").fill(password)
        self.page.get_by_role("button", name="Sign in").click()
        expect(self.page.locator("#account")).to_contain_text(f"Signed in as {username}")


@pytest.fixture
def new_live_page(browser, platform):
    """new_live_page() -> a LivePage in a browser context of its own (not yet opened)."""
    opened: list[tuple[object, LivePage]] = []

    def new() -> LivePage:
        context = browser.new_context(base_url=platform.base_url)
        live = LivePage(context.new_page())
        opened.append((context, live))
        live.page.on("pageerror", lambda error: live.problems.append(f"uncaught: {error}"))
        live.page.on(
            "console",
            lambda message: (
                live.problems.append(f"console: {message.text}") if "Content Security Policy" in message.text else None
            ),
        )
        live.page.on("websocket", lambda socket: live.sockets.append(socket.url))
        return live

    yield new
    problems = [problem for _, live in opened for problem in live.problems]
    for context, _ in opened:
        context.close()
    assert problems == [], problems


def test_the_page_shows_new_products_live_and_a_signed_in_customers_order_becoming_paid(platform, new_live_page):
    shopper_view, visitor_view = new_live_page().open(), new_live_page().open()
    with http(platform) as client:
        product = create_product(client, log_in_as_operator(client), name="Live enamel mug", price="8.50", stock=5)

        for view in (shopper_view, visitor_view):
            expect(view.event("Live enamel mug")).to_contain_text("New product “Live enamel mug” at 8.50, 5 in stock")
            expect(view.product_row(product["id"])).to_contain_text("Live enamel mug")

        customer = register_and_log_in(client)
        shopper_view.sign_in(customer.username, CUSTOMER_PASSWORD)
        add_to_cart(client, customer, product["id"], quantity=2)
        order = checkout(client, customer)

        expect(shopper_view.order_status(order["order_id"])).to_have_text("paid")
        expect(shopper_view.event(f"for order #{order['order_id']} succeeded")).to_contain_text("Payment of 17.00")
        expect(shopper_view.event("Stock of “Live enamel mug”: 3")).to_be_visible()
    # The other visitor saw the public stock change, and nobody's cart or order.
    expect(visitor_view.event("Stock of “Live enamel mug”: 3")).to_be_visible()
    expect(visitor_view.page.locator("#events li.mine")).to_have_count(0)
    expect(visitor_view.page.locator("#mine")).to_be_hidden()
    # Signing out leaves nothing of the customer's on the screen.
    shopper_view.page.get_by_role("button", name="Sign out").click()
    expect(shopper_view.page.locator("#mine")).to_be_hidden()
    expect(shopper_view.page.locator("#events li.mine")).to_have_count(0)
    expect(shopper_view.event("New product “Live enamel mug”")).to_be_visible()
    expect(shopper_view.connection).to_have_text("Live")


class SocketGate:
    """Stands between the page and the gateway's Socket.IO endpoint: `drop()` closes the
    page's socket and refuses new ones until `reopen()`, as a network outage would."""

    def __init__(self, page: Page):
        self.open = True
        self.routes: list[WebSocketRoute] = []
        page.route_web_socket(SOCKET_IO, self._route)

    def _route(self, socket: WebSocketRoute) -> None:
        if not self.open:
            socket.close(code=1011, reason="outage")
            return
        socket.connect_to_server()
        self.routes.append(socket)

    def drop(self) -> None:
        self.open = False
        for socket in self.routes:
            socket.close(code=1011, reason="outage")
        self.routes.clear()

    def reopen(self) -> None:
        self.open = True


def test_the_page_reconnects_by_itself_and_replays_the_events_it_missed(platform, new_live_page):
    live = new_live_page()
    gate = SocketGate(live.page)
    live.open()
    with http(platform) as client, EventSocket(platform.ws_url) as watcher:
        operator = log_in_as_operator(client)
        watcher.subscribe("catalog.product.created")
        seen = create_product(client, operator, name="Seen before the outage")
        expect(live.event("Seen before the outage")).to_be_visible()

        gate.drop()
        expect(live.connection).to_have_text("Reconnecting…")
        missed = create_product(client, operator, name="Created during the outage")
        # Recorded in the push history before the page can come back.
        watcher.next_event("catalog.product.created", where=lambda data: data["product_id"] == missed["id"])
        live.page.wait_for_timeout(500)
        expect(live.event("Created during the outage")).to_have_count(0)
        gate.reopen()

        expect(live.connection).to_have_text("Live")
        expect(live.event("Created during the outage")).to_contain_text("New product “Created during the outage”")
        expect(live.notice(r"Reconnected: caught up on \d+ missed events?")).to_be_visible()
        expect(live.product_row(missed["id"])).to_be_visible()
        expect(live.product_row(seen["id"])).to_be_visible()
        # And it goes on living.
        after = create_product(client, operator, name="Created after the outage")
        expect(live.event("Created after the outage")).to_be_visible()
        assert after["id"] > missed["id"]
    assert len(live.sockets) >= 2, live.sockets


def test_the_page_reloads_over_rest_and_says_so_when_the_server_lost_the_history_it_missed(platform, new_live_page):
    live = new_live_page().open()
    with http(platform) as client:
        operator = log_in_as_operator(client)
        create_product(client, operator, name="Before the history was lost")
        expect(live.event("Before the history was lost")).to_be_visible()

        # The history of new products is lost (as when Redis restarts empty): the next
        # one starts a new stream, the gateway closes the sockets that listened to the
        # old one, and the page's offset no longer matches anything.
        history = redis.Redis.from_url(platform.redis_url)
        stream = "push:h:catalog.product.created"
        assert history.delete(stream, f"{stream}:epoch", f"{stream}:trimmed") >= 2
        history.close()
        product = create_product(client, operator, name="After the history was lost")

    expect(live.notice(r"could not be replayed \(catalog\.product\.created\): reloaded products")).to_be_visible()
    expect(live.product_row(product["id"])).to_contain_text("After the history was lost")
    expect(live.connection).to_have_text("Live")


def short_lived(platform, access: str, seconds: float) -> str:
    """The same access token, re-signed with the platform's secret to expire in `seconds`."""
    secret = platform.platform.child_env()["JWT_SECRET"]
    claims = jwt.decode(access, secret, algorithms=["HS256"])
    now = int(time.time())
    return jwt.encode({**claims, "iat": now, "exp": now + int(seconds)}, secret, algorithm="HS256")


def test_the_page_refreshes_its_access_token_before_it_expires_and_keeps_its_socket(platform, new_live_page):
    lifetime = 6
    live = new_live_page()
    refreshes = []
    live.page.on(
        "request", lambda request: refreshes.append(time.monotonic()) if "/token/refresh/" in request.url else None
    )

    def hand_out_short_lived_tokens(route):
        response = route.fetch()
        tokens = response.json()
        route.fulfill(response=response, json={**tokens, "access": short_lived(platform, tokens["access"], lifetime)})

    live.page.route("**/api/auth/token/", hand_out_short_lived_tokens)
    live.open()
    with http(platform) as client:
        product = create_product(client, log_in_as_operator(client), name="Refresh teapot")
        customer = register_and_log_in(client)
        live.sign_in(customer.username, CUSTOMER_PASSWORD)
        signed_in = time.monotonic()

        # Past the first token's expiry, when the server would have closed the socket.
        live.page.wait_for_timeout((lifetime + 2) * 1000)
        add_to_cart(client, customer, product["id"])
        expect(live.event("Your cart: 1 item")).to_be_visible()

    assert refreshes and refreshes[0] - signed_in < lifetime, refreshes
    assert len(live.sockets) == 1, f"the socket was closed and opened again: {live.sockets}"
    expect(live.page.locator("#account")).to_be_visible()
