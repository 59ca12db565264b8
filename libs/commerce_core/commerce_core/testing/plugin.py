"""pytest plugin shared by every project's tests (`-p commerce_core.testing.plugin`).

Fixtures:
- `api_client`: a DRF APIClient.
- `as_principal(client, principal)` / `principal_factory`: make the client's requests
  carry a gateway-signed identity, as if they came through the gateway.
- `api_client_factory` / `customer`: a new signed-in customer's client (its
  `.principal` says who it is).
- `deliver`: run this process's handlers on an event exactly as the worker would
  (inbox, retries accounting, dead letters), without a broker.
- `catalog_product`: announce a product the way the catalog does (through
  `deliver`); returns its id.
- `openapi_document`: the project's OpenAPI document, as `GET /api/<prefix>/schema/`
  serves it.
- `unbounded_inputs`: every input of the project without a bound, one line each: the
  inputs of its OpenAPI document (`openapi_audit`) and the URLs taking `<int:...>`
  (system check commerce_core.E001). Every project's tests assert it is empty.

Tests run with production settings, not development ones: before Django is set up,
the plugin gives the process secrets, an admin password and allowed hosts of its
own (generated, unless the environment has them), so that no test depends on a
development default and the process passes the production checks
(commerce_core.settings.production). Child processes a test starts inherit them.
"""

import itertools
import os
import secrets

import pytest

from commerce_core.identity.principal import Principal

for _variable in ("DJANGO_SECRET_KEY", "JWT_SECRET", "GATEWAY_IDENTITY_SECRET", "ADMIN_PASSWORD"):
    os.environ.setdefault(_variable, secrets.token_urlsafe(32))
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")

_ids = itertools.count(10_000)


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def openapi_document():
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture(scope="session")
def unbounded_inputs(openapi_document):
    from django.core.checks import run_checks

    from commerce_core.testing.openapi_audit import unbounded_inputs as audit

    urls = [error.msg for error in run_checks(tags=["urls"]) if error.id == "commerce_core.E001"]
    return [*urls, *audit(openapi_document)]


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()


@pytest.fixture
def principal_factory():
    def make(*, id: int | None = None, username: str | None = None, is_staff: bool = False) -> Principal:
        user_id = id if id is not None else next(_ids)
        return Principal(id=user_id, username=username or f"user{user_id}", is_staff=is_staff)

    return make


@pytest.fixture
def as_principal(settings):
    from commerce_core.identity.gateway_identity import META_KEY, sign_identity

    def sign(client, principal: Principal):
        client.credentials(**{META_KEY: sign_identity(principal, secret=settings.GATEWAY_IDENTITY_SECRET)})
        return client

    return sign


@pytest.fixture
def api_client_factory(as_principal, principal_factory):
    """A new signed-in customer's API client at each call; `client.principal` is who it is."""
    from rest_framework.test import APIClient

    def make():
        client = APIClient()
        client.principal = principal_factory()
        return as_principal(client, client.principal)

    return make


@pytest.fixture
def customer(api_client_factory):
    return api_client_factory()


class RetryRequested(Exception):
    """A handler failed and a retry was scheduled (the worker would run it later)."""


@pytest.fixture
def deliver(django_capture_on_commit_callbacks):
    """deliver(event_or_envelope_dict, retries=0) -> {"status": "done" | "dead-lettered" | "malformed"}.

    Runs this process's handlers on the event exactly as the worker records a
    delivery (inbox, scheduled retries, dead letters), without a broker; raises
    `deliver.RetryRequested` when a handler failed and a retry was scheduled.
    `retries=N` runs it as the worker runs a retry after N failed runs.
    On-commit callbacks (the outbox's sends) are captured, not run.
    """
    from django.utils import timezone

    from commerce_core.events.contracts import EventContract
    from commerce_core.events.delivery import Received, record_batch, run_due_retries
    from commerce_core.events.envelope import Envelope
    from commerce_core.events.models import InboxMessage, ScheduledRetry
    from commerce_core.events.registry import handlers_for

    def run(event, *, retries: int = 0, source: str = "test"):
        body = Envelope.wrap(event, source=source).to_dict() if isinstance(event, EventContract) else event
        received = Received.parse(body)
        with django_capture_on_commit_callbacks(execute=False):
            if received.envelope is None:
                record_batch([received])
                return {"status": "malformed"}
            envelope = received.envelope
            if retries == 0:
                outcome = record_batch([received])
            else:
                handled = set(InboxMessage.objects.filter(event_id=envelope.id).values_list("handler", flat=True))
                for handler in handlers_for(envelope.type):
                    if handler.name not in handled:
                        ScheduledRetry.objects.update_or_create(
                            event_id=envelope.id,
                            handler=handler.name,
                            defaults={
                                "event_type": envelope.type,
                                "subject": envelope.subject or "",
                                "envelope": body,
                                "attempts": retries,
                                "next_attempt_at": timezone.now(),
                            },
                        )
                outcome = run_due_retries()
        if outcome.dead_lettered:
            return {"status": "dead-lettered"}
        if outcome.retries_scheduled:
            raise RetryRequested(envelope.id)
        return {"status": "done"}

    run.RetryRequested = RetryRequested
    return run


_product_ids = itertools.count(500)


@pytest.fixture
def catalog_product(deliver):
    """Announce a product the way the catalog does; returns its id."""
    from decimal import Decimal

    from commerce_core.events.contracts.catalog import ProductCreated

    def announce(*, price: str = "10.00", stock: int = 10, name: str = "Mug") -> int:
        product_id = next(_product_ids)
        deliver(ProductCreated(product_id=product_id, name=name, price=Decimal(price), stock=stock))
        return product_id

    return announce
