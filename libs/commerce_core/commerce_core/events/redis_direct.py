"""One Redis connection used directly, for what talks to Redis for every event: a
worker's stream consumer and every process's sends (broker_redis.py), and the
gateway's push history.

redis-py's client runs each command through its connection pool, its retry
policy, its observability hooks, a Python pass over the arguments and a reply
callback. On the gateway's event worker, that was about 80 µs of CPU per round
trip on top of the 70 µs the round trip itself costs (system calls included),
measured warm; an event that arrives after an idle pause, the consumer's usual
state, pays more for every layer it runs through. Here the commands are packed in
C by hiredis and sent on one redis-py `Connection`, which still does what a
connection must: connecting, timeouts, the hiredis reply parser, mapping errors.

Threads that share one take turns, a call at a time (a process's sends come from
its outbox sender and from its relay). A child process forked after a call opens
a socket of its own instead of writing into its parent's, with a lock of its own:
a fork in the middle of another thread's call copies that lock held, by a thread
that does not exist in the child.
"""

from __future__ import annotations

import os
import threading

import hiredis
import redis


class DirectConnection:
    def __init__(self, url: str, *, socket_timeout: float, connect_timeout: float):
        # RESP2, whatever redis-py's default: the callers read replies in its shapes
        # (a stream read is a list of [stream, entries], not a map).
        self._pool = redis.ConnectionPool.from_url(
            url, socket_timeout=socket_timeout, socket_connect_timeout=connect_timeout, protocol=2
        )
        self._lock = threading.Lock()
        self._connection = self._pool.make_connection()
        self._pid = os.getpid()

    def call(self, *commands: tuple) -> list:
        """Send `commands` in one round trip and return a reply for each, or the
        `redis.ResponseError` Redis answered instead (a script's error, NOGROUP...).

        A connection found broken (a Redis that restarted since the last call) is
        reopened and the commands sent once more, as redis-py's client does: the
        callers' commands are safe to repeat (acknowledging, reading a group's new
        messages, recording an event id once, sending an event that consumers
        handle once). Raises `redis.ConnectionError` or `redis.TimeoutError` when
        Redis cannot be reached."""
        packed = [b"".join(map(hiredis.pack_command, commands))]
        if self._pid != os.getpid():
            self._own_after_fork()
        with self._lock:
            try:
                return self._round_trip(packed, len(commands))
            except redis.ConnectionError:
                return self._round_trip(packed, len(commands))

    def _own_after_fork(self) -> None:
        """In a forked child: a lock and a socket of this process's own (the
        parent's are the parent's, and its lock may have been copied held)."""
        with _replacing:
            if self._pid != os.getpid():  # not done by another thread meanwhile
                self._lock, self._connection = threading.Lock(), self._pool.make_connection()
                self._pid = os.getpid()  # last: the others wait above until both are in place

    def _round_trip(self, packed: list[bytes], count: int) -> list:
        connection = self._connection
        # No health check (a PING first): a dead connection fails the send or the read.
        connection.send_packed_command(packed, check_health=False)
        replies = []
        for _ in range(count):
            try:
                replies.append(connection.read_response())
            except redis.ResponseError as refused:  # the reply was read whole: the next one follows
                replies.append(refused)
        return replies

    def close(self) -> None:
        with self._lock:
            self._connection.disconnect()


#: Taken by a forked child's threads while one of them replaces the parent's lock
#: and socket; made afresh in every child, for the same reason.
_replacing = threading.Lock()


def _replacing_anew() -> None:
    global _replacing
    _replacing = threading.Lock()


os.register_at_fork(after_in_child=_replacing_anew)
