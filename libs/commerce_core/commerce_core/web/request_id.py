"""Request ids: one id follows a request through the gateway, the services, their
logs and the events they publish (as the CloudEvents `correlationid` extension).

Two ways in, one rule (`well_formed_or_new`): `RequestIdMiddleware`, Django
middleware, for every service's views; `RequestIdASGIMiddleware`, an ASGI wrapper,
for what the gateway's Django serves itself (its views, static files, 404s), so
that even a response no view makes carries the id. Proxied requests get theirs in
the gateway's proxy (gateway_project/proxy)."""

import logging
import re
import uuid
from contextvars import ContextVar

from asgiref.sync import iscoroutinefunction, markcoroutinefunction

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def well_formed_or_new(candidate: str | None) -> str:
    """The client's id when it is safe to log and forward, else a fresh one."""
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    """Takes the request id from the header (or makes one), exposes it to logs and
    to the events published while handling the request, and returns it.

    Both sync and async: a sync-only middleware would make Django's ASGI handler
    hop between threads around the rest of the chain on every request."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self._acall(request)
        token = self._enter(request)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        return self._leave(request, response)

    async def _acall(self, request):
        token = self._enter(request)
        try:
            response = await self.get_response(request)
        finally:
            current_request_id.reset(token)
        return self._leave(request, response)

    @staticmethod
    def _enter(request):
        request.request_id = well_formed_or_new(request.headers.get(REQUEST_ID_HEADER))
        return current_request_id.set(request.request_id)

    @staticmethod
    def _leave(request, response):
        response[REQUEST_ID_HEADER] = request.request_id
        return response


class RequestIdASGIMiddleware:
    """The same for a whole ASGI application: the id taken from the request's header
    (or made), put in the scope, in `current_request_id`, and on the response."""

    _HEADER = REQUEST_ID_HEADER.lower().encode("ascii")

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        candidate = None
        headers = []
        for name, value in scope["headers"]:
            if name == self._HEADER:
                candidate = value.decode("latin-1")
            else:
                headers.append((name, value))
        request_id = well_formed_or_new(candidate)
        encoded = request_id.encode("ascii")
        headers.append((self._HEADER, encoded))

        async def send_with_request_id(message):
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", ()) if n.lower() != self._HEADER]
                message = {**message, "headers": [*kept, (self._HEADER, encoded)]}
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app({**scope, "headers": headers}, receive, send_with_request_id)
        finally:
            current_request_id.reset(token)


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True
