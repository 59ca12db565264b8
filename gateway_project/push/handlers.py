"""The gateway's event worker: every event a client may see is written once into
the push history (push/history.py), which every gateway web process reads; and a
deactivated user's sockets are closed on every gateway process.

Both handlers run outside any database transaction (`atomic=False`): their effects
are in Redis, and both are idempotent by event id (the history remembers recorded
ids; marking a user inactive twice changes nothing).
"""

from commerce_core.events.api import handles
from commerce_core.events.contracts import Audience, registered_contracts
from commerce_core.events.contracts.auth import UserUpdated

from . import control, history

PUSHED_CONTRACTS = [
    contract for contract in registered_contracts().values() if contract.audience is not Audience.INTERNAL
]


@handles(*PUSHED_CONTRACTS, atomic=False)
def record_for_push(event, envelope) -> None:
    history.record(envelope)


@handles(UserUpdated, atomic=False)
def close_sockets_of_deactivated_users(event: UserUpdated, envelope) -> None:
    if event.is_active:
        control.user_reactivated(event.user_id)
    else:
        control.user_deactivated(event.user_id)
