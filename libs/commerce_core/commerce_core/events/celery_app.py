"""The Celery app of a project's event worker; each project's `config/celery.py`
calls `create_app()` and nothing in the library imports this module.

Celery runs the worker process (signals, warm and cold shutdown, logging) and
hosts `EventWorkerStep`, which consumes the service's event queue and keeps the
bus's housekeeping (worker.py). Domain events are plain CloudEvents JSON messages,
not Celery tasks; the app's own task queue, `<service>.tasks`, is there for any
internal task a project may define.

    celery -A config.celery worker --pool solo --without-gossip --without-mingle
"""

from celery import Celery
from django.apps import apps
from django.conf import settings

from .worker import EventWorkerStep


def create_app() -> Celery:
    service = settings.SERVICE_NAME
    app = Celery(service)
    app.config_from_object("django.conf:settings", namespace="CELERY")
    app.conf.broker_url = settings.BROKER_URL
    app.conf.task_default_queue = f"{service}.tasks"
    app.steps["worker"].add(EventWorkerStep)
    app.autodiscover_tasks(lambda: [config.name for config in apps.get_app_configs()])
    return app
