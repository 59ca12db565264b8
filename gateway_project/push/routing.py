from django.urls import path, re_path

from .consumers import EventsConsumer, UnknownSocketPath

websocket_urlpatterns = [
    path("ws/events/", EventsConsumer.as_asgi()),
    re_path(r"", UnknownSocketPath.as_asgi()),
]
