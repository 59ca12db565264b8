"""Every request a service's web process answers, counted and timed by its URL
pattern (`api/cart/orders/<id:pk>/`, never the path itself), method and status."""

import time

from . import metrics

#: The route label of a request no URL pattern matched (a 404 before any view).
UNMATCHED = "<unmatched>"


class HttpMetricsMiddleware:
    """First in MIDDLEWARE: what it measures includes every other middleware, and a
    request shed by load shedding counts with its 503."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        response = self.get_response(request)
        match = request.resolver_match
        metrics.observe_request(
            match.route if match is not None else UNMATCHED,
            request.method,
            response.status_code,
            time.perf_counter() - started,
        )
        return response
