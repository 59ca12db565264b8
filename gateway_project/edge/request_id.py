"""Request ids for what the gateway answers itself (its views, static files, 404s).

Proxied requests get theirs in proxy/app.py; this does the same for everything
Django serves, at the ASGI level so that static files and error pages carry the
id too. It also puts the id in `current_request_id` for the log lines.
"""

from commerce_core.web.request_id import REQUEST_ID_HEADER, current_request_id, well_formed_or_new

_HEADER = REQUEST_ID_HEADER.lower().encode("ascii")


class RequestIdMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        candidate = None
        headers = []
        for name, value in scope["headers"]:
            if name == _HEADER:
                candidate = value.decode("latin-1")
            else:
                headers.append((name, value))
        request_id = well_formed_or_new(candidate)
        encoded = request_id.encode("ascii")
        headers.append((_HEADER, encoded))

        async def send_with_request_id(message):
            if message["type"] == "http.response.start":
                kept = [(n, v) for n, v in message.get("headers", ()) if n.lower() != _HEADER]
                message = {**message, "headers": [*kept, (_HEADER, encoded)]}
            await send(message)

        token = current_request_id.set(request_id)
        try:
            await self.app({**scope, "headers": headers}, receive, send_with_request_id)
        finally:
            current_request_id.reset(token)
