"""Traces: one trace per request, across HTTP, events and push (OpenTelemetry).

Off by default. A process traces when, as it starts, an exporter is named:

- `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`): spans go
  to that collector over OTLP/HTTP (protobuf); the other standard `OTEL_EXPORTER_OTLP_*`
  and `OTEL_BSP_*` variables apply as the SDK reads them;
- `TRACE_SPANS_FILE`: spans are appended as JSON lines to that file (span_file.py),
  for the end-to-end tests, which read every process's spans from one file.

`OTEL_SDK_DISABLED=true` keeps tracing off whatever else is set, and
`OTEL_SERVICE_NAME` replaces the service name (by default the project's name,
`cart`, or `cart-worker` for its event worker).

Off, nothing is installed: no tracer provider, no instrumentation, and each hook of
the bus, the gateway and push costs one test of `enabled` (module attribute below).

On, the context travels as a W3C `traceparent`:

    client ─► gateway span (proxy/telemetry.py) ─ traceparent header ─► Django span
      ─► `publish` span, its traceparent in the event's envelope ─► a `process` span per
      handler run in every subscriber, child of the publisher ─► ... ─► the gateway
      worker's run records it for push with its traceparent ─► a `push` span in each
      gateway web process, whose traceparent the pushed frame carries.

A Redis call with no span around it (a worker's heartbeat, a consumer's blocking
read) would start a trace of its own every second: root spans of kind CLIENT are
not sampled (`_no_orphan_client_spans`); everything else is.
"""

from __future__ import annotations

import logging
import os
import sys
from contextlib import AbstractContextManager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Span, Tracer

logger = logging.getLogger(__name__)

#: Whether this process traces; read by every hook before it does anything.
enabled = False
_tracer: Tracer | None = None
#: The tracer provider of this process when tracing is on (instrumentations are given it).
provider_in_use = None

SPANS_FILE_VARIABLE = "TRACE_SPANS_FILE"
_OTLP_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
INSTRUMENTATION_NAME = "commerce_core"


def wanted(environ=os.environ) -> bool:
    """Whether the environment asks for tracing (an exporter named, the SDK not disabled)."""
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return False
    return any(environ.get(name) for name in (*_OTLP_VARIABLES, SPANS_FILE_VARIABLE))


def process_role(argv: list[str] = sys.argv) -> str:
    """`worker` in a project's event worker (Celery), `web` in anything else."""
    return "worker" if argv and "celery" in argv[0] else "web"


def configure(*, service: str, role: str | None = None, environ=os.environ, exporter=None) -> bool:
    """Install the tracer provider of this process if tracing is wanted (see the module
    docstring), or with `exporter` (tests: an `InMemorySpanExporter`, exported as each
    span ends). Returns whether tracing is on."""
    global enabled, _tracer, provider_in_use
    if exporter is None and not wanted(environ):
        return False
    from opentelemetry import trace
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
    from opentelemetry.sdk.trace.sampling import ParentBased

    role = role or process_role()
    attributes = {"commerce.process": role}
    if not environ.get("OTEL_SERVICE_NAME"):
        attributes["service.name"] = service if role == "web" else f"{service}-{role}"
    provider = TracerProvider(resource=Resource.create(attributes), sampler=ParentBased(root=_no_orphan_client_spans()))
    if exporter is not None:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    else:
        for each in _exporters_from(environ):
            provider.add_span_processor(BatchSpanProcessor(each))
        # Once per process: the instrumentations (Django, Redis, ASGI) use the global one.
        trace.set_tracer_provider(provider)
    provider_in_use = provider
    _tracer = provider.get_tracer(INSTRUMENTATION_NAME)
    enabled = True
    return True


def disable() -> None:
    """Tracing off again for this process's hooks (tests)."""
    global enabled, _tracer, provider_in_use
    enabled, _tracer, provider_in_use = False, None, None


def _exporters_from(environ) -> list:
    exporters = []
    if any(environ.get(name) for name in _OTLP_VARIABLES):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        protocol = environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL") or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        if protocol and protocol != "http/protobuf":
            logger.warning("OTEL_EXPORTER_OTLP_PROTOCOL=%s: spans are exported over http/protobuf only", protocol)
        exporters.append(OTLPSpanExporter())
    if environ.get(SPANS_FILE_VARIABLE):
        from .span_file import JsonLinesSpanExporter

        exporters.append(JsonLinesSpanExporter(environ[SPANS_FILE_VARIABLE]))
    return exporters


def instrument_libraries(*, django: bool) -> None:
    """The library instrumentations this process uses: redis-py (sync and asyncio)
    everywhere, Django's request cycle where Django serves requests itself."""
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    RedisInstrumentor().instrument(tracer_provider=provider_in_use)
    if django:
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        # Probes and scrapes would make a trace each, every few seconds.
        DjangoInstrumentor().instrument(tracer_provider=provider_in_use, excluded_urls="health/,metrics")
        _keep_non_latin1_paths_traceable()


def _keep_non_latin1_paths_traceable() -> None:
    """Django puts the decoded path in `request.META["PATH_INFO"]`, where the Django
    middleware of opentelemetry reads a WSGI environ's: PEP 3333's latin-1 text of
    the path's bytes. A path with a character beyond latin-1 (`/%F0%9F%98%84/`) made
    its attributes raise, and the request a 500 instead of the 404 it gets untraced
    (open-telemetry/opentelemetry-python-contrib#3237, open). Until it is fixed there,
    the attributes are read from a copy with the path as PEP 3333 writes it."""
    from opentelemetry.instrumentation.django.middleware import otel_middleware

    collect = otel_middleware.wsgi_collect_request_attributes
    if getattr(collect, "keeps_non_latin1_paths", False):
        return

    def collect_request_attributes(environ, *args, **kwargs):
        path = environ.get("PATH_INFO", "")
        if not path.isascii():
            environ = {**environ, "PATH_INFO": path.encode("utf-8", "surrogateescape").decode("latin-1")}
        return collect(environ, *args, **kwargs)

    collect_request_attributes.keeps_non_latin1_paths = True
    otel_middleware.wsgi_collect_request_attributes = collect_request_attributes


def _no_orphan_client_spans():
    """The sampler for spans without a parent: a client call (Redis, mostly) outside
    any request or event is noise; anything else starts a trace."""
    from opentelemetry.sdk.trace.sampling import Decision, Sampler, SamplingResult
    from opentelemetry.trace import SpanKind

    class NoOrphanClientSpans(Sampler):
        def should_sample(
            self, parent_context, trace_id, name, kind=None, attributes=None, links=None, trace_state=None
        ):
            if kind == SpanKind.CLIENT:
                return SamplingResult(Decision.DROP, None, trace_state)
            return SamplingResult(Decision.RECORD_AND_SAMPLE, attributes, trace_state)

        def get_description(self) -> str:
            return "NoOrphanClientSpans"

    return NoOrphanClientSpans()


# --- context as text ---------------------------------------------------------------------


def traceparent_of(span: Span) -> str | None:
    """The W3C traceparent naming `span` (None for an invalid one)."""
    context = span.get_span_context()
    if not context.is_valid:
        return None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{int(context.trace_flags):02x}"


def current_traceparent() -> str | None:
    """The traceparent of the span this code runs in (None when off or outside any)."""
    if not enabled:
        return None
    from opentelemetry import trace

    return traceparent_of(trace.get_current_span())


def context_from(traceparent: str | None):
    """An OpenTelemetry context whose parent is `traceparent` (None: a new trace)."""
    if not traceparent:
        return None
    from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

    return TraceContextTextMapPropagator().extract({"traceparent": traceparent})


# --- the bus's spans ------------------------------------------------------------------------


class _Untraced(AbstractContextManager):
    """What a hook gets while tracing is off: a context manager that does nothing."""

    traceparent = None

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        return None

    def identify(self, event_id: str) -> None:
        pass


UNTRACED = _Untraced()


class _Publication(AbstractContextManager):
    """The span of one `publish()`: its traceparent goes into the envelope."""

    def __init__(self, event_type: str):
        from opentelemetry import trace

        self._manager = _tracer.start_as_current_span(
            f"publish {event_type}",
            kind=trace.SpanKind.PRODUCER,
            attributes={"messaging.system": "commerce", "messaging.operation.type": "send", "event.type": event_type},
        )
        self.span: Span | None = None
        self.traceparent: str | None = None

    def __enter__(self):
        self.span = self._manager.__enter__()
        self.traceparent = traceparent_of(self.span)
        return self

    def __exit__(self, *exc_info):
        return self._manager.__exit__(*exc_info)

    def identify(self, event_id: str) -> None:
        self.span.set_attribute("messaging.message.id", event_id)


def publishing(event_type: str) -> AbstractContextManager:
    """`with publishing(type) as publication:` around storing one event:
    `publication.traceparent` is what its envelope carries (None when off)."""
    if not enabled:
        return UNTRACED
    return _Publication(event_type)


def handling(handler: str, envelope) -> AbstractContextManager:
    """A `process <type>` span around one run of one handler on one event, child of
    the context the event was published in; a failure is recorded on it."""
    if not enabled:
        return UNTRACED
    from opentelemetry import trace

    return _tracer.start_as_current_span(
        f"process {envelope.type}",
        context=context_from(envelope.traceparent),
        kind=trace.SpanKind.CONSUMER,
        attributes={
            "messaging.system": "commerce",
            "messaging.operation.type": "process",
            "messaging.message.id": envelope.id,
            "event.type": envelope.type,
            "event.subject": envelope.subject or "",
            "event.source": envelope.source,
            "event.handler": handler,
        },
    )


def start_span(name: str, *, parent: str | None, kind: str = "INTERNAL", attributes: dict | None = None) -> Span:
    """A span child of `parent` (a traceparent), not made current: for code that
    handles many traces in one loop (the push hub). Only call it when `enabled`."""
    from opentelemetry import trace

    return _tracer.start_span(
        name, context=context_from(parent), kind=getattr(trace.SpanKind, kind), attributes=attributes
    )
