"""The admin site of every project, behind the gateway's single sign-on.

Each project mounts it at `/admin/<its name>/` (commerce_core.web.urls), the very
path the gateway forwards, so every URL the admin generates is right behind the
gateway, with no SCRIPT_NAME rewriting. Its assets are Django's own `/static/admin/`
files, which the gateway serves.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache

#: Every admin lives under this path, on the gateway (the contract's fixed points).
ADMIN_PATH = "/admin/"
#: The operators' entry on the gateway: every admin, listed.
OPERATORS_ENTRY_URL = "/admin/"
#: The gateway's sign-in and sign-out: one for every admin.
SIGN_IN_URL = "/admin/login/"
SIGN_OUT_URL = "/admin/logout/"


def admin_path(project_name: str) -> str:
    """Where a project's admin is mounted, in the project and on the gateway."""
    return f"{ADMIN_PATH}{project_name}/"


class OperatorsAdminSite(admin.AdminSite):
    """Django's AdminSite, whose login and logout are the gateway's.

    The user comes from the gateway's signed header (middleware.py), so this site
    never signs anyone in or out itself: its login page sends the visitor to the
    gateway's sign-in (and back here after it), its logout to the operators' entry,
    and every page's "Sign out" button posts to the gateway's sign-out, which ends
    the session every admin depends on (templates/admin/base_site.html).
    """

    site_url = OPERATORS_ENTRY_URL

    def each_context(self, request):
        name = getattr(settings, "SERVICE_NAME", "")
        return {
            **super().each_context(request),
            "site_header": f"{name.capitalize()} administration",
            "site_title": f"{name} admin",
            "operators_entry_url": OPERATORS_ENTRY_URL,
            "sign_out_url": SIGN_OUT_URL,
        }

    @method_decorator(never_cache)
    def login(self, request, extra_context=None):
        index = reverse("admin:index", current_app=self.name)
        if self.has_permission(request):
            return HttpResponseRedirect(index)
        after = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not after.startswith(index):
            after = index
        return HttpResponseRedirect(f"{SIGN_IN_URL}?{urlencode({REDIRECT_FIELD_NAME: after})}")

    def logout(self, request, extra_context=None):
        return HttpResponseRedirect(OPERATORS_ENTRY_URL)
