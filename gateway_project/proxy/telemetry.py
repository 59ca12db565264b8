"""What operators see of the gateway's HTTP side: every request counted and timed,
and, with tracing on, a span per request whose context is forwarded upstream.

`observed(app, routes)` wraps the gateway's HTTP application (config/asgi.py):

- `MeasuredHTTP`, always: `commerce_http_requests_total` and
  `commerce_http_request_duration_seconds` with the service's prefix as the route
  (`/api/cart/`), or `gateway` for what the gateway answers itself (health, schema,
  docs, admin, the live page, 404s). Its cost is one wrapped `send` and two cached
  counters per request.
- `OpenTelemetryMiddleware` (opentelemetry-instrumentation-asgi) and
  `ForwardedTraceparent`, only when tracing is on (commerce_core.observability.tracing):
  a server span per request, child of the client's `traceparent` when it sent one,
  named by route (`POST /api/cart/*`); the service then gets the gateway span's
  `traceparent` instead of the client's. Off, neither is installed, and a client's
  `traceparent` is forwarded as any other header.

The metrics themselves are served on an internal port (`serve_metrics`), never on
the public one.
"""

from __future__ import annotations

import time

from commerce_core.observability import metrics, tracing

from .routes import RouteTable

#: The route label of a request the gateway answers itself.
GATEWAY_ROUTE = "gateway"
#: Headers the forwarded request carries from the gateway's span, never from the client.
TRACE_HEADERS = frozenset({b"traceparent", b"tracestate", b"baggage"})


class MeasuredHTTP:
    def __init__(self, app, routes: RouteTable):
        self.app = app
        self._match = routes.match

    async def __call__(self, scope, receive, send) -> None:
        started = time.perf_counter()
        status = 0

        async def send_noting_status(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_noting_status)
        finally:
            route = self._match(scope["path"])
            metrics.observe_request(
                GATEWAY_ROUTE if route is None else route.prefix,
                scope["method"],
                status,  # 0: the client went away before any answer
                time.perf_counter() - started,
            )


class ForwardedTraceparent:
    """Inside the request's span: the trace headers the proxy forwards are the span's own."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        from opentelemetry.propagate import inject

        carrier: dict[str, str] = {}
        inject(carrier)
        headers = [header for header in scope["headers"] if header[0] not in TRACE_HEADERS]
        headers += [(name.encode("latin-1"), value.encode("latin-1")) for name, value in carrier.items()]
        await self.app({**scope, "headers": headers}, receive, send)


def span_details(routes: RouteTable):
    """Names a request's span after its route, never its path (ids would make every name new)."""

    def details(scope) -> tuple[str, dict]:
        route = routes.match(scope.get("path", ""))
        target = f"{route.prefix}*" if route is not None else GATEWAY_ROUTE
        return f"{scope.get('method', 'HTTP')} {target}", {"http.route": target}

    return details


def observed(app, routes: RouteTable):
    """The gateway's HTTP application, measured, and traced when tracing is on."""
    if tracing.enabled:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        app = OpenTelemetryMiddleware(
            ForwardedTraceparent(app),
            default_span_details=span_details(routes),
            exclude_spans=["receive", "send"],
            excluded_urls="/health$",
            tracer_provider=tracing.provider_in_use,
        )
    return MeasuredHTTP(app, routes)


def serve_metrics():
    """The gateway web process's metrics server (port: observability/metrics.py)."""
    return metrics.serve("gateway", "web")
