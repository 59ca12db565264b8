from .base import Audience, EventContract, event_contract


@event_contract("review.created", audience=Audience.PUBLIC)
class ReviewCreated(EventContract):
    review_id: int
    product_id: int
    user_id: int
    rating: int
    verified_purchase: bool
