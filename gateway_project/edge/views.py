"""The gateway's own endpoints. /health and /api/schema/ are async views: they wait
on the services concurrently and never hold a thread."""

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET
from drf_spectacular.views import SpectacularSwaggerView

from .health import platform_health
from .schema import platform_schema


# They change nothing, so CSRF has nothing to protect: other methods get a plain 405, not a 403.
@csrf_exempt
@require_GET
async def health(request):
    healthy, components = await platform_health()
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "components": components}, status=200 if healthy else 503
    )


@csrf_exempt
@require_GET
async def schema(request):
    return JsonResponse(await platform_schema())


docs = SpectacularSwaggerView.as_view(url="/api/schema/")
