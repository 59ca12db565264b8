"""Request ids: one id follows a request through the gateway, the services, their
logs and the events they publish (as the CloudEvents `correlationid` extension)."""
import logging
import re
import uuid
from contextvars import ContextVar

REQUEST_ID_HEADER = "X-Request-ID"
_WELL_FORMED = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")

current_request_id: ContextVar[str | None] = ContextVar("current_request_id", default=None)


def well_formed_or_new(candidate: str | None) -> str:
    """The client's id when it is safe to log and forward, else a fresh one."""
    if candidate and _WELL_FORMED.match(candidate):
        return candidate
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request_id = well_formed_or_new(request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = current_request_id.set(request_id)
        try:
            response = self.get_response(request)
        finally:
            current_request_id.reset(token)
        response[REQUEST_ID_HEADER] = request_id
        return response


class RequestIdLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = current_request_id.get() or "-"
        return True
