"""The auth service's event worker: `celery -A config.celery worker`.

Auth subscribes to no events, but its worker still relays the outbox (so a user
registered while Redis was down is announced later) and beats the heartbeat the
gateway's /health reads."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django.setup()

from commerce_core.events.celery_app import create_app  # noqa: E402

app = create_app()
