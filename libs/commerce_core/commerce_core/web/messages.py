"""Where the admin's messages ("The product was changed successfully") are kept: a
signed cookie of the project's own, never a session (services keep none).

One cookie per project: every admin answers under the gateway's origin, and one
shared `messages` cookie would show the catalog's messages in the cart's admin
(or drop them there)."""

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage


class ProjectCookieStorage(CookieStorage):
    @property
    def cookie_name(self) -> str:
        return f"messages_{getattr(settings, 'SERVICE_NAME', 'project')}"
