"""A saturated service answers 503 at once instead of doing work nobody waits for.

The gateway stamps every request it forwards with `X-Request-Start: t=<Unix
seconds>`, the moment it sent it (a client's own copy is dropped at the edge).
When a service is saturated, requests wait in its server's queue for a free
thread. One that has already waited longer than `REQUEST_QUEUE_BUDGET_SECONDS`
when a thread takes it up would probably finish after the gateway gave up on it
(`GATEWAY_UPSTREAM_TIMEOUT`, 504): work done for nobody, and a client that retries
a sign-up the service did complete is told the username is taken. So it is not
started: the client gets 503 `overloaded` with `Retry-After`, and the thread goes
on to a request that can still be answered in time.

Why a stamp from the gateway rather than a queue bound in the service: the wait
that matters is the one the gateway's timeout measures, wherever it happened (the
connection backlog, gunicorn's queue of ready connections, the thread pool), and
no server setting sees all of it. Gateway and services share a clock here; across
hosts the budget (seconds) dwarfs NTP's skew (milliseconds). A request without
the stamp (health checks, direct calls on the private network) is never shed.
"""

import logging
import math
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.conf import settings
from django.http import JsonResponse

from .errors import error_body

logger = logging.getLogger(__name__)

META_KEY = "HTTP_X_REQUEST_START"


def queued_for(stamp: str | None, now: float) -> float | None:
    """Seconds since the gateway sent the request (`t=<seconds>`), None without a usable stamp."""
    if not stamp or not stamp.startswith("t="):
        return None
    try:
        started = float(stamp[2:])
    except ValueError:
        return None
    if not math.isfinite(started):
        return None
    return now - started


class LoadSheddingMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        self.budget = settings.REQUEST_QUEUE_BUDGET_SECONDS
        self.retry_after = str(max(1, math.ceil(self.budget / 2)))
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        return self._shed(request) or self.get_response(request)

    async def _acall(self, request):
        return self._shed(request) or await self.get_response(request)

    def _shed(self, request) -> JsonResponse | None:
        waited = queued_for(request.META.get(META_KEY), time.time())
        if waited is None or waited <= self.budget:
            return None
        logger.warning("shed %s %s: it waited %.1f s for a thread", request.method, request.path, waited)
        response = JsonResponse(error_body("overloaded", "The service is busy; retry in a moment."), status=503)
        response["Retry-After"] = self.retry_after
        return response
