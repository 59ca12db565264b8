"""The launch-day scenario for Locust: `make load` (README, "Load").

    .venv/bin/python -m locust -f load/locustfile.py --headless --shoppers 20 --duration 60

Before any user starts, the operator makes the products the shoppers buy (stock.py).
Users (users.py): `--shoppers` checkout shoppers, `--browsers` browsing shoppers and
`--listeners` public-event listeners. The run measures for `--duration` seconds
from the moment every user is set up, then stops, prints Locust's statistics and
ends with the figures of report.py as a table; the exit status is 1 when there
was any error. Run it from the repository's root, in one Locust process (the
figures are gathered in this process, on its clock).
"""

from __future__ import annotations

import logging
from pathlib import Path

from locust import events
from locust.runners import MasterRunner, WorkerRunner

from load import report, stock
from load.run import RUN, Options
from load.users import PUSH_REQUEST_TYPE, BrowsingShopper, CheckoutShopper, PublicListener, reset_shopper_numbers

__all__ = ["BrowsingShopper", "CheckoutShopper", "PublicListener"]

logger = logging.getLogger("load")

DEFAULT_HOST = "http://127.0.0.1:8000"
_summary: list[report.Summary] = []  # of the last test, once it has stopped
_printed: list[bool] = []


@events.init_command_line_parser.add_listener
def add_options(parser) -> None:
    defaults = Options()
    group = parser.add_argument_group("commerce load scenario")
    group.add_argument("--shoppers", type=int, default=defaults.shoppers, help="checkout shoppers (default 20)")
    group.add_argument("--browsers", type=int, default=defaults.browsers, help="browsing shoppers (default 0)")
    group.add_argument("--listeners", type=int, default=defaults.listeners, help="public-event listeners (default 0)")
    group.add_argument(
        "--rate",
        type=float,
        default=defaults.rate,
        help="open loop: checkouts offered per second by the shoppers together (default 0: closed loop)",
    )
    group.add_argument(
        "--duration",
        type=float,
        default=defaults.duration,
        help="seconds measured once every user is set up; then the run stops (default 60; 0: until stopped)",
    )
    group.add_argument(
        "--push-timeout",
        type=float,
        default=defaults.push_timeout,
        help="seconds a shopper waits for an order's final push before counting an error (default 30)",
    )
    group.add_argument("--products", type=int, default=defaults.products, help="products to buy (default 10)")
    group.add_argument(
        "--accounts", default=defaults.accounts, help="shoppers are <accounts>-shopper-<n> (default load)"
    )
    group.add_argument("--summary-json", default="", help="also write the figures to this JSON file")


@events.init.add_listener
def prepare(environment, **_) -> None:
    if isinstance(environment.runner, MasterRunner | WorkerRunner):
        raise SystemExit("the load scenario gathers its figures in one process: run it without --master/--worker")
    parsed = environment.parsed_options
    RUN.options = Options(
        shoppers=parsed.shoppers,
        browsers=parsed.browsers,
        listeners=parsed.listeners,
        rate=parsed.rate,
        duration=parsed.duration,
        push_timeout=parsed.push_timeout,
        products=parsed.products,
        accounts=parsed.accounts,
        summary_json=parsed.summary_json,
    )
    counts = {CheckoutShopper: parsed.shoppers, BrowsingShopper: parsed.browsers, PublicListener: parsed.listeners}
    for user_class, count in counts.items():
        user_class.fixed_count = count
    environment.user_classes = [c for c in environment.user_classes if counts.get(c, 0) > 0]
    if not environment.user_classes:
        raise SystemExit("no users: give --shoppers, --browsers or --listeners a positive count")
    total = sum(counts[c] for c in environment.user_classes)
    if parsed.num_users is None:
        parsed.num_users = total
    if parsed.spawn_rate is None:
        parsed.spawn_rate = min(total, 100)
    if not environment.stop_timeout:  # let the orders in flight get their push
        environment.stop_timeout = RUN.options.push_timeout + 5
    environment.host = environment.host or DEFAULT_HOST
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logger.info("preparing %d products with large stock at %s", RUN.options.products, environment.host)
    try:
        RUN.catalog = stock.prepare(environment.host, products=RUN.options.products)
    except stock.SetupError as exc:
        raise SystemExit(f"load: {exc}") from None


@events.test_start.add_listener
def start(environment, **_) -> None:
    RUN.reset()
    reset_shopper_numbers()
    _summary.clear()
    _printed.clear()
    if RUN.options.duration > 0:
        headless = environment.parsed_options.headless

        def stop_the_run():
            logger.info("%g s measured: stopping", RUN.options.duration)
            RUN.stop()  # the window ends now, however long Locust takes to stop the users
            if headless:
                environment.runner.quit()
            else:  # the web UI stays up for the next test
                environment.runner.stop()

        RUN.limit(RUN.options.duration, stop_the_run)


@events.spawning_complete.add_listener
def spawned(user_count: int, **_) -> None:
    RUN.users_spawned(user_count)


@events.test_stopping.add_listener
def stopping(**_) -> None:
    RUN.stop()


@events.test_stop.add_listener
def stopped(environment, **_) -> None:
    _finish()
    if not environment.parsed_options.headless:
        _print()


@events.request.add_listener
def count_http_errors(request_type, name, exception=None, **_) -> None:
    # Push outcomes are fired as requests too (for Locust's table) but counted by the run.
    if exception is not None and request_type != PUSH_REQUEST_TYPE:
        RUN.record_error(report.HTTP_ERROR, f"{request_type} {name}: {exception}")


@events.user_error.add_listener
def count_exceptions(user_instance, exception, tb, **_) -> None:
    RUN.record_error(report.USER_EXCEPTION, f"{type(user_instance).__name__}: {exception!r}")


@events.quitting.add_listener
def set_exit_code(environment, **_) -> None:
    _finish()  # Ctrl-C before the test stopped: measure what there is
    environment.process_exit_code = 1 if _summary[0].error_total else 0


@events.quit.add_listener
def print_figures(**_) -> None:
    # After Locust's own statistics, so that the run ends with the figures.
    _print()


def _print() -> None:
    if _summary and not _printed:
        print("\n" + report.markdown(_summary[0]), flush=True)
        _printed.append(True)


def _finish() -> None:
    if _summary:
        return
    RUN.stop()
    _summary.append(RUN.summary())
    if RUN.options.summary_json:
        Path(RUN.options.summary_json).write_text(_summary[0].to_json())
