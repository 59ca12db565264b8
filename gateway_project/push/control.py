"""Orders for every gateway web process, sent by the event worker over the Channels
layer (channels-redis).

`user_deactivated(user_id)`: the user's tokens are refused by push for as long as
an access token can live (`inactive:<id>` in Redis, the source of truth), and every
gateway process is told at once to close that user's sockets (4403): each process
keeps one channel in the `<prefix>control` group (hub.py). channels-redis drops a
message that finds a full inbox, and a process cut off from Redis at that moment
gets nothing; so each process also sweeps the inactive markers of its connected
users every few seconds, and a lost order costs at most that delay.
`user_reactivated` lifts the refusal.
"""

import asyncio
import re

from channels.layers import get_channel_layer

from .conf import PushSettings, push_settings
from .history import sync_client
from .streams import Keys

#: The Channels layer (settings.CHANNEL_LAYERS) of control orders, and the message
#: type every hub's control channel handles.
CONTROL_LAYER = "control"
USER_DEACTIVATED = "push.user_deactivated"


def control_group(config: PushSettings) -> str:
    """The Channels group of every gateway process (group names allow `[\\w.-]` only)."""
    return re.sub(r"[^\w.-]", ".", config.key_prefix) + "control"


def user_deactivated(user_id: int) -> None:
    config = push_settings()
    sync_client(config).set(Keys(config.key_prefix).inactive(user_id), "1", ex=config.deactivated_seconds)
    # The worker's handlers run on a thread without an event loop; a deactivation is
    # rare, so a loop (and a layer connection) of its own per order is cheap enough.
    order = {"type": USER_DEACTIVATED, "user_id": user_id}
    asyncio.run(get_channel_layer(CONTROL_LAYER).group_send(control_group(config), order))


def user_reactivated(user_id: int) -> None:
    config = push_settings()
    sync_client(config).delete(Keys(config.key_prefix).inactive(user_id))
