"""The payment service's event worker: `celery -A config.celery worker`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from commerce_core.events.transport import bus_app  # noqa: E402

app = bus_app()
