"""The operators' entry (`/admin/`), sign-in (`/admin/login/`) and sign-out (`/admin/logout/`).

Async views: signing in asks the auth service over the proxy's pooled connections,
which belong to the server's event loop. Their pages reuse the Django admin's look
(`admin/base_site.html`, `admin/login.html`)."""

import functools

from django.conf import settings
from django.http import HttpResponseRedirect
from django.middleware.csrf import rotate_token
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from proxy.rate_limits import SIGN_IN_PATH, EdgeRateLimits

from commerce_core.operators.admin_site import (
    ADMIN_PATH,
    OPERATORS_ENTRY_URL,
    SIGN_IN_URL,
    SIGN_OUT_URL,
    admin_path,
)
from commerce_core.settings.topology import GATEWAY, SERVICES

from . import auth_client, sessions
from .forms import SignInForm

#: The same answer for a wrong password, an unknown user and someone who is not
#: staff: the form tells nobody which accounts exist or which are staff.
INVALID_SIGN_IN = "Please enter the username and password of a staff account (the password is case-sensitive)."

#: What an operator finds in each admin, besides its "Domain events" (outbox, inbox,
#: retries, dead letters and their replay).
HOLDS = {
    "auth": "users, staff and superusers, passwords",
    "catalog": "products and prices, categories, stock reservations",
    "cart": "carts, orders (cancel), product and customer replicas",
    "payment": "payments (refund)",
    "review": "reviews, verified purchases, replicas",
    "gateway": "the events recorded for push",
}


def _page(request, template: str, context: dict, *, status: int = 200):
    return render(
        request,
        template,
        {
            "site_header": "Commerce platform",
            "site_title": "Commerce platform admin",
            "operators_entry_url": OPERATORS_ENTRY_URL,
            "sign_in_url": SIGN_IN_URL,
            "sign_out_url": SIGN_OUT_URL,
            "operator": request.operator,
            **context,
        },
        status=status,
    )


@never_cache
@require_GET
async def entry(request):
    if request.operator is None:
        return HttpResponseRedirect(f"{SIGN_IN_URL}?next={OPERATORS_ENTRY_URL}")
    admins = [
        {"name": project.name, "path": admin_path(project.name), "holds": HOLDS.get(project.name, "")}
        for project in (*SERVICES, GATEWAY)
    ]
    return _page(request, "sign_on/entry.html", {"title": "Every admin", "admins": admins, "has_permission": True})


@sensitive_post_parameters("password")
@never_cache
@require_http_methods(["GET", "POST"])
async def sign_in(request):
    after = _after_sign_in(request)
    form = SignInForm(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_valid():
        status = await _sign_in(request, form)
        if status is None:
            return HttpResponseRedirect(after)
    return _page(
        request,
        "sign_on/sign_in.html",
        {"title": "Sign in", "form": form, "next": after, "app_path": SIGN_IN_URL},
        status=status,
    )


async def _sign_in(request, form) -> int | None:
    """None once signed in; else the status of the form shown again, with its error."""
    address = request.META.get("REMOTE_ADDR")
    limits = _sign_in_limits()
    if limits is not None:
        wait = await limits.retry_after("POST", SIGN_IN_PATH, limits.subject(None, address), client_address=address)
        if wait is not None:
            form.add_error(None, f"Too many sign-ins from this address; retry in {max(1, round(wait))} s.")
            return 429
    try:
        issued = await auth_client.obtain(
            form.cleaned_data["username"],
            form.cleaned_data["password"],
            client_address=address,
            request_id=request.headers.get("X-Request-ID"),
        )
    except auth_client.Refused:
        issued = None
    except auth_client.AuthUnavailable:
        form.add_error(None, "The auth service is unavailable; retry shortly.")
        return 503
    if issued is None or not issued.principal.is_staff:
        form.add_error(None, INVALID_SIGN_IN)
        return 200
    await sessions.start(request.session, issued)
    rotate_token(request)  # a new CSRF secret with the new session, as Django's login does
    return None


@require_POST
async def sign_out(request):
    await sessions.end(request.session)
    request.operator = None
    return _page(request, "sign_on/signed_out.html", {"title": "Signed out"})


def _after_sign_in(request) -> str:
    """Where to go after signing in: a page of an admin, never another site."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if (
        target.startswith(ADMIN_PATH)
        and url_has_allowed_host_and_scheme(target, allowed_hosts=None)
        and not target.startswith((SIGN_IN_URL, SIGN_OUT_URL))
    ):
        return target
    return OPERATORS_ENTRY_URL


@functools.cache
def _sign_in_limits() -> EdgeRateLimits | None:
    """The gateway's sign-in limit, the one `POST /api/auth/token/` counts against
    (the same counters in Redis): guessing passwords here is no cheaper."""
    return EdgeRateLimits.from_settings(settings.GATEWAY["RATE_LIMITS"], redis_url=settings.REDIS_URL)
