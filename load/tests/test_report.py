from collections import Counter

import pytest

from load import report
from load.report import Order, Setup

CLOSED_20 = Setup(mode="closed", shoppers=20)
OPEN_10 = Setup(mode="open", shoppers=20, rate=10.0)


def paid(due, pushed, sent=None):
    return Order(due=due, sent=due if sent is None else sent, pushed=pushed, status="paid")


# --- percentiles -------------------------------------------------------------------------
def test_the_nearest_rank_percentile_is_always_a_measured_value():
    values = [float(v) for v in range(1, 101)]  # 1..100
    assert report.percentile(values, 50) == 50
    assert report.percentile(values, 90) == 90
    assert report.percentile(values, 99) == 99
    assert report.percentile(values, 100) == 100
    assert report.percentile([10.0, 20.0, 30.0, 40.0], 50) == 20  # not 25: no interpolation


def test_a_percentile_rounds_its_rank_up_so_a_few_slow_samples_are_not_hidden():
    values = [1.0] * 98 + [500.0, 900.0]
    assert report.percentile(values, 98) == 1
    assert report.percentile(values, 99) == 500
    # With ten samples, p99 is the slowest one.
    assert report.percentile([1.0] * 9 + [700.0], 99) == 700


def test_the_order_of_the_samples_does_not_matter():
    assert report.percentile([30.0, 10.0, 20.0], 50) == 20


@pytest.mark.parametrize("q", [0, -1, 100.5])
def test_a_percentile_outside_0_to_100_is_refused(q):
    with pytest.raises(ValueError):
        report.percentile([1.0], q)


def test_a_percentile_of_nothing_is_refused():
    with pytest.raises(ValueError):
        report.percentile([], 50)


# --- latency ---------------------------------------------------------------------------------
def test_latency_runs_from_when_the_checkout_was_due_to_when_its_push_arrived():
    # Open loop: due at 10.0, held back until 10.5 for want of a free shopper.
    order = Order(due=10.0, sent=10.5, pushed=10.8, status="paid")
    assert order.latency == pytest.approx(0.8)


def test_latency_percentiles_are_in_milliseconds_and_skip_orders_without_a_push():
    orders = [paid(0.0, 0.100), paid(1.0, 1.200), Order(due=2.0, sent=2.0), paid(3.0, 3.300)]
    figures = report.latency_percentiles_ms(orders)
    assert figures == {
        "p50": pytest.approx(200),
        "p90": pytest.approx(300),
        "p99": pytest.approx(300),
        "max": pytest.approx(300),
    }


def test_a_failed_orders_push_still_counts_for_latency():
    figures = report.latency_percentiles_ms([Order(due=0.0, sent=0.0, pushed=0.25, status="failed")])
    assert figures["max"] == pytest.approx(250)


def test_no_push_at_all_gives_no_latency_figures():
    assert report.latency_percentiles_ms([Order(due=0.0, sent=0.0)]) == {
        "p50": None,
        "p90": None,
        "p99": None,
        "max": None,
    }


# --- rates --------------------------------------------------------------------------------
def test_paid_orders_per_second_count_pushes_inside_the_window_only():
    orders = [
        paid(9.0, 9.9),  # before the window
        paid(10.0, 10.0),  # on its start
        paid(11.0, 12.0),
        Order(due=12.0, sent=12.0, pushed=12.5, status="failed"),  # not paid
        paid(19.0, 20.0),  # on its end
        paid(19.5, 20.4),  # while the run drained
    ]
    summary = report.summarize(CLOSED_20, orders, window=(10.0, 20.0))
    assert summary.paid == 3
    assert summary.seconds == pytest.approx(10.0)
    assert summary.paid_per_second == pytest.approx(0.3)


def test_the_summary_hands_over_its_window_so_other_processes_can_cut_their_figures_to_it():
    summary = report.summarize(CLOSED_20, [paid(11.0, 12.0)], window=(10.0, 20.0))

    assert report.Summary.from_json(summary.to_json()).window == (10.0, 20.0)


def test_the_rate_of_an_empty_window_is_zero():
    assert report.rate(5, 0.0) == 0.0
    assert report.rate(50, 2.0) == 25.0


# --- errors -------------------------------------------------------------------------------
def test_a_missing_push_and_an_unexpected_final_state_are_errors_of_their_own_kinds():
    orders = [
        paid(0.0, 0.1),
        Order(due=1.0, sent=1.0),  # never pushed
        Order(due=2.0, sent=2.0, pushed=2.2, status="failed"),
        Order(due=3.0, sent=3.0, pushed=3.2, status="cancelled"),
    ]
    summary = report.summarize(
        CLOSED_20, orders, window=(0.0, 5.0), other_errors=Counter({report.HTTP_ERROR: 2, report.SOCKET_CLOSED: 1})
    )
    assert summary.errors[report.PUSH_TIMEOUT] == 1
    assert summary.errors[report.UNEXPECTED_STATE] == 2
    assert summary.errors[report.HTTP_ERROR] == 2
    assert summary.errors[report.SOCKET_CLOSED] == 1
    assert summary.errors[report.SETUP_FAILED] == 0
    assert summary.error_total == 6


def test_a_clean_run_has_every_error_kind_at_zero():
    summary = report.summarize(CLOSED_20, [paid(0.0, 0.1)], window=(0.0, 1.0))
    assert summary.error_total == 0
    assert set(summary.errors) == set(report.ERROR_KINDS)
    assert all(count == 0 for count in summary.errors.values())


def test_open_loop_checkouts_that_left_late_for_their_slot_are_counted():
    orders = [paid(0.0, 0.1, sent=0.001), paid(0.1, 0.9, sent=0.6), paid(0.2, 1.0, sent=0.7)]
    assert report.summarize(OPEN_10, orders, window=(0.0, 1.0)).late_starts == 2
    assert report.summarize(CLOSED_20, orders, window=(0.0, 1.0)).late_starts == 0


# --- the table against the targets ------------------------------------------------------------
def rows_by_figure(summary):
    return {figure: (value, target) for figure, value, target in report.rows(summary)}


def steady(rate, latency, seconds=60.0):
    """Orders paid at `rate` per second for `seconds`, each taking `latency` seconds."""
    count = int(rate * seconds)
    return [paid(i / rate, i / rate + latency) for i in range(count)]


def test_the_throughput_verdict_is_given_only_for_20_closed_loop_shoppers_over_60_s():
    fast = steady(26, 0.1, seconds=61)  # pushes at 0.1 + i/26 s: i = 0..1557 fall inside 60 s
    met = rows_by_figure(report.summarize(CLOSED_20, fast, window=(0.0, 60.0)))["paid orders/s"]
    assert met == ("26.0 (1558 paid in 60.0 s)", "≥ 25/s with 20 closed-loop shoppers for 60 s: met")
    slow = steady(24, 0.1, seconds=61)
    missed = rows_by_figure(report.summarize(CLOSED_20, slow, window=(0.0, 60.0)))["paid orders/s"][1]
    assert missed.endswith(": MISSED")
    short = rows_by_figure(report.summarize(CLOSED_20, fast, window=(0.0, 30.0)))["paid orders/s"][1]
    assert short.endswith("(not this run's shape)")
    fewer = rows_by_figure(report.summarize(Setup("closed", 5), fast, window=(0.0, 60.0)))["paid orders/s"][1]
    assert fewer.endswith("(not this run's shape)")


def test_errors_spoil_the_throughput_verdict():
    summary = report.summarize(
        CLOSED_20, steady(30, 0.1), window=(0.0, 60.0), other_errors=Counter({report.HTTP_ERROR: 1})
    )
    rows = rows_by_figure(summary)
    assert rows["paid orders/s"][1].endswith(": MISSED")
    assert rows["errors"] == (f"1 ({report.HTTP_ERROR} 1)", "0: MISSED")


P99_TARGET = "≤ 300 ms at 10 orders/s offered open-loop"


def test_an_open_loop_run_at_10_orders_per_second_meets_the_latency_target_with_1_percent_slow():
    orders = steady(10, 0.2, seconds=30)  # 300 orders
    orders[-3:] = [paid(o.due, o.due + 0.4) for o in orders[-3:]]  # 1% at 400 ms
    summary = report.summarize(OPEN_10, orders, window=(0.0, 30.0))
    assert rows_by_figure(summary)["checkout → final push p99"] == ("200 ms", f"{P99_TARGET}: met")


def test_an_open_loop_run_at_10_orders_per_second_misses_the_latency_target_with_more_than_1_percent_slow():
    orders = steady(10, 0.2, seconds=30)
    orders[-4:] = [paid(o.due, o.due + 0.4) for o in orders[-4:]]
    summary = report.summarize(OPEN_10, orders, window=(0.0, 30.0))
    assert rows_by_figure(summary)["checkout → final push p99"] == ("400 ms", f"{P99_TARGET}: MISSED")


def test_an_open_loop_run_that_could_not_send_every_checkout_it_owed_misses_the_latency_target():
    summary = report.summarize(OPEN_10, steady(10, 0.2, seconds=30), window=(0.0, 30.0), unsent=12)
    rows = rows_by_figure(summary)
    assert rows["checkout → final push p99"] == ("200 ms", f"{P99_TARGET}: MISSED")
    assert rows["checkouts due but never sent (no free shopper)"] == ("12", "0")


def test_the_latency_verdict_is_given_only_for_open_loop_runs_at_10_orders_per_second():
    orders = steady(10, 0.2, seconds=30)
    closed = report.summarize(CLOSED_20, orders, window=(0.0, 30.0))
    other_rate = report.summarize(Setup("open", 20, rate=5.0), orders, window=(0.0, 30.0))
    for summary in (closed, other_rate):
        assert rows_by_figure(summary)["checkout → final push p99"][1] == f"{P99_TARGET} (not this run's shape)"


def test_the_table_lists_the_first_errors_above_and_ends_with_the_error_count():
    summary = report.summarize(
        OPEN_10,
        [paid(0.0, 0.12)],
        window=(0.0, 1.0),
        other_errors=Counter({report.HTTP_ERROR: 1}),
        error_examples=["HTTP errors: POST /api/cart/checkout/: 500"],
    )
    lines = report.markdown(summary).splitlines()
    assert lines[:2] == ["First errors:", "- HTTP errors: POST /api/cart/checkout/: 500"]
    assert "### load: open loop, 10 orders/s offered by 20 shoppers; 1 s measured" in lines
    assert any(line.startswith("| checkout → final push p50 ") for line in lines)
    assert lines[-1].startswith("| errors ") and "1 (HTTP errors 1)" in lines[-1]


def test_the_load_generators_cpu_is_shown_as_a_share_of_one_core_over_the_window():
    summary = report.summarize(CLOSED_20, [paid(0.0, 0.1)], window=(0.0, 20.0), generator_cpu_seconds=5.0)
    assert rows_by_figure(summary)["load generator's CPU (this process)"] == ("5.0 s, 25% of one core", "")


def test_the_figures_survive_the_json_file_the_benchmark_reads():
    summary = report.summarize(OPEN_10, [paid(0.0, 0.12)], window=(0.0, 1.0), unsent=1)
    again = report.Summary.from_json(summary.to_json())
    assert again == summary
    assert report.rows(again) == report.rows(summary)
