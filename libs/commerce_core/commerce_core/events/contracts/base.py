from enum import StrEnum
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Audience(StrEnum):
    """Who may see an event pushed to WebSocket clients."""

    INTERNAL = "internal"  # services only, never pushed
    PUBLIC = "public"  # every listener
    USER = "user"  # only the sockets authenticated as `recipient_id()`


class UnknownEventType(LookupError):
    pass


class EventContract(BaseModel):
    """Base of every event payload. Subclasses are declared with `@event_contract`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    version: ClassVar[int]
    audience: ClassVar[Audience]

    def recipient_id(self) -> int | None:
        """The user a private (`Audience.USER`) event is for."""
        return getattr(self, "user_id", None)

    def subject(self) -> str | None:
        """What the event is about, as CloudEvents' `subject` (e.g. `order/42`): the key
        operators search by to follow one thing across every service's events."""
        for key in ("order_id", "product_id", "user_id"):
            value = getattr(self, key, None)
            if value is not None:
                return f"{key.removesuffix('_id')}/{value}"
        return None


_REGISTRY: dict[str, type[EventContract]] = {}


def event_contract(event_type: str, *, version: int = 1, audience: Audience = Audience.INTERNAL):
    def register(cls: type[EventContract]) -> type[EventContract]:
        if event_type in _REGISTRY:
            raise ValueError(f"event type {event_type!r} declared twice")
        cls.event_type, cls.version, cls.audience = event_type, version, audience
        _REGISTRY[event_type] = cls
        return cls

    return register


def contract_for(event_type: str) -> type[EventContract]:
    try:
        return _REGISTRY[event_type]
    except KeyError:
        raise UnknownEventType(event_type) from None


def registered_contracts() -> dict[str, type[EventContract]]:
    return dict(_REGISTRY)
