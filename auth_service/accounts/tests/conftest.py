import pytest
from django.contrib.auth.models import User

PASSWORD = "correct-horse-battery-staple"


@pytest.fixture
def user(db):
    return User.objects.create_user(username="alice", email="alice@example.com", password=PASSWORD)


@pytest.fixture
def no_event_sending(django_capture_on_commit_callbacks):
    """Keeps published events in the outbox: the on-commit send to Redis never runs."""
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        yield callbacks
