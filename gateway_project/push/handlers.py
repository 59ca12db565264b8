"""The gateway's subscriptions: every event a client may see, handed to the fan-out.

Each event is pushed at most once (the inbox records it), and a failed push
(Redis away) is retried like any other handler.
"""
from asgiref.sync import async_to_sync

from commerce_core.events.api import handles
from commerce_core.events.contracts import Audience, registered_contracts

from .fanout import dispatch

PUSHED_CONTRACTS = [contract for contract in registered_contracts().values()
                    if contract.audience is not Audience.INTERNAL]


@handles(*PUSHED_CONTRACTS)
def push_to_listeners(event, envelope) -> None:
    async_to_sync(dispatch)(envelope)
