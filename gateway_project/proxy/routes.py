"""Which service a path goes to: the prefixes of `commerce_core.settings.topology`.

Paths are forwarded unchanged (services serve their API under the same prefix).
A prefix without its trailing slash (`/api/cart`) goes to the same service, which
answers it as Django does any other URL of its own: a redirect to `/api/cart/`
where that exists (APPEND_SLASH), else its JSON 404. Anything else, including
`/api/cartx`, is not proxied and ends in the gateway's own JSON 404.
"""

from dataclasses import dataclass

from django.conf import settings

from commerce_core.settings.topology import SERVICES, Project

from .pool import Origin


@dataclass(frozen=True, slots=True)
class Route:
    service: str
    prefix: str
    origin: Origin
    timeout: float


def route_for(project: Project) -> Route:
    options = settings.GATEWAY
    timeout = options["UPSTREAM_TIMEOUTS"].get(project.name) or options["UPSTREAM_TIMEOUT"]
    return Route(service=project.name, prefix=project.api_prefix, origin=Origin.from_url(project.url), timeout=timeout)


class RouteTable:
    def __init__(self, routes: list[Route]):
        self.routes = tuple(routes)
        self._by_prefix = tuple((route.prefix, route) for route in routes)
        self._by_bare_prefix = {route.prefix.rstrip("/"): route for route in routes}

    @classmethod
    def from_topology(cls) -> "RouteTable":
        return cls([route_for(project) for project in SERVICES])

    def match(self, path: str) -> Route | None:
        for prefix, route in self._by_prefix:
            if path.startswith(prefix):
                return route
        return self._by_bare_prefix.get(path)
