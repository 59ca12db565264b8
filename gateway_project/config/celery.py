"""The gateway's event worker: `celery -A config.celery worker`. It consumes every
event clients may see and hands each to the WebSocket fan-out (push/handlers.py)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from commerce_core.events.celery_app import create_app  # noqa: E402

app = create_app()
