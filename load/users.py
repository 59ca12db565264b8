"""The simulated users: shoppers who check out, shoppers who browse, and listeners.

Each spawns, sets itself up, then waits at the run's gate until every user is set
up (see run.py); only then does the measured window open and do they start.
"""

from __future__ import annotations

import itertools
import random
import time
import uuid

import gevent
import jwt
from gevent.lock import BoundedSemaphore
from locust import User, between, constant, task
from locust.contrib.fasthttp import FastHttpUser
from locust.exception import StopUser

from . import report
from .push import ORDER_STATUS_CHANGED, OrderPushes, PushError, PushSocket, public_events, ws_url_for
from .run import RUN

PAYMENT_TOKEN = "tok_visa"
SHOPPER_PASSWORD = "Quiet-harbour-lantern-42"
PUSH_REQUEST_TYPE = "WS"  # how push latencies appear in Locust's own statistics
PUSH_NAME = "checkout → final order.status_changed"
REFRESH_WHEN_LEFT = 120.0  # seconds of validity left when a shopper refreshes its token

# Logging in costs the auth service a deliberately slow password hash (about half a
# second of CPU); twenty shoppers logging in at once would queue past the gateway's
# upstream timeout. Setup is not what a run measures, so shoppers take turns.
LOG_INS_AT_ONCE = 2
_log_in_turns = BoundedSemaphore(LOG_INS_AT_ONCE)

_shopper_numbers = itertools.count(1)


def settle_then_wait_for_the_start() -> None:
    """This user is set up (or gave up): wait at the run's gate with the others."""
    RUN.user_settled()
    if not RUN.wait_for_start():
        raise StopUser()


def reset_shopper_numbers() -> None:
    """Each test (Locust's test_start) numbers its shoppers from 1 again, so that a run
    reuses the accounts of the previous one instead of registering new ones."""
    global _shopper_numbers
    _shopper_numbers = itertools.count(1)


class CheckoutShopper(FastHttpUser):
    """Registers (first run) or logs in once, holds a WebSocket subscribed to
    `order.status_changed`, then in a loop adds an item, checks out with tok_visa
    and waits for the final push of that order.

    Closed loop (the default): the next order starts when the previous one is
    final. Open loop (`--rate`): each checkout waits for its slot in the run's
    schedule, and its latency counts from the slot (schedule.py)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.pushes = OrderPushes()
        self.socket: PushSocket | None = None
        self.username = f"{RUN.options.accounts}-shopper-{next(_shopper_numbers)}"
        try:
            with _log_in_turns:
                self._log_in()
            self._empty_cart()
            self._open_socket()
        except Exception as exc:  # noqa: BLE001 - any failure here is this user's setup failing
            RUN.record_error(report.SETUP_FAILED, f"{self.username}: {exc}")
            RUN.user_settled()
            raise StopUser() from None
        settle_then_wait_for_the_start()

    def on_stop(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()

    # --- setup ------------------------------------------------------------------------
    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access}"}

    def _log_in(self) -> None:
        credentials = {"username": self.username, "password": SHOPPER_PASSWORD}
        with self.client.post("/api/auth/token/", json=credentials, catch_response=True) as response:
            if response.status_code == 401:  # a new account: not an error
                response.success()
        if response.status_code == 401:
            body = {**credentials, "email": f"{self.username}@example.com"}
            with self.client.post("/api/auth/register/", json=body, catch_response=True) as created:
                if created.status_code != 201:
                    created.failure(f"{created.status_code} {created.text[:200]}")
                    raise RuntimeError(f"could not register: {created.status_code} {created.text[:200]}")
            response = self.client.post("/api/auth/token/", json=credentials)
        if response.status_code != 200:
            raise RuntimeError(f"could not log in: {response.status_code} {response.text[:200]}")
        self._keep_tokens(response.json())

    def _keep_tokens(self, tokens: dict) -> None:
        self.access = tokens["access"]
        self.refresh = tokens.get("refresh", getattr(self, "refresh", None))
        claims = jwt.decode(self.access, options={"verify_signature": False})
        # The token's lifetime, read on this host's clock, from the server's iat/exp.
        self.access_expires = time.monotonic() + (claims["exp"] - claims.get("iat", time.time()))

    def _refresh_if_due(self) -> None:
        if time.monotonic() < self.access_expires - REFRESH_WHEN_LEFT:
            return
        response = self.client.post("/api/auth/token/refresh/", json={"refresh": self.refresh})
        if response.status_code == 200:
            self._keep_tokens(response.json())
            if self.socket is not None:
                self.socket.reauthenticate(self.access)

    def _empty_cart(self) -> None:
        """What an earlier, interrupted run may have left in this account's cart goes."""
        cart = self.client.get("/api/cart/", headers=self.auth)
        if cart.status_code != 200:
            raise RuntimeError(f"could not read the cart: {cart.status_code} {cart.text[:200]}")
        for item in cart.json()["items"]:
            self._take_out(item["product_id"])

    def _open_socket(self) -> None:
        self.socket = PushSocket(
            ws_url_for(self.host),
            [ORDER_STATUS_CHANGED],
            token=self.access,
            on_event=self.pushes.on_event,
            on_closed=self._socket_closed,
        )

    def _socket_closed(self, reason: str) -> None:
        RUN.record_error(report.SOCKET_CLOSED, f"{self.username}: {reason}")
        self.socket = None
        self.pushes.abandon()

    def _take_out(self, product_id: int) -> None:
        with self.client.delete(
            f"/api/cart/items/{product_id}/", headers=self.auth, name="/api/cart/items/[id]/", catch_response=True
        ) as response:
            if response.status_code == 404:  # already gone (a failed order may give lines back or not)
                response.success()

    # --- the loop ---------------------------------------------------------------------
    @task
    def order(self) -> None:
        if RUN.stopping:  # the window closed; Locust stops this user in a moment
            gevent.sleep(0.1)
            return
        self._refresh_if_due()
        if self.socket is None:
            try:
                self._open_socket()
            except PushError as exc:
                RUN.record_error(report.SOCKET_CLOSED, f"{self.username}: could not reopen: {exc}")
                gevent.sleep(1)
                return
        product_id = random.choice(RUN.catalog.items)
        added = self.client.post("/api/cart/items/", json={"product_id": product_id, "quantity": 1}, headers=self.auth)
        if added.status_code != 201:
            gevent.sleep(1)  # the failure is counted; do not spin on it
            return
        due = self._wait_for_slot()
        if RUN.stopping:
            self._take_out(product_id)
            return
        self._check_out(product_id, due)

    def _wait_for_slot(self) -> float | None:
        if RUN.schedule is None:
            return None
        due = RUN.schedule.claim()
        gevent.sleep(max(0.0, due - time.monotonic()))
        return due

    def _check_out(self, product_id: int, due: float | None) -> None:
        sent = time.monotonic()
        due = sent if due is None else due
        with self.client.post(
            "/api/cart/checkout/", json={"payment_token": PAYMENT_TOKEN}, headers=self.auth, catch_response=True
        ) as response:
            if response.status_code != 202:
                response.failure(f"{response.status_code} {response.text[:200]}")
                order_id = None
            else:
                order_id = response.json()["order_id"]
        if order_id is None:
            self._take_out(product_id)
            return
        final = self.pushes.wait(order_id, timeout=max(0.0, RUN.options.push_timeout - (time.monotonic() - sent)))
        status, pushed = final if final is not None else (None, None)
        order = report.Order(due=due, sent=sent, pushed=pushed, status=status)
        RUN.record_order(order)
        exception = None
        if status is None:
            exception = TimeoutError(f"order {order_id}: no final push within {RUN.options.push_timeout:g} s")
        elif status != report.PAID:
            exception = RuntimeError(f"order {order_id} ended {status}")
        if exception is not None:
            RUN.example(str(exception))
            self._take_out(product_id)
        self.environment.events.request.fire(
            request_type=PUSH_REQUEST_TYPE,
            name=PUSH_NAME,
            response_time=(pushed - due) * 1000 if pushed is not None else RUN.options.push_timeout * 1000,
            response_length=0,
            exception=exception,
            context={},
        )


class BrowsingShopper(FastHttpUser):
    """Looks at the catalog like a person: list pages, searches and product pages,
    with one to three seconds between clicks."""

    wait_time = between(1, 3)

    def on_start(self) -> None:
        settle_then_wait_for_the_start()

    @task(3)
    def list_page(self) -> None:
        page = random.randint(1, RUN.catalog.pages)
        ordering = random.choice(["price", "-price", "name", "-created_at"])
        self.client.get(
            f"/api/catalog/products/?page={page}&ordering={ordering}", name="/api/catalog/products/?page=[n]"
        )

    @task(2)
    def search(self) -> None:
        word = random.choice(RUN.catalog.search_words)
        self.client.get(f"/api/catalog/products/?search={word}", name="/api/catalog/products/?search=[word]")

    @task(5)
    def product_page(self) -> None:
        product_id = random.choice(RUN.catalog.browsable)
        self.client.get(f"/api/catalog/products/{product_id}/", name="/api/catalog/products/[id]/")


class PublicListener(User):
    """Holds an anonymous socket subscribed to every public event (new products,
    stock and price changes, reviews) and counts what it receives: the push
    fan-out that a launch-day audience watching the shop puts on the gateway."""

    wait_time = constant(1)

    def on_start(self) -> None:
        self.label = f"listener-{uuid.uuid4().hex[:6]}"
        try:
            self.socket = PushSocket(
                ws_url_for(self.host), public_events(), on_event=self._count, on_closed=self._closed
            )
        except PushError as exc:
            self.socket = None
            RUN.record_error(report.SETUP_FAILED, f"{self.label}: {exc}")
            RUN.user_settled()
            raise StopUser() from None
        settle_then_wait_for_the_start()

    def on_stop(self) -> None:
        if getattr(self, "socket", None) is not None:
            self.socket.close()

    def _count(self, name: str, data: dict, received_at: float) -> None:
        RUN.listener_events += 1

    def _closed(self, reason: str) -> None:
        RUN.record_error(report.SOCKET_CLOSED, f"{self.label}: {reason}")
        self.socket = None

    @task
    def hold(self) -> None:
        """Nothing to do: the socket's reader counts the events."""
