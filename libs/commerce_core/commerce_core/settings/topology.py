"""Which projects make up the platform, where each listens and what the gateway
routes to it. One table, read by the gateway and by the launcher."""

from dataclasses import dataclass

from .env import env


@dataclass(frozen=True)
class Project:
    name: str  # also SERVICE_NAME and the prefix of its queues
    directory: str  # the Django project's folder at the repository root
    default_port: int
    api_prefix: str  # the gateway routes this path prefix to the project ("" for the gateway)
    #: How its web process is served: the gateway is ASGI (HTTP proxy and WebSockets);
    #: the services are synchronous DRF apps, served by threads over WSGI, which spares
    #: every request the thread hops of Django's ASGI handler.
    interface: str = "wsgi"
    #: Its requests are mostly CPU (auth: password hashing): its web server runs one
    #: process per core instead of one (devtools/commands.py).
    cpu_bound: bool = False
    #: Its requests are short reads but for the staff's rare writes (the catalog): its
    #: web process runs one request thread, not two (devtools/commands.py).
    read_mostly: bool = False

    @property
    def port(self) -> int:
        return env.int(f"{self.name.upper()}_PORT", default=self.default_port)

    @property
    def url(self) -> str:
        """Where the gateway (or a test) reaches it."""
        return env.str(f"{self.name.upper()}_SERVICE_URL", default=f"http://127.0.0.1:{self.port}")


GATEWAY = Project("gateway", "gateway_project", 8000, "", interface="asgi")
SERVICES = (
    Project("auth", "auth_service", 8001, "/api/auth/", cpu_bound=True),
    Project("catalog", "catalog_service", 8002, "/api/catalog/", read_mostly=True),
    Project("cart", "cart_service", 8003, "/api/cart/"),
    Project("payment", "payment_service", 8004, "/api/payments/"),
    Project("review", "review_service", 8005, "/api/reviews/"),
)
PROJECTS = (GATEWAY, *SERVICES)
