"""Events the catalog app subscribes to. (Stock reservation for orders is the
inventory app's, in inventory/handlers.py.)

Each handler runs once per event id: the inbox sees to that."""

from commerce_core.events.api import Envelope, handles
from commerce_core.events.contracts.reviews import ReviewCreated

from . import services


@handles(ReviewCreated)
def count_the_new_review_into_the_rating(event: ReviewCreated, envelope: Envelope) -> None:
    services.product_rating_add(product_id=event.product_id, rating=event.rating)
