"""Middleware the admin needs and the JSON API does not, for pages only.

The Django admin lives in every project's process and needs all three; the JSON
API (`/api/...`) needs none of them: its callers are whoever the gateway's signed
header says (`commerce_core.identity.authentication`), never a session, and it
sends no flash messages. Run for an API request, the three cost about 30 µs of
CPU on the development machine (a session store, a lazy user, a message storage
built from its dotted path), for nothing.

`PagesOnlyMixin` passes an API request straight on; the classes built on it
behave exactly like Django's own everywhere else (the admin's session and user
come from `commerce_core.operators.middleware`, built on it too). Being
subclasses, they satisfy the admin's system checks (admin.E408-E410). CSRF stays
as it is: DRF's views are exempt already and the admin protects its forms itself.
"""

from django.contrib.messages import middleware as messages_middleware

#: Paths of the JSON API, served by DRF views.
API_PATH_PREFIX = "/api/"


def is_api_request(request) -> bool:
    return request.path_info.startswith(API_PATH_PREFIX)


class PagesOnlyMixin:
    """Skips the middleware for API requests (sync or async, as Django calls it)."""

    def __call__(self, request):
        if is_api_request(request):
            return self.get_response(request)
        return super().__call__(request)


class MessageMiddleware(PagesOnlyMixin, messages_middleware.MessageMiddleware):
    pass
