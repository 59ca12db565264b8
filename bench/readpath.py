"""Read path: the CPU one service process spends per GET, against a bare DRF view.

Each service runs as the platform runs it (`devtools.commands.web_argv`: Granian,
one worker, its threads) on data seeded through its own services, and so does the
reference, a Django project with one DRF view that returns a product from memory
(`bench/reference/`: no middleware, no database, no authentication). Everything is
served directly, without the gateway; requests that need a caller carry the
gateway's signed identity header, as the gateway would send it.

For each endpoint, `wrk -t1 -c32` runs `rounds` times for `duration` seconds, the
endpoints taking turns in a rotating order so that all are measured under the same
background load. Per run: requests/s, and the CPU time (user + system) of the
serving process group divided by the requests served. Rows show the lowest CPU per
request of the runs (what else runs on the machine only ever adds to it) and the
median requests/s (which depends on what else runs much more).

Targets (the catalog, per process, served directly): at most 1.5 ms of CPU per
request for the product detail and for a list page, and so at least 585 requests/s
from one process with a core of its own (1 ÷ its CPU per request; the requests/s
wrk measured on a shared machine are shown beside it): three times the 195 req/s
the detail was measured at before the read path was reworked.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass, field
from statistics import median

from commerce_core.settings.topology import SERVICES
from devtools.commands import web_argv, wsgi_argv

from .harness import PYTHON, REPO_ROOT, BenchError, Table, Workspace, ensure_free, note, verdict, wait_for_port
from .tools import find_or_install, run_wrk

PORT_OFFSET = 24_000  # catalog 32002, cart 32003, payment 32004, review 32005
REFERENCE_PORT = 32_050
REDIS_PORT = 32_090
TARGET_CPU_MS = 1.5
TARGET_RPS = 585  # 3 × 195 req/s
#: The customer whose cart, orders and payments are read.
USER_ID = 4242
PAGE_SIZE = 20  # REST_FRAMEWORK["PAGE_SIZE"]
ORDERS = 20
CART_LINES = 3

SEED_CATALOG = """\
import django
django.setup()
from decimal import Decimal
from catalog.services import product_create
ids = [
    product_create(name=f"Benchmark lamp {{n:03d}}", price=Decimal("12.50") + n, stock=10,
                   description="A product the read-path benchmark reads.").id
    for n in range({products})
]
print(f"PRODUCT_ID={{ids[0]}}")
"""

SEED_CART = """\
import django
django.setup()
from decimal import Decimal
from django.utils import timezone
from carts.services import cart_item_add, product_replica_record
from orders.services import order_fail, order_place
now = timezone.now()
for product_id in range(1, {lines} + 1):
    product_replica_record(product_id=product_id, as_of=now, name=f"lamp {{product_id}}",
                           price=Decimal("12.50"), stock=10**6)
    cart_item_add(user_id={user}, product_id=product_id, quantity=2)
for _ in range({orders}):
    # One pending order at a time: each fails at once, and its lines stay in the cart.
    order_fail(order_id=order_place(user_id={user}, payment_token="tok_visa").pk, reason="benchmark")
"""

SEED_PAYMENT = """\
import django
django.setup()
from decimal import Decimal
from payments.services import payment_record
for order_id in range(1, {orders} + 1):
    payment_record(order_id=order_id, user_id={user}, amount=Decimal("75.00"), payment_token="tok_visa")
"""

SEED_REVIEW = """\
import django
django.setup()
from reviews.models import ProductReplica, Review
product = ProductReplica.objects.create(product_id=1, name="lamp 1")
Review.objects.bulk_create(
    Review(product=product, user_id=user_id, rating=1 + user_id % 5, comment="Bright enough to read by.")
    for user_id in range(1, {reviews} + 1)
)
"""


@dataclass(frozen=True)
class Options:
    duration: float = 5.0  # seconds per wrk run
    rounds: int = 3  # runs per endpoint
    connections: int = 32
    products: int = 100


@dataclass
class Endpoint:
    name: str
    port: int
    path: str
    what: str = ""  # what the answer holds
    as_customer: bool = False  # sent with the gateway's signed identity of USER_ID
    expect: str = ""  # a key the JSON body must have
    rps: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # seconds per request

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    @property
    def label(self) -> str:
        return f"{self.name} `GET {self.path}`" + (f" ({self.what})" if self.what else "")

    @property
    def cpu_ms(self) -> float:
        """The lowest CPU per request of the runs: other processes only ever add to
        it (cache misses, a shared core), as timeit's documentation says of times."""
        return min(self.cpu) * 1e3


def _project(name: str):
    return next(p for p in SERVICES if p.name == name)


def _port(name: str) -> int:
    return _project(name).default_port + PORT_OFFSET


def _identity_headers(secret: str) -> dict[str, str]:
    """The header the gateway would forward for USER_ID, valid for 30 s."""
    from commerce_core.identity.gateway_identity import HEADER, sign_identity
    from commerce_core.identity.principal import Principal

    return {HEADER: sign_identity(Principal(id=USER_ID, username="reader"), secret=secret)}


def run(options: Options = Options()) -> Table:
    wrk = find_or_install("wrk", "wrk")
    names = ("catalog", "cart", "payment", "review")
    for port in (*(_port(n) for n in names), REFERENCE_PORT):
        ensure_free(port)

    with Workspace("readpath", redis_port=REDIS_PORT) as ws:
        ws.start_redis()
        databases = ws.prepare_databases(names)
        note("migrating catalog, cart, payment and review databases")
        ws.setup_projects(names)
        note(f"seeding {options.products} products, a cart, {ORDERS} orders, {ORDERS} payments, {PAGE_SIZE} reviews")
        product_id = _seed(ws, options)

        children = {
            name: ws.start(
                f"{name}-web",
                web_argv(_project(name), python=PYTHON, host="127.0.0.1", port=_port(name)),
                cwd=REPO_ROOT / _project(name).directory,
            )
            for name in names
        }
        children["reference"] = ws.start(
            "reference-web",
            wsgi_argv("bench.reference.wsgi:application", python=PYTHON, host="127.0.0.1", port=REFERENCE_PORT),
            cwd=REPO_ROOT,
            env=ws.env(DJANGO_SETTINGS_MODULE="bench.reference.settings"),
        )
        secret = ws.env()["GATEWAY_IDENTITY_SECRET"]
        for name, child in children.items():
            port = REFERENCE_PORT if name == "reference" else _port(name)
            try:
                wait_for_port(port, timeout=60, alive=lambda child=child: child.running, what=child.name)
            except BenchError as exc:
                raise BenchError(f"{exc}\n{child.tail()}") from None

        catalog = _port("catalog")
        endpoints = {
            "reference": Endpoint("bare DRF view", REFERENCE_PORT, "/products/1/", expect="price"),
            "detail": Endpoint(
                "catalog detail", catalog, f"/api/catalog/products/{product_id}/", "one product", expect="price"
            ),
            "list": Endpoint(
                "catalog list",
                catalog,
                "/api/catalog/products/",
                f"{PAGE_SIZE} of {options.products} products",
                expect="results",
            ),
            "search": Endpoint(
                "catalog list",
                catalog,
                "/api/catalog/products/?search=lamp&ordering=-price",
                "searched, ordered",
                expect="results",
            ),
            "cart": Endpoint(
                "cart", _port("cart"), "/api/cart/", f"{CART_LINES} lines", as_customer=True, expect="items"
            ),
            "orders": Endpoint(
                "orders",
                _port("cart"),
                "/api/cart/orders/",
                f"{ORDERS} orders of {CART_LINES} lines",
                as_customer=True,
                expect="results",
            ),
            "payments": Endpoint(
                "payments", _port("payment"), "/api/payments/", f"{ORDERS}", as_customer=True, expect="results"
            ),
            "reviews": Endpoint(
                "reviews", _port("review"), "/api/reviews/?product_id=1", f"{PAGE_SIZE}", expect="results"
            ),
        }
        owners = {"reference": "reference", "detail": "catalog", "list": "catalog", "search": "catalog"}
        owners |= {"cart": "cart", "orders": "cart", "payments": "payment", "reviews": "review"}
        for endpoint in endpoints.values():
            _check(endpoint, secret)

        note("warming up (2 s per endpoint)")
        for endpoint in endpoints.values():
            _wrk(wrk, endpoint, duration=2, connections=options.connections, secret=secret)

        errors = 0
        order = list(endpoints)
        for round_ in range(options.rounds):
            shift = round_ % len(order)
            for key in order[shift:] + order[:shift]:
                endpoint, child = endpoints[key], children[owners[key]]
                before = child.cpu_seconds()
                result = _wrk(wrk, endpoint, duration=options.duration, connections=options.connections, secret=secret)
                spent = child.cpu_seconds() - before
                errors += result.errors
                if result.requests:
                    endpoint.rps.append(result.requests_per_second)
                    endpoint.cpu.append(spent / result.requests)
                note(
                    f"round {round_ + 1} {endpoint.name} {endpoint.path:<52} {result.requests_per_second:6.0f} req/s, "
                    f"{spent / max(1, result.requests) * 1e3:.2f} ms CPU/request"
                    + (f", {result.errors} errors" if result.errors else "")
                )
        for child in children.values():
            if not child.running:
                raise BenchError(f"{child.name} died during the benchmark:\n{child.tail()}")

    return _table(options, endpoints, errors, databases)


def _seed(ws: Workspace, options: Options) -> int:
    scripts = {
        "catalog": SEED_CATALOG.format(products=options.products),
        "cart": SEED_CART.format(lines=CART_LINES, user=USER_ID, orders=ORDERS),
        "payment": SEED_PAYMENT.format(orders=ORDERS, user=USER_ID),
        "review": SEED_REVIEW.format(reviews=PAGE_SIZE),
    }
    outputs = {
        name: ws.run(
            f"seed-{name}",
            [PYTHON, "-c", script],
            cwd=REPO_ROOT / _project(name).directory,
            env=ws.env(DJANGO_SETTINGS_MODULE="config.settings"),
            timeout=300,
        )
        for name, script in scripts.items()
    }
    return int(outputs["catalog"].rsplit("PRODUCT_ID=", 1)[1].split()[0])


def _wrk(wrk: str, endpoint: Endpoint, *, duration: float, connections: int, secret: str):
    headers = _identity_headers(secret) if endpoint.as_customer else None
    return run_wrk(wrk, endpoint.url, duration=duration, connections=connections, headers=headers)


def _check(endpoint: Endpoint, secret: str) -> None:
    """The endpoint answers 200 with the body it should, before anything is measured."""
    request = urllib.request.Request(endpoint.url, headers=_identity_headers(secret) if endpoint.as_customer else {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status, body = response.status, json.loads(response.read())
    except Exception as exc:  # noqa: BLE001 - any failure means the setup is wrong
        raise BenchError(f"GET {endpoint.url} failed: {exc}") from None
    if status != 200 or endpoint.expect not in body:
        raise BenchError(f"GET {endpoint.url} answered {status} {body!r}")
    if isinstance(body.get("results"), list) and len(body["results"]) < PAGE_SIZE:
        raise BenchError(f"GET {endpoint.url} listed {len(body['results'])} items, not a full page of {PAGE_SIZE}")


def _table(options: Options, endpoints: dict[str, Endpoint], errors: int, databases: str) -> Table:
    table = Table("readpath — CPU per GET of one service process, served directly, vs a bare DRF view")
    reference = endpoints["reference"]
    ref_cpu, ref_rps = reference.cpu_ms, median(reference.rps)
    for key in ("detail", "list"):
        endpoint = endpoints[key]
        cpu, rps = endpoint.cpu_ms, median(endpoint.rps)
        table.row(
            f"{endpoint.label}: CPU per request",
            f"{cpu:.2f} ms",
            f"{ref_cpu:.2f} ms",
            f"{cpu / ref_cpu:.1f}×",
            f"≤ {TARGET_CPU_MS} ms — {verdict(cpu <= TARGET_CPU_MS)}",
        )
        capacity, ref_capacity = 1e3 / cpu, 1e3 / ref_cpu
        table.row(
            f"{endpoint.name}: requests/s of one process on a core of its own (1 ÷ CPU per request; measured)",
            f"{capacity:.0f} ({rps:.0f})",
            f"{ref_capacity:.0f} ({ref_rps:.0f})",
            f"{capacity / ref_capacity:.2f}",
            f"≥ {TARGET_RPS} — {verdict(capacity >= TARGET_RPS)}",
        )
    for key in ("search", "cart", "orders", "payments", "reviews"):
        endpoint = endpoints[key]
        cpu, rps = endpoint.cpu_ms, median(endpoint.rps)
        table.row(
            f"{endpoint.label}: CPU per request, req/s",
            f"{cpu:.2f} ms, {rps:.0f}",
            f"{ref_cpu:.2f} ms, {ref_rps:.0f}",
            f"{cpu / ref_cpu:.1f}×",
        )
    table.row(f"{reference.label} (the reference): CPU per request, req/s", f"{ref_cpu:.2f} ms, {ref_rps:.0f}")
    table.row("failed requests (all runs)", str(errors), "", "", "0")
    table.notes.append(
        "CPU per request: user + system CPU of the serving process group ÷ requests served, the lowest of "
        f"{options.rounds} runs of wrk -t1 -c{options.connections} for {options.duration:.0f} s (background load "
        "only adds to it); requests/s: the median. Ratio: endpoint ÷ reference, served by the same server command."
    )
    table.notes.append(
        "Every run (CPU ms/request): "
        + "; ".join(f"{e.name} {e.path} " + ", ".join(f"{c * 1e3:.2f}" for c in e.cpu) for e in endpoints.values())
        + "."
    )
    table.notes.append(f"Databases: {databases}. Load generator on the same machine.")
    return table
