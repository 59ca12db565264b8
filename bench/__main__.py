"""`python -m bench [gateway|bus ...]`: run the benchmarks and print their tables.

Exit status 0 when every selected benchmark ran (whatever its figures) or was
skipped with a note; 1 when one could not run."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import traceback

from .harness import BenchError, Skip


def _gateway(args):
    from . import gateway

    options = gateway.Options(duration=args.duration, rounds=args.rounds, latency_duration=args.latency_seconds)
    return gateway.run(options)


def _bus(args):
    from . import bus

    options = bus.Options(rate=args.rate, seconds=args.seconds, events=args.events)
    return bus.run(options)


def _checkout(args):
    from . import checkout

    return checkout.run(
        checkout.Options(orders=args.orders, products=args.products, duration=args.duration, rounds=args.rounds)
    )


def _push(args):
    from . import push

    return push.run(push.Options(events=args.push_events))


def _readpath(args):
    from . import readpath

    return readpath.run(readpath.Options(duration=args.duration, rounds=args.rounds, products=args.read_products))


def _login(args):
    from . import login

    return login.run(login.Options())


def _load(args):
    from . import load

    return load.run(load.Options(seconds=args.load_seconds, open_seconds=args.load_open_seconds))


BENCHMARKS = {
    "gateway": _gateway,
    "readpath": _readpath,
    "login": _login,
    "bus": _bus,
    "checkout": _checkout,
    "push": _push,
    "load": _load,
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help=f"which to run ({', '.join(BENCHMARKS)}); default all")
    gateway = parser.add_argument_group("gateway")
    gateway.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (default 5)")
    gateway.add_argument("--rounds", type=int, default=3, help="wrk runs per target (default 3)")
    gateway.add_argument(
        "--latency-seconds", type=float, default=24.0, help="seconds of the open-loop latency run (default 24)"
    )
    readpath = parser.add_argument_group("readpath (also --duration and --rounds)")
    readpath.add_argument(
        "--read-products", type=int, default=100, help="products in the catalog it lists (default 100)"
    )
    bus = parser.add_argument_group("bus")
    bus.add_argument("--rate", type=float, default=200.0, help="events/s of the latency run (default 200)")
    bus.add_argument("--seconds", type=float, default=10.0, help="length of the latency run (default 10)")
    bus.add_argument("--events", type=int, default=2000, help="events of the throughput run (default 2000)")
    checkout = parser.add_argument_group("checkout")
    checkout.add_argument("--orders", type=int, default=200, help="orders of the latency run (default 200)")
    checkout.add_argument("--products", type=int, default=1000, help="catalog size for the list run (default 1000)")
    push = parser.add_argument_group("push")
    push.add_argument("--push-events", type=int, default=40, help="products created per push row (default 40)")
    load = parser.add_argument_group("load")
    load.add_argument(
        "--load-seconds", type=float, default=60.0, help="seconds of the closed-loop run, 20 shoppers (default 60)"
    )
    load.add_argument(
        "--load-open-seconds", type=float, default=30.0, help="seconds of the open-loop run, 10 orders/s (default 30)"
    )
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in BENCHMARKS]
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(unknown)}; choose from {', '.join(BENCHMARKS)}")

    # A SIGTERM (or a Ctrl-C) unwinds through every `finally`, which stops the children.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failed = False
    for name in args.names or list(BENCHMARKS):
        print(f"== bench {name}", file=sys.stderr, flush=True)
        started, load_before = time.monotonic(), os.getloadavg()[0]
        try:
            table = BENCHMARKS[name](args)
        except Skip as exc:
            print(f"\n### {name}\n\nskipped: {exc}", flush=True)
            continue
        except BenchError as exc:
            print(f"\n### {name}\n\ncould not run: {exc}", flush=True)
            failed = True
            continue
        except Exception:  # noqa: BLE001 - report and go on with the next benchmark
            print(f"\n### {name}\n\ncould not run:\n{traceback.format_exc()}", flush=True)
            failed = True
            continue
        table.notes.append(
            f"Wall time {time.monotonic() - started:.0f} s. Load average (1 min) {load_before:.1f} before, "
            f"{os.getloadavg()[0]:.1f} after, on {os.cpu_count()} CPUs: figures taken on a busy machine "
            "are low and noisy."
        )
        table.print()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
