"""Gateway vs nginx: what proxying through the gateway costs.

One catalog process (Granian, as the platform runs it) serves one product. In front of it, side
by side: the gateway (uvicorn, one worker) and nginx (one worker process, upstream
keep-alive). Measured on `GET /api/catalog/products/<id>/`:

1. Throughput, closed loop: `wrk -t1 -c32`, gateway and nginx runs alternating
   (and the catalog directly for context), the median of each.
2. Latency at half load, open loop: a fixed request rate of half the gateway's
   throughput, the requests taking turns direct, through the gateway and through
   nginx (so the catalog carries the half load, and all three are measured under
   the same background noise); the added latency is each proxy's median minus the
   direct median.
"""

from __future__ import annotations

import json
import urllib.request
from dataclasses import dataclass
from statistics import median

from commerce_core.settings.topology import GATEWAY, SERVICES
from devtools.commands import READ_MOSTLY_WEB_THREADS, web_argv

from .harness import (
    NGINX_PORT,
    PYTHON,
    REPO_ROOT,
    BenchError,
    Table,
    Workspace,
    ensure_free,
    median_difference_interval,
    note,
    percentile,
    project_port,
    verdict,
    wait_for_port,
)
from .open_loop import OpenLoopResult, run_open_loop
from .tools import find_or_install, nginx_argv, run_wrk

CATALOG = next(p for p in SERVICES if p.name == "catalog")
REDIS_PORT = 28090
THROUGHPUT_TARGET = 0.8  # gateway req/s ÷ nginx req/s, at least
ADDED_LATENCY_TARGET_MS = 1.0  # the gateway's added median latency at half load, at most

CREATE_PRODUCT = """\
import django
django.setup()
from decimal import Decimal
from catalog.services import product_create
product = product_create(name="Benchmark lamp", price=Decimal("12.50"), stock=10,
                         description="The one product the gateway benchmark reads.")
print(f"PRODUCT_ID={product.id}")
"""


@dataclass(frozen=True)
class Options:
    duration: float = 5.0  # seconds per wrk run
    rounds: int = 3  # wrk runs per target
    connections: int = 32
    latency_duration: float = 24.0  # seconds of the open-loop run (after a 1 s warm-up)


def run(options: Options = Options()) -> Table:
    wrk = find_or_install("wrk", "wrk")
    nginx = find_or_install("nginx", "nginx")
    gateway_port, catalog_port = project_port("gateway"), project_port("catalog")
    for port in (gateway_port, catalog_port, NGINX_PORT):
        ensure_free(port)

    with Workspace("gateway", redis_port=REDIS_PORT) as ws:
        ws.start_redis()
        databases = ws.prepare_databases(["catalog", "gateway"])
        note("migrating catalog and gateway databases")
        ws.setup_projects(["catalog", "gateway"])
        output = ws.run(
            "create-product",
            [PYTHON, "-c", CREATE_PRODUCT],
            cwd=REPO_ROOT / "catalog_service",
            env=ws.env(DJANGO_SETTINGS_MODULE="config.settings"),
        )
        product_id = int(output.rsplit("PRODUCT_ID=", 1)[1].split()[0])
        path = f"/api/catalog/products/{product_id}/"

        # Served exactly as the platform serves them (devtools/commands.py).
        catalog = ws.start(
            "catalog-web",
            web_argv(CATALOG, python=PYTHON, host="127.0.0.1", port=catalog_port),
            cwd=REPO_ROOT / CATALOG.directory,
        )
        gateway = ws.start(
            "gateway-web",
            web_argv(GATEWAY, python=PYTHON, host="127.0.0.1", port=gateway_port),
            cwd=REPO_ROOT / GATEWAY.directory,
        )
        proxy = ws.start(
            "nginx",
            nginx_argv(nginx, ws.directory / "nginx", port=NGINX_PORT, upstream_port=catalog_port),
            cwd=ws.directory,
        )
        for child, port in ((catalog, catalog_port), (gateway, gateway_port), (proxy, NGINX_PORT)):
            try:
                wait_for_port(port, timeout=60, alive=lambda child=child: child.running, what=child.name)
            except BenchError as exc:
                raise BenchError(f"{exc}\n{child.tail()}") from None

        targets = {"direct": catalog_port, "gateway": gateway_port, "nginx": NGINX_PORT}
        _check_proxies(targets, path, product_id)

        note("warming up (2 s per target)")
        for port in targets.values():
            run_wrk(wrk, f"http://127.0.0.1:{port}{path}", duration=2, connections=options.connections)

        throughput: dict[str, list[float]] = {name: [] for name in targets}
        # CPU time per request of each process, which a busy machine barely changes.
        cpu: dict[str, list[float]] = {"gateway": [], "nginx": [], "catalog": []}
        proxies = {"gateway": gateway, "nginx": proxy}
        errors = 0
        for round_ in range(options.rounds):
            order = ["gateway", "nginx"] if round_ % 2 == 0 else ["nginx", "gateway"]
            for name in [*order, "direct"]:
                watched = {"catalog": catalog, **({name: proxies[name]} if name in proxies else {})}
                before = {key: child.cpu_seconds() for key, child in watched.items()}
                result = run_wrk(
                    wrk,
                    f"http://127.0.0.1:{targets[name]}{path}",
                    duration=options.duration,
                    connections=options.connections,
                )
                for key, child in watched.items():
                    if result.requests and (key != "catalog" or name == "direct"):
                        cpu[key].append((child.cpu_seconds() - before[key]) / result.requests)
                throughput[name].append(result.requests_per_second)
                errors += result.errors
                note(
                    f"wrk {name:<7} round {round_ + 1}: {result.requests_per_second:8.0f} req/s"
                    + (f", {result.errors} errors" if result.errors else "")
                )
        rps = {name: median(values) for name, values in throughput.items()}

        rate = max(10.0, round(rps["gateway"] / 2))
        note(f"open loop: {rate:.0f} req/s for {options.latency_duration:.0f} s, taking turns over the three targets")
        open_loop: OpenLoopResult = run_open_loop(
            targets, path, rate=rate, duration=options.latency_duration, warmup=1.0
        )
        latencies, open_loop_errors = open_loop.latencies, open_loop.errors
        for name, values in latencies.items():
            if not values:
                raise BenchError(f"no successful open-loop request through {name}")
        for child in (catalog, gateway, proxy):
            if not child.running:
                raise BenchError(f"{child.name} died during the benchmark:\n{child.tail()}")

    return _table(
        options, rps, throughput, cpu, rate, latencies, errors + open_loop_errors, open_loop.late_dispatch, databases
    )


def _check_proxies(targets: dict[str, int], path: str, product_id: int) -> None:
    """Every target must answer 200 with the product, and the proxies exactly what the catalog says."""
    bodies = {}
    for name, port in targets.items():
        url = f"http://127.0.0.1:{port}{path}"
        try:
            with urllib.request.urlopen(url, timeout=10) as response:
                status, body = response.status, json.loads(response.read())
        except Exception as exc:  # noqa: BLE001 - any failure means the setup is wrong
            raise BenchError(f"GET {url} through {name} failed: {exc}") from None
        if status != 200 or body.get("id") != product_id:
            raise BenchError(f"GET {url} through {name} answered {status} {body!r}, not product {product_id}")
        bodies[name] = body
    if not bodies["gateway"] == bodies["nginx"] == bodies["direct"]:
        raise BenchError(f"the proxies changed the body: {bodies!r}")
    note(f"GET {path} answers 200 with product {product_id} direct, through the gateway and through nginx")


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.2f} ms"


def _table(options: Options, rps, throughput, cpu, rate, latencies, errors, worst_lag, databases) -> Table:
    table = Table("gateway — `GET /api/catalog/products/<id>/` through the gateway vs nginx")
    ratio = rps["gateway"] / rps["nginx"] if rps["nginx"] else 0.0
    runs = f"median of {options.rounds} × {options.duration:.0f} s, wrk -t1 -c{options.connections}"
    table.row(
        f"gateway throughput (req/s, {runs})",
        f"{rps['gateway']:.0f}",
        f"nginx {rps['nginx']:.0f}",
        f"{ratio:.2f}",
        f"≥ {THROUGHPUT_TARGET} — {verdict(ratio >= THROUGHPUT_TARGET)}",
    )
    table.row(
        "catalog direct throughput (req/s, context)",
        f"{rps['direct']:.0f}",
        "",
        f"gw {rps['gateway'] / rps['direct']:.2f}, nginx {rps['nginx'] / rps['direct']:.2f}",
        "",
    )
    cpu_us = {name: median(values) * 1e6 for name, values in cpu.items() if values}
    if "gateway" in cpu_us and "nginx" in cpu_us:
        table.row(
            "proxy CPU per request (µs, user + system)",
            f"{cpu_us['gateway']:.0f}",
            f"nginx {cpu_us['nginx']:.0f}",
            f"{cpu_us['gateway'] / cpu_us['nginx']:.1f}",
            "",
        )
    if "catalog" in cpu_us:
        table.row("catalog CPU per request (µs, context)", f"{cpu_us['catalog']:.0f}")
    p50 = {name: median(values) for name, values in latencies.items()}
    p99 = {name: percentile(values, 99) for name, values in latencies.items()}
    samples = len(latencies["gateway"])
    table.row(
        f"open-loop rate (½ gateway throughput, in turns over 3 targets; {samples} requests each)", f"{rate:.0f} req/s"
    )
    for name in ("direct", "gateway", "nginx"):
        table.row(f"{name} latency p50 / p99", f"{_ms(p50[name])} / {_ms(p99[name])}")
    added = p50["gateway"] - p50["direct"]
    added_nginx = p50["nginx"] - p50["direct"]
    low, high = median_difference_interval(latencies["gateway"], latencies["direct"])
    low_nginx, high_nginx = median_difference_interval(latencies["nginx"], latencies["direct"])
    table.row(
        "gateway added median latency (95% bootstrap interval)",
        f"{_ms(added)} ({low * 1e3:.2f} to {high * 1e3:.2f})",
        f"nginx {_ms(added_nginx)} ({low_nginx * 1e3:.2f} to {high_nginx * 1e3:.2f})",
        "",
        f"≤ {ADDED_LATENCY_TARGET_MS:g} ms — {verdict(added * 1e3 <= ADDED_LATENCY_TARGET_MS)}",
    )
    table.row(
        "gateway added p99 latency", _ms(p99["gateway"] - p99["direct"]), f"nginx {_ms(p99['nginx'] - p99['direct'])}"
    )
    table.row("failed requests (all runs)", str(errors), "", "", "0")
    table.notes.append(
        "Every wrk run (req/s): "
        + "; ".join(
            f"{name} " + ", ".join(f"{v:.0f}" for v in throughput[name]) for name in ("gateway", "nginx", "direct")
        )
        + "."
    )
    table.notes.append(
        f"Catalog: 1 Granian worker ({READ_MOSTLY_WEB_THREADS} thread), {databases}; gateway: 1 uvicorn worker; "
        f"nginx: 1 worker process, upstream keepalive 32. Load generators run on the same machine. "
        f"Open-loop client's worst dispatch lag {_ms(worst_lag)}."
    )
    return table
