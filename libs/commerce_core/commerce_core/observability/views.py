from django.http import HttpResponse

from . import metrics


def metrics_view(request):
    """`GET /metrics` of a service, on its own port (the gateway does not route it)."""
    body, content_type = metrics.render()
    return HttpResponse(body, content_type=content_type)
