"""Which events a client may listen to, and who may see each one.

The audience of an event type is declared once, on its contract
(`commerce_core.events.contracts`): `Audience.PUBLIC` events reach every listener,
`Audience.USER` events only the sockets authenticated as the event's recipient,
and internal events (the default) are never pushed.
"""

from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.envelope import Envelope


def pushable_events() -> dict[str, Audience]:
    """Every event name a client may subscribe to, with its audience."""
    return {
        name: contract.audience
        for name, contract in registered_contracts().items()
        if contract.audience is not Audience.INTERNAL
    }


def public_events() -> list[str]:
    return sorted(name for name, audience in pushable_events().items() if audience is Audience.PUBLIC)


def is_private(event_type: str) -> bool:
    return pushable_events().get(event_type) is Audience.USER


def recipient_of(envelope: Envelope) -> int | None:
    """The user a private event is for (None for a public one)."""
    if type(envelope.event).audience is Audience.USER:
        return envelope.event.recipient_id()
    return None
