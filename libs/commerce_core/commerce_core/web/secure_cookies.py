"""Cookies sent over TLS are `Secure`.

Django's `*_COOKIE_SECURE` settings are fixed at start-up; behind the gateway the
same process answers requests that came over HTTPS (through a TLS terminator) and,
on a development machine, over plain HTTP. Every cookie set on a response to a
request that came over TLS is marked `Secure` here, so a browser never sends it
back over plain HTTP.

Whether a request came over TLS: at the gateway, the ASGI scheme (uvicorn takes
`X-Forwarded-Proto` only from the peers of `--forwarded-allow-ips`); at a service,
the `X-Forwarded-Proto` the gateway sets itself (SECURE_PROXY_SSL_HEADER; the
gateway drops any a client sends).
"""

from asgiref.sync import iscoroutinefunction
from django.utils.decorators import sync_and_async_middleware


@sync_and_async_middleware
def secure_cookies_over_tls(get_response):
    # Both kinds: the gateway's views run on the event loop, with no thread hop for this.
    if iscoroutinefunction(get_response):

        async def middleware(request):
            return _secured(request, await get_response(request))

    else:

        def middleware(request):
            return _secured(request, get_response(request))

    return middleware


def _secured(request, response):
    if request.is_secure():
        for cookie in response.cookies.values():
            cookie["secure"] = True
    return response
