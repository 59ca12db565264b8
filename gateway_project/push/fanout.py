"""Who receives which pushed event: the one place that maps events and listeners to
channel-layer groups. Any push front end (the WebSocket consumer now, a Socket.IO
one later) keeps a `Listener` per client connection; the event worker calls
`dispatch` once per event.

Groups:
- `push.public.<event>`: every listener subscribed to a public event;
- `push.user.<user id>.<event>`: the listeners authenticated as that user and
  subscribed to that private event.

So a public event costs one group send whoever listens, and a private event
reaches only its recipient's sockets, by construction rather than by filtering.
Internal events are never pushed.
"""

from channels.layers import get_channel_layer

from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.envelope import Envelope

#: The channel-layer message type a front end's consumer must handle (`push_event`).
PUSH_MESSAGE_TYPE = "push.event"


def pushable_events() -> dict[str, Audience]:
    """Every event name a client may subscribe to, with its audience."""
    return {
        name: contract.audience
        for name, contract in registered_contracts().items()
        if contract.audience is not Audience.INTERNAL
    }


def public_group(event_type: str) -> str:
    return f"push.public.{event_type}"


def user_group(user_id: int, event_type: str) -> str:
    return f"push.user.{user_id}.{event_type}"


def group_for(envelope: Envelope) -> str | None:
    """The group an event goes to, or None when no client may see it."""
    event = envelope.event
    audience = type(event).audience
    if audience is Audience.PUBLIC:
        return public_group(envelope.type)
    if audience is Audience.USER:
        recipient = event.recipient_id()
        return user_group(recipient, envelope.type) if recipient is not None else None
    return None


async def dispatch(envelope: Envelope, *, layer=None) -> str | None:
    """Send an event to every listener entitled to it; returns the group it went to."""
    group = group_for(envelope)
    if group is None:
        return None
    layer = layer or get_channel_layer()
    await layer.group_send(
        group, {"type": PUSH_MESSAGE_TYPE, "event": envelope.type, "id": envelope.id, "data": envelope.data}
    )
    return group


def event_frame(message: dict) -> dict:
    """What the client receives for a `push.event` message."""
    return {"type": "event", "event": message["event"], "id": message["id"], "data": message["data"]}


class Listener:
    """One client connection: who it is, what it subscribed to, and the groups that
    adds up to. Every change moves the connection's channel between groups."""

    def __init__(self, layer, channel_name: str):
        self._layer = layer
        self._channel = channel_name
        self.user_id: int | None = None
        self.subscriptions: set[str] = set()
        self._groups: set[str] = set()

    def _wanted_groups(self) -> set[str]:
        audiences = pushable_events()
        groups = set()
        for event_type in self.subscriptions:
            if audiences[event_type] is Audience.PUBLIC:
                groups.add(public_group(event_type))
            elif self.user_id is not None:
                groups.add(user_group(self.user_id, event_type))
        return groups

    async def _regroup(self) -> None:
        wanted = self._wanted_groups()
        for group in self._groups - wanted:
            await self._layer.group_discard(group, self._channel)
        for group in wanted - self._groups:
            await self._layer.group_add(group, self._channel)
        self._groups = wanted

    async def authenticate(self, user_id: int) -> None:
        """From now on, private events of `user_id` (and no one else's) reach this listener."""
        self.user_id = user_id
        await self._regroup()

    async def subscribe(self, event_types: list[str]) -> list[str]:
        """Add subscriptions; returns the names refused (unknown or internal events).

        A private event may be subscribed to before authenticating: it is delivered
        once the listener is authenticated.
        """
        pushable = pushable_events()
        refused = [name for name in event_types if name not in pushable]
        self.subscriptions.update(name for name in event_types if name in pushable)
        await self._regroup()
        return refused

    async def unsubscribe(self, event_types: list[str]) -> list[str]:
        """Drop subscriptions; returns the names refused (unknown or internal events)."""
        pushable = pushable_events()
        self.subscriptions.difference_update(event_types)
        await self._regroup()
        return [name for name in event_types if name not in pushable]

    async def leave(self) -> None:
        """The connection is gone: leave every group."""
        self.subscriptions.clear()
        self.user_id = None
        await self._regroup()
