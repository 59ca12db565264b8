from .base import EventContract, event_contract


@event_contract("auth.user.registered")
class UserRegistered(EventContract):
    user_id: int
    username: str
    email: str


@event_contract("auth.user.updated")
class UserUpdated(EventContract):
    user_id: int
    username: str
    email: str
    is_active: bool
