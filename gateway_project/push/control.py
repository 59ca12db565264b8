"""Orders for every gateway web process, written by the event worker.

`user_deactivated(user_id)`: the user's tokens are refused by push for as long as an
access token can live (`inactive:<id>`), and an entry in the `control` stream makes
every gateway process close that user's sockets (4403). `user_reactivated` lifts
the refusal.
"""

from .conf import push_settings
from .history import sync_client
from .streams import Keys

#: Control entries are read within seconds; a short stream is plenty.
CONTROL_STREAM_LENGTH = 1000


def user_deactivated(user_id: int) -> None:
    config = push_settings()
    keys = Keys(config.key_prefix)
    pipe = sync_client(config).pipeline(transaction=True)
    pipe.set(keys.inactive(user_id), "1", ex=config.deactivated_seconds)
    pipe.xadd(
        keys.control,
        {"kind": "user_deactivated", "user": str(user_id)},
        maxlen=CONTROL_STREAM_LENGTH,
        approximate=True,
    )
    pipe.execute()


def user_reactivated(user_id: int) -> None:
    config = push_settings()
    sync_client(config).delete(Keys(config.key_prefix).inactive(user_id))
