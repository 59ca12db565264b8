"""Who receives which event: the bus's one routing table, declared in code.

Every service has one durable queue, `<service>.events`, and receives a copy of
every event type it subscribes to. The table below is the whole routing of the
platform. Publishers read it to put each event into every subscriber's queue, so
routing never depends on state the broker keeps: a Redis that restarts empty
forgets the queues' contents but cannot forget who subscribes to what, and an event
committed after the restart still reaches every subscriber, whether its worker runs
yet or not. (Kombu's exchange bindings live in Redis sets that vanish with the
data; routing through them sent every later event nowhere, silently.)

Each service's worker checks at start that it handles exactly the event types the
table gives it (`checks.py`), so the table and the `@handles` declarations cannot
drift apart. The gateway subscribes to every event a client may see pushed; that
part is derived from the contracts' audiences.

Settings may replace the table (`COMMERCE_EVENTS["SUBSCRIPTIONS"]`), which the
library's own tests do for their test service.
"""

from django.conf import settings

from .contracts import Audience, registered_contracts

#: Event types each service's worker consumes (the gateway's are derived below).
SERVICE_SUBSCRIPTIONS: dict[str, frozenset[str]] = {
    "catalog": frozenset(
        {
            "review.created",  # rating aggregates
            "order.placed",  # reserve stock
            "payment.succeeded",  # commit the reservation
            "order.cancelled",  # release it
        }
    ),
    "cart": frozenset(
        {
            "auth.user.registered",  # customer replica
            "auth.user.updated",
            "catalog.product.created",  # product replica
            "catalog.product.price_changed",
            "catalog.product.stock_changed",
            "catalog.product.deleted",
            "stock.rejected",  # the checkout saga
            "payment.succeeded",
            "payment.failed",
        }
    ),
    "payment": frozenset(
        {
            "order.placed",
            "stock.reserved",
            "stock.rejected",
            "order.cancelled",
        }
    ),
    "review": frozenset(
        {
            "auth.user.registered",  # customer replica
            "auth.user.updated",
            "catalog.product.created",  # product replica
            "catalog.product.deleted",
            "order.paid",  # verified purchases
        }
    ),
}

#: The gateway pushes to clients every event they may see, and closes the sockets
#: of users who are deactivated.
GATEWAY_EXTRA_SUBSCRIPTIONS = frozenset({"auth.user.updated"})


def pushable_event_types() -> frozenset[str]:
    """Every event a client may subscribe to (its contract's audience is not internal)."""
    return frozenset(
        name for name, contract in registered_contracts().items() if contract.audience is not Audience.INTERNAL
    )


def default_subscriptions() -> dict[str, frozenset[str]]:
    return {"gateway": pushable_event_types() | GATEWAY_EXTRA_SUBSCRIPTIONS, **SERVICE_SUBSCRIPTIONS}


def subscriptions() -> dict[str, frozenset[str]]:
    """{service: the event types its worker consumes}, as configured."""
    configured = settings.COMMERCE_EVENTS.get("SUBSCRIPTIONS")
    if configured is not None:
        return {service: frozenset(types) for service, types in configured.items()}
    return default_subscriptions()


def events_queue(service: str) -> str:
    """The durable queue a service's worker consumes."""
    return f"{service}.events"


def subscribers_of(event_type: str, table: dict[str, frozenset[str]] | None = None) -> list[str]:
    """The services that receive `event_type`, in a stable order."""
    table = subscriptions() if table is None else table
    return sorted(service for service, types in table.items() if event_type in types)


def queues_for(event_type: str, table: dict[str, frozenset[str]] | None = None) -> list[str]:
    """Every queue an event of this type is put into."""
    return [events_queue(service) for service in subscribers_of(event_type, table)]


def all_queues(table: dict[str, frozenset[str]] | None = None) -> list[str]:
    table = subscriptions() if table is None else table
    return [events_queue(service) for service in sorted(table)]
