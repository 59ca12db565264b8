"""The bus as application code uses it."""

from .contracts import Audience, EventContract
from .envelope import Envelope
from .outbox import publish
from .periodic import every
from .registry import handles

__all__ = ["Audience", "Envelope", "EventContract", "every", "handles", "publish"]
