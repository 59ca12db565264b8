"""The bus as application code uses it."""

from .contracts import Audience, EventContract
from .envelope import Envelope
from .handlers import handles
from .outbox import publish

__all__ = ["Audience", "Envelope", "EventContract", "handles", "publish"]
