"""Event types that exist only in these tests, so they never mix with the platform's."""

from commerce_core.events.contracts import EventContract, event_contract


@event_contract("bustest.thing.happened")
class ThingHappened(EventContract):
    thing_id: int


@event_contract("bustest.thing.failed")
class ThingFailed(EventContract):
    thing_id: int


@event_contract("bustest.thing.pushed")
class ThingPushed(EventContract):
    """Handled outside the database (atomic=False), as push is."""

    thing_id: int


@event_contract("bustest.thing.tallied")
class ThingTallied(EventContract):
    """Handled by a handler whose services nest `atomic` blocks."""

    thing_id: int
