"""What operators see, on the real platform: one trace per request across every
process (HTTP, events, push), and Prometheus metrics on every process's own port,
never on the gateway's public one."""

from __future__ import annotations

import re
import secrets
import time

import httpx
import pytest
import socketio

from devtools.journeys import (
    add_to_cart,
    checkout,
    create_product,
    eventually,
    http,
    log_in_as_operator,
    register_and_log_in,
)
from devtools.traces import read_spans, render, spans_of_trace


def paid(order_id: int):
    return lambda data: data.get("order_id") == order_id and data.get("status") == "paid"


def trace_id_of(traceparent: str) -> str:
    version, trace_id, span_id, flags = traceparent.split("-")
    assert (version, len(trace_id), len(span_id)) == ("00", 32, 16)
    return trace_id


def wait_for_spans(platform, trace_id: str, wanted, *, timeout: float = 20.0) -> list[dict]:
    """The spans of a trace once `wanted(spans)` holds (processes export every 200 ms)."""
    found = eventually(
        lambda: wanted(spans_of_trace(read_spans(platform.spans_file), trace_id)) or None, timeout=timeout
    )
    trace = spans_of_trace(read_spans(platform.spans_file), trace_id)
    assert found, f"the trace never had what was expected:\n{render(trace)}"
    return trace


def where(trace: list[dict], name: str, service: str) -> list[dict]:
    return [span for span in trace if span["name"] == name and span["service"] == service]


#: What one paid checkout goes through, as (span name, process).
CHECKOUT_JOURNEY = [
    ("POST /api/cart/*", "gateway"),
    ("POST api/cart/checkout/", "cart"),
    ("publish order.placed", "cart"),
    ("process order.placed", "catalog-worker"),
    ("process order.placed", "payment-worker"),
    ("publish stock.reserved", "catalog-worker"),
    ("process stock.reserved", "payment-worker"),
    ("publish payment.succeeded", "payment-worker"),
    ("process payment.succeeded", "cart-worker"),
    ("publish order.status_changed", "cart-worker"),
    ("process order.status_changed", "gateway-worker"),
    ("push order.status_changed", "gateway"),
]


def test_one_checkout_is_one_trace_from_the_gateway_through_every_service_to_the_pushed_frame(platform, listen):
    with http(platform) as client:
        customer, operator = register_and_log_in(client), log_in_as_operator(client)
        product = create_product(client, operator, name="Traced kettle", price="30.00", stock=5)
        add_to_cart(client, customer, product["id"])
        socket = listen(customer, "order.status_changed")
        sio = socketio.Client(reconnection=False)
        received = []
        sio.on("order.status_changed", lambda data, meta: received.append((data, meta)))
        sio.connect(platform.base_url, transports=["websocket"], auth={"token": customer.access}, wait_timeout=10)
        try:
            sio.call("subscribe", {"events": ["order.status_changed"]}, timeout=10)
            order = checkout(client, customer)

            frame = socket.next_event("order.status_changed", where=paid(order["order_id"]), timeout=30)
            trace_id = trace_id_of(frame["traceparent"])
            _, meta = eventually(lambda: next((r for r in received if paid(order["order_id"])(r[0])), None))
        finally:
            sio.disconnect()
    assert trace_id_of(meta["traceparent"]) == trace_id  # Socket.IO's meta names the same trace

    pushed_by = frame["traceparent"].split("-")[2]  # the span that pushed this very frame

    def complete(trace):
        journey = all(where(trace, name, service) for name, service in CHECKOUT_JOURNEY)
        return journey and any(span["span_id"] == pushed_by for span in trace)

    trace = wait_for_spans(platform, trace_id, complete)
    tree = render(trace, skip=lambda span: span["kind"] == "CLIENT")  # Redis calls left out
    print(f"\none checkout's trace {trace_id}:\n{tree}")

    # One tree: the gateway's span is its only root, every other span hangs under it.
    ids = {span["span_id"] for span in trace}
    roots = [span for span in trace if span["parent_span_id"] not in ids]
    assert [(root["name"], root["service"]) for root in roots] == [("POST /api/cart/*", "gateway")]
    # The frame the socket got names the push span, itself under the gateway worker's run.
    [push] = [span for span in trace if span["span_id"] == pushed_by]
    assert (push["name"], push["service"]) == ("push order.status_changed", "gateway")
    [recorded] = [span for span in trace if span["span_id"] == push["parent_span_id"]]
    assert (recorded["name"], recorded["service"]) == ("process order.status_changed", "gateway-worker")
    [published] = [span for span in trace if span["span_id"] == recorded["parent_span_id"]]
    assert (published["name"], published["service"]) == ("publish order.status_changed", "cart-worker")


def test_a_client_s_traceparent_is_continued_and_the_service_gets_the_gateway_s_span(platform):
    trace_id, client_span = secrets.token_hex(16), secrets.token_hex(8)
    response = httpx.get(
        platform.url("/api/catalog/products/"), headers={"traceparent": f"00-{trace_id}-{client_span}-01"}, timeout=10
    )
    assert response.status_code == 200

    def served(trace):
        return where(trace, "GET /api/catalog/*", "gateway") and where(trace, "GET api/catalog/products/", "catalog")

    trace = wait_for_spans(platform, trace_id, served)
    [gateway] = where(trace, "GET /api/catalog/*", "gateway")
    [catalog] = where(trace, "GET api/catalog/products/", "catalog")
    assert gateway["parent_span_id"] == client_span
    assert catalog["parent_span_id"] == gateway["span_id"]  # not the client's: the gateway replaced it


# --- metrics -----------------------------------------------------------------------------

#: Series every process of a kind exposes (a labelled series shows its TYPE line
#: before its first sample).
WEB_SERIES = ["commerce_http_requests_total", "commerce_http_request_duration_seconds"]
WORKER_SERIES = [
    "commerce_outbox_unsent_events",
    "commerce_outbox_oldest_unsent_age_seconds",
    "commerce_event_queue_depth",
    "commerce_event_retries_waiting",
    "commerce_event_dead_letters_waiting",
    "commerce_worker_problems",
    "commerce_event_deliveries_total",
    "commerce_event_delivery_latency_seconds",
    "commerce_event_retries_total",
    "commerce_event_dead_letters_total",
]
PUSH_SERIES = ["commerce_push_sockets", "commerce_push_frames_sent_total", "commerce_push_frames_dropped_total"]


def scrape(url: str) -> str:
    response = httpx.get(url, timeout=10)
    assert response.status_code == 200, f"{url}: {response.status_code}"
    assert response.headers["content-type"].startswith("text/plain")
    return response.text


def value(text: str, series: str, **labels) -> float:
    """The sum of a series' samples whose labels include `labels`."""
    total = 0.0
    for line in text.splitlines():
        match = re.match(r"^([a-zA-Z_:][\w:]*)(\{.*\})? (\S+)$", line)
        if not match or match.group(1) != series:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(key) == str(wanted) for key, wanted in labels.items()):
            total += float(match.group(3))
    return total


def test_every_process_exposes_its_series_on_its_own_port_after_a_checkout(platform, listen):
    with http(platform) as client:
        customer, operator = register_and_log_in(client), log_in_as_operator(client)
        product = create_product(client, operator, name="Metered teapot", price="12.00", stock=5)
        add_to_cart(client, customer, product["id"])
        socket = listen(customer, "order.status_changed")
        order = checkout(client, customer)
        socket.next_event("order.status_changed", where=paid(order["order_id"]), timeout=30)

        pages = {name: scrape(platform.platform.metrics_url(name)) for name in platform.platform.child_names()}

    for name, text in pages.items():
        project, kind = name.rsplit("-", 1)
        expected = (WEB_SERIES if kind == "web" else WORKER_SERIES) + (PUSH_SERIES if name == "gateway-web" else [])
        missing = [series for series in expected if f"# TYPE {series} " not in text]
        assert not missing, f"{name} lacks {missing}"
        if kind == "worker":
            assert value(text, "commerce_worker_problems") == 0, name
        if kind == "worker" and project != "auth":  # auth subscribes to nothing: it has no queue
            assert f'commerce_event_queue_depth{{queue="{project}.events"}}' in text, name

    gateway, cart = pages["gateway-web"], pages["cart-web"]
    assert value(gateway, "commerce_http_requests_total", route="/api/cart/", method="POST", status=202) >= 1
    assert value(cart, "commerce_http_requests_total", route="api/cart/checkout/", method="POST", status=202) >= 1
    assert value(cart, "commerce_events_published_total", type="order.placed") >= 1
    assert value(gateway, "commerce_push_sockets", front_end="websocket") >= 1
    assert value(gateway, "commerce_push_frames_sent_total", event="order.status_changed") >= 1
    # Each subscriber counts its deliveries of the checkout's events, with their latency.
    for worker, event in [
        ("catalog-worker", "order.placed"),
        ("payment-worker", "stock.reserved"),
        ("cart-worker", "payment.succeeded"),
        ("gateway-worker", "order.status_changed"),
    ]:
        assert value(pages[worker], "commerce_event_deliveries_total", type=event) >= 1, worker
        assert value(pages[worker], "commerce_event_delivery_latency_seconds_count", type=event) >= 1, worker


def test_the_gateway_s_public_port_exposes_no_metrics(platform):
    for path in ("/metrics", "/metrics/"):
        response = httpx.get(platform.url(path), timeout=10)
        assert response.status_code == 404, path
        assert "commerce_" not in response.text


@pytest.mark.skipif(
    len(__import__("os").sched_getaffinity(0)) < 2, reason="one core: the auth service runs a single process"
)
def test_the_auth_service_s_metrics_sum_every_one_of_its_processes(platform):
    url = platform.platform.service_url("auth")
    health = {"route": "health/", "method": "GET", "status": 200}
    before = value(scrape(f"{url}/metrics"), "commerce_http_requests_total", **health)
    for _ in range(40):  # a new connection each: spread over the processes
        with httpx.Client() as client:
            assert client.get(f"{url}/health/", timeout=10).status_code == 200
    time.sleep(0.2)
    seen = []
    for _ in range(8):
        with httpx.Client() as client:
            seen.append(value(client.get(f"{url}/metrics", timeout=10).text, "commerce_http_requests_total", **health))
    # Whichever process answers a scrape, it reports all of them (scrapes count too, hence >=).
    assert all(count >= before + 40 for count in seen), (before, seen)
