"""The Redis connection the consumers, the sends and the push history use directly: a
reply per command, Redis's refusals in place of replies, a connection that Redis
closed reopened without the caller noticing, and a forked child on its own socket."""

import os
import signal

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


def test_a_forked_child_talks_on_a_socket_of_its_own_and_leaves_its_parents_alone():
    direct = connected()
    try:
        (parents,) = direct.call(("CLIENT", "ID"))
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:  # the child: its own connection, reported through the pipe
            try:
                (childs,) = direct.call(("CLIENT", "ID"))
                os.write(write_end, str(childs).encode())
            finally:
                os._exit(0)
        os.close(write_end)
        os.waitpid(child, 0)
        childs = int(os.read(read_end, 64) or b"0")
        os.close(read_end)

        (again,) = direct.call(("CLIENT", "ID"))
    finally:
        direct.close()

    assert childs not in (0, parents)
    assert again == parents  # the parent's socket was not written to by the child


def test_a_child_forked_during_another_threads_call_is_not_stuck_on_that_calls_lock():
    direct = connected()
    try:
        direct.call(("PING",))
        direct._lock.acquire()  # as a call running in another thread at the fork holds it
        read_end, write_end = os.pipe()
        child = os.fork()
        if child == 0:
            try:
                signal.alarm(5)  # stuck on the copied lock, the child dies instead of hanging the test
                (pong,) = direct.call(("PING",))
                os.write(write_end, pong)
            finally:
                os._exit(0)
        direct._lock.release()
        os.close(write_end)
        os.waitpid(child, 0)
        answer = os.read(read_end, 64)
        os.close(read_end)
    finally:
        direct.close()

    assert answer == b"PONG"
