"""The gateway's ASGI application: HTTP and WebSocket.

Serve it with `uvicorn config.asgi:application --loop uvloop --http httptools --no-access-log`.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the imports below

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from edge.request_id import RequestIdMiddleware  # noqa: E402
from proxy.app import GatewayHTTP, Proxy, lifespan  # noqa: E402
from push.routing import websocket_urlpatterns  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Service prefixes go to the lean proxy; the rest (health, schema, docs, admin,
        # 404s and the /static/ files behind the docs, served even without DEBUG) to Django.
        "http": GatewayHTTP(
            proxy=Proxy.from_settings(),
            fallback=RequestIdMiddleware(ASGIStaticFilesHandler(django_application)),
        ),
        # Sockets authenticate with a token inside the protocol, never with cookies, so
        # a page from another origin gains nothing by opening one: no origin check needed.
        "websocket": URLRouter(websocket_urlpatterns),
        "lifespan": lifespan,
    }
)
