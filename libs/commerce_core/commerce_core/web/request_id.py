"""Request ids: one id follows a request through the gateway, the services, their
logs and the events they publish (as the CloudEvents `correlationid` extension)."""

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


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True
