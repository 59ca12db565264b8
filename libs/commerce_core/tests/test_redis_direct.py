"""The Redis connection the consumers and the push history use directly: a reply per
command, Redis's refusals in place of replies, and a connection that Redis closed
reopened without the caller noticing."""

import redis
from django.conf import settings

from commerce_core.events.redis_direct import DirectConnection


def connected() -> DirectConnection:
    return DirectConnection(settings.REDIS_URL, socket_timeout=5, connect_timeout=5)


def test_commands_sent_together_get_a_reply_each_with_a_refusal_in_its_own_place(redis_client):
    redis_client.delete("direct:key")
    direct = connected()
    try:
        replies = direct.call(
            ("SET", "direct:key", "1"), ("INCRBY", "direct:key", "not-a-number"), ("GET", "direct:key")
        )
    finally:
        direct.close()
        redis_client.delete("direct:key")

    assert replies[0] == b"OK"
    assert isinstance(replies[1], redis.ResponseError)
    assert replies[2] == b"1"


def test_a_connection_that_redis_closed_is_reopened_and_the_commands_sent_again(redis_client):
    direct = connected()
    try:
        (first,) = direct.call(("CLIENT", "ID"))
        redis_client.client_kill_filter(_id=first)  # as a Redis restart would leave it: closed under the caller

        (second,) = direct.call(("CLIENT", "ID"))
    finally:
        direct.close()

    assert second != first
