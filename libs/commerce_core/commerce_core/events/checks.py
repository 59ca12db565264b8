"""The routing table (routing.py) and this process's `@handles` declarations must
agree: a handler whose event type the table does not route to this service would
never run, and a subscription without a handler costs every event a delivery for
nothing. Django's system checks report both (`manage.py check`, which `migrate`
runs too), and the worker refuses to start on the first kind."""

from django.conf import settings
from django.core import checks

from .registry import subscribed_event_types
from .routing import subscriptions


class SubscriptionMismatch(RuntimeError):
    pass


def subscription_problems(service: str) -> tuple[list[str], list[str]]:
    """(handled but not routed here, routed here but not handled)."""
    routed = subscriptions().get(service, frozenset())
    handled = set(subscribed_event_types())
    return sorted(handled - routed), sorted(routed - handled)


def check_subscriptions(service: str, *, raise_on_error: bool = False) -> list[checks.CheckMessage]:
    unrouted, unhandled = subscription_problems(service)
    messages = []
    if unrouted:
        messages.append(
            checks.Error(
                f"{service} handles {', '.join(unrouted)} but the bus's routing table does not send it those events",
                hint="Add them to SERVICE_SUBSCRIPTIONS in commerce_core/events/routing.py.",
                id="events.E001",
            )
        )
        if raise_on_error:
            raise SubscriptionMismatch(messages[0].msg)
    if unhandled:
        messages.append(
            checks.Warning(
                f"the routing table sends {service} {', '.join(unhandled)}, which no handler of it handles",
                hint="Remove them from SERVICE_SUBSCRIPTIONS or add a handler.",
                id="events.W001",
            )
        )
    return messages


@checks.register()
def routing_matches_handlers(app_configs=None, **kwargs):
    service = getattr(settings, "SERVICE_NAME", None)
    return check_subscriptions(service) if service else []
