"""`GET /live/`: the page that shows the platform's events as they happen.

The page is static HTML; everything live is `static/live/live.js`, which talks to the
gateway only: the REST API (`/api/...`) and Socket.IO (`/socket.io/`, the pinned
socket.io-client that push serves). The names of the events it subscribes to come
from the event contracts (push's audiences), so a new pushable event shows up on
the page without touching it.
"""

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from push.audiences import pushable_events

from commerce_core.events.contracts import Audience

#: No inline script or style, no other origin: scripts, styles, the favicon, fetch and
#: the WebSocket all come from the gateway itself. `form-action 'none'`: the sign-in
#: form is only ever read by the script, so a form that was somehow submitted (the
#: script failed to load) cannot send the password anywhere, not even in a URL.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self'",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)


# It changes nothing, so CSRF has nothing to protect: other methods get a plain 405.
@csrf_exempt
@require_GET
async def page(request):
    audiences = pushable_events()
    context = {
        "public_events": " ".join(sorted(n for n, a in audiences.items() if a is Audience.PUBLIC)),
        "private_events": " ".join(sorted(n for n, a in audiences.items() if a is Audience.USER)),
    }
    response = HttpResponse(render_to_string("live/page.html", context))
    response["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    # The page holds nothing personal, but a stale copy could point at an old script.
    response["Cache-Control"] = "no-cache"
    return response
