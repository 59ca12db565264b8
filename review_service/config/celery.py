"""The review service's event worker: `celery -A config.celery worker`."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from commerce_core.events.celery_app import create_app  # noqa: E402

app = create_app()
