"""The gateway's ASGI application: HTTP, WebSocket and Socket.IO.

Serve it with `uvicorn config.asgi:application --loop uvloop --http httptools
--no-access-log --ws-per-message-deflate false` (devtools/commands.py): pushed frames
are written once for every socket, and compressing them per socket would cost each
socket a compressor's memory and CPU for every event.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()  # sets Django up before the imports below

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler  # noqa: E402
from proxy.app import GatewayHTTP, Proxy  # noqa: E402
from proxy.app import lifespan as proxy_lifespan  # noqa: E402
from proxy.telemetry import observed, serve_metrics  # noqa: E402
from push.hub import close_hub  # noqa: E402
from push.routing import websocket_urlpatterns  # noqa: E402
from push.socketio_server import SocketIOFrontEnd  # noqa: E402
from sign_on.gate import OperatorGate  # noqa: E402

from commerce_core.web.request_id import RequestIdASGIMiddleware  # noqa: E402


async def lifespan(scope, receive, send) -> None:
    """The proxy's lifespan; the metrics server started with the process, and the push
    hub closed (its Redis clients) at shutdown."""
    metrics_server = None

    async def receive_and_close_push_on_shutdown():
        nonlocal metrics_server
        message = await receive()
        if message["type"] == "lifespan.startup":
            metrics_server = serve_metrics()
        elif message["type"] == "lifespan.shutdown":
            await close_hub()
            if metrics_server is not None:
                metrics_server.shutdown()
        return message

    await proxy_lifespan(scope, receive_and_close_push_on_shutdown, send)


proxy = Proxy.from_settings()
channels_application = ProtocolTypeRouter(
    {
        # Service prefixes go to the lean proxy; the services' admins too, for a signed-on
        # operator (sign_on/gate.py); the rest (health, schema, docs, the operators' entry
        # and sign-in, the gateway's admin, the live page, 404s and the /static/ files
        # behind the docs, the admins and the live page, served even without DEBUG) to Django.
        # All of it measured, and traced when tracing is on (proxy/telemetry.py).
        "http": observed(
            GatewayHTTP(
                proxy=proxy,
                fallback=OperatorGate.from_settings(
                    proxy, RequestIdASGIMiddleware(ASGIStaticFilesHandler(django_application))
                ),
            ),
            proxy.routes,
        ),
        # Sockets authenticate with a token inside the protocol, never with cookies, so
        # a page from another origin gains nothing by opening one: no origin check needed.
        "websocket": URLRouter(websocket_urlpatterns),
        "lifespan": lifespan,
    }
)

#: `/socket.io/` goes to the Socket.IO server; every other path, and the lifespan,
#: to the Channels application above.
socketio_front_end = SocketIOFrontEnd()
application = socketio_front_end.asgi_app(other_asgi_app=channels_application)
