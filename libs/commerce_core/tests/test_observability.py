"""Traces and metrics of the bus and of a service's web process, against a real
database (and, where events travel, a real broker and the real worker)."""

import json

import pytest
from django.db import transaction
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import REGISTRY

from commerce_core.events import delivery
from commerce_core.events.envelope import Envelope
from commerce_core.events.outbox import publish, sender
from commerce_core.observability import tracing
from commerce_core.observability.metrics import metrics_address
from commerce_core.observability.span_file import JsonLinesSpanExporter
from tests.busapp.contracts import ThingFailed, ThingHappened
from tests.busapp.handlers import behaviour
from tests.conftest import wait_for

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def spans():
    """Tracing on for the test, every finished span kept in memory."""
    exporter = InMemorySpanExporter()
    tracing.configure(service="bustest", role="worker", exporter=exporter)
    yield exporter
    tracing.disable()


def received(*envelopes: dict) -> list[delivery.Received]:
    return [delivery.Received.parse(body) for body in envelopes]


def published_envelope(event) -> dict:
    with transaction.atomic():
        message = publish(event)
    sender.flush()
    return message.envelope


def sample(name: str, **labels) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def by_name(exporter, name: str) -> list:
    return [span for span in exporter.get_finished_spans() if span.name == name]


# --- traces -----------------------------------------------------------------------------


def test_an_event_published_in_a_span_carries_its_publish_span_child_of_that_span(bus, spans):
    with tracing._tracer.start_as_current_span("a request") as request_span:
        envelope = published_envelope(ThingHappened(thing_id=1))

    [publish_span] = by_name(spans, "publish bustest.thing.happened")
    assert publish_span.kind is SpanKind.PRODUCER
    assert publish_span.parent.span_id == request_span.get_span_context().span_id
    assert publish_span.attributes["messaging.message.id"] == envelope["id"]
    assert envelope["traceparent"] == tracing.traceparent_of(publish_span)


def test_each_event_of_a_batch_is_handled_in_a_span_of_its_own_child_of_its_own_publisher(bus, spans):
    first = published_envelope(ThingHappened(thing_id=1))
    second = published_envelope(ThingHappened(thing_id=2))
    assert first["traceparent"].split("-")[1] != second["traceparent"].split("-")[1]  # two traces

    delivery.record_batch(received(first, second))

    publishers = {
        span.attributes["messaging.message.id"]: span for span in by_name(spans, "publish bustest.thing.happened")
    }
    runs = by_name(spans, "process bustest.thing.happened")
    # Two handlers subscribe to the type: one span per run, each under its own event's publisher.
    assert len(runs) == 4
    for run in runs:
        publisher = publishers[run.attributes["messaging.message.id"]]
        assert run.kind is SpanKind.CONSUMER
        assert run.context.trace_id == publisher.context.trace_id
        assert run.parent.span_id == publisher.context.span_id
    assert {run.attributes["event.handler"].rsplit(".", 1)[1] for run in runs} == {"record_thing", "flaky_handler"}


def test_an_event_published_while_handling_one_continues_that_event_s_trace(bus, spans):
    handled = Envelope.from_dict(published_envelope(ThingHappened(thing_id=1)))
    with tracing.handling("a handler", handled):
        follow_up = published_envelope(ThingHappened(thing_id=2))

    [run] = by_name(spans, "process bustest.thing.happened")
    assert follow_up["traceparent"].split("-")[1] == f"{run.context.trace_id:032x}"
    follow_up_span = [s for s in by_name(spans, "publish bustest.thing.happened") if s.parent is not None]
    assert [s.parent.span_id for s in follow_up_span] == [run.context.span_id]


def test_a_failing_handler_s_run_is_an_error_span(bus, spans):
    envelope = published_envelope(ThingFailed(thing_id=3))

    delivery.record_batch(received(envelope))

    runs = by_name(spans, "process bustest.thing.failed")
    failed = [run for run in runs if run.attributes["event.handler"].endswith("broken_handler")]
    assert failed and all(run.status.status_code is StatusCode.ERROR for run in failed)
    assert any(event.name == "exception" for event in failed[0].events)


def test_with_tracing_off_no_span_is_made_and_envelopes_carry_no_traceparent(bus):
    exporter = InMemorySpanExporter()  # attached to nothing: tracing stays off
    assert not tracing.enabled

    envelope = published_envelope(ThingHappened(thing_id=4))
    delivery.record_batch(received(envelope))

    assert "traceparent" not in envelope
    assert exporter.get_finished_spans() == ()
    assert tracing.current_traceparent() is None
    assert tracing.publishing("x") is tracing.UNTRACED  # the hooks hand out one shared no-op


@pytest.mark.parametrize(
    ("environ", "wanted"),
    [
        ({}, False),
        ({"OTEL_SERVICE_NAME": "cart"}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"TRACE_SPANS_FILE": "/tmp/spans.jsonl"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
    ],
)
def test_tracing_is_on_only_when_an_exporter_is_named_and_the_sdk_is_not_disabled(environ, wanted):
    assert tracing.wanted(environ) is wanted


def test_the_span_file_holds_one_json_line_per_span_with_its_trace_and_parent(tmp_path):
    path = tmp_path / "spans.jsonl"
    memory = InMemorySpanExporter()
    tracing.configure(service="bustest", role="web", exporter=memory)
    try:
        with tracing._tracer.start_as_current_span("outer"):
            with tracing._tracer.start_as_current_span("inner"):
                pass
    finally:
        tracing.disable()
    JsonLinesSpanExporter(path).export(memory.get_finished_spans())

    lines = [json.loads(line) for line in path.read_text().splitlines()]
    inner, outer = lines
    assert (inner["name"], outer["name"]) == ("inner", "outer")
    assert inner["trace_id"] == outer["trace_id"] and inner["parent_span_id"] == outer["span_id"]
    assert outer["parent_span_id"] is None and inner["service"] == "bustest"


# --- metrics ----------------------------------------------------------------------------


def test_a_handled_event_is_counted_with_its_latency_once_its_outcome_commits(bus):
    kind = "bustest.thing.happened"
    before = sample("commerce_event_deliveries_total", type=kind)
    latencies = sample("commerce_event_delivery_latency_seconds_count", type=kind)
    published = sample("commerce_events_published_total", type=kind)

    envelope = published_envelope(ThingHappened(thing_id=5))
    delivery.record_batch(received(envelope))

    assert sample("commerce_events_published_total", type=kind) == published + 1
    assert sample("commerce_event_deliveries_total", type=kind) == before + 2  # its two handlers
    assert sample("commerce_event_delivery_latency_seconds_count", type=kind) == latencies + 2


def test_a_rolled_back_publish_or_handler_run_is_not_counted(bus):
    kind = "bustest.thing.happened"
    published = sample("commerce_events_published_total", type=kind)
    with pytest.raises(RuntimeError), transaction.atomic():
        publish(ThingHappened(thing_id=6))
        raise RuntimeError("the change fails")
    assert sample("commerce_events_published_total", type=kind) == published

    behaviour["flaky_failures_left"] = 1  # the batch's fast pass rolls back, then runs carefully
    handled = sample("commerce_event_deliveries_total", type=kind)
    delivery.record_batch(received(published_envelope(ThingHappened(thing_id=7))))
    assert sample("commerce_event_deliveries_total", type=kind) == handled + 1  # record_thing only


def test_failed_runs_count_retries_and_parked_events_dead_letters(bus, worker):
    kind = "bustest.thing.failed"
    retries = sample("commerce_event_retries_total", type=kind)
    dead = sample("commerce_event_dead_letters_total", type=kind)

    published_envelope(ThingFailed(thing_id=8))  # the worker consumes it; MAX_RETRIES is 2 here

    wait_for(lambda: sample("commerce_event_dead_letters_total", type=kind) == dead + 1, timeout=20)
    # Three runs: the first two failures each scheduled a retry, the third parked it.
    assert sample("commerce_event_retries_total", type=kind) == retries + 2


def test_the_worker_exposes_its_bus_s_state_as_gauges(bus, worker):
    queue = worker.consumer.queue
    worker.housekeeping.tick()
    assert REGISTRY.get_sample_value("commerce_event_queue_depth", {"queue": queue}) is not None
    assert REGISTRY.get_sample_value("commerce_outbox_unsent_events") is not None
    assert REGISTRY.get_sample_value("commerce_worker_problems") == 0


def test_a_service_answers_metrics_with_its_requests_by_url_pattern_not_path(client):
    for _ in range(3):
        client.get("/api/bustest/items/987654/")
    client.get("/no/such/path/")

    body = client.get("/metrics").content.decode()

    assert 'commerce_http_requests_total{method="GET",route="api/bustest/items/<id:pk>/",status="404"}' in body
    assert "987654" not in body
    assert 'route="<unmatched>"' in body
    assert (
        'commerce_http_request_duration_seconds_bucket{le="0.005",method="GET",route="api/bustest/items/<id:pk>/"}'
        in body
    )


@pytest.fixture
def traced_requests(spans):
    """Django's request cycle instrumented, as a traced web process runs it."""
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    tracing.instrument_libraries(django=True)
    yield spans
    DjangoInstrumentor().uninstrument()
    RedisInstrumentor().uninstrument()


@pytest.mark.parametrize("path", ["/api/bustest/items/%F1%B2%B4%88/", "/api/%F0%9F%98%84/", "/api/caf%C3%A9/"])
def test_a_traced_request_for_a_path_beyond_latin1_gets_the_404_it_gets_untraced(traced_requests, client, path):
    response = client.get(path)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    (span,) = [span for span in traced_requests.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert span.attributes["http.status_code"] == 404


def test_a_worker_s_metrics_port_is_its_project_s_port_plus_50_and_the_gateway_s_plus_9():
    assert metrics_address("cart", "worker", environ={}) == ("127.0.0.1", 8053)
    assert metrics_address("gateway", "web", environ={}) == ("127.0.0.1", 8009)
    assert metrics_address("gateway", "worker", environ={"METRICS_PORT": "9100", "METRICS_HOST": "0.0.0.0"}) == (
        "0.0.0.0",
        9100,
    )
