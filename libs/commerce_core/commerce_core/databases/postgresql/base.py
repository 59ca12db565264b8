"""Django's PostgreSQL backend, checking a reused connection's health at most once
a second instead of at the start of every request and every worker batch.

With `CONN_HEALTH_CHECKS`, Django sends `SELECT 1` before a persistent connection's
first query in each unit of work. Under load that is one round trip in every
request and every delivered batch: about 22 of the 172 statements a paid order
cost across the services, each a wake-up of a PostgreSQL backend on a busy machine.
A connection checked less than `CHECK_INTERVAL_SECONDS` ago is taken as healthy,
as PgBouncer's `server_check_delay` does. A server that restarted inside that
second fails the one unit of work that used the dead connection (a request gets
503, a batch stays unacknowledged and comes back); Django then closes the
connection, and the next unit of work opens a fresh one.
"""

import time

from django.db.backends.postgresql import base

#: Seconds for which a connection that passed a health check is not checked again.
CHECK_INTERVAL_SECONDS = 1.0


class DatabaseWrapper(base.DatabaseWrapper):
    _checked_at = float("-inf")

    def connect(self):
        super().connect()
        self._checked_at = time.monotonic()  # a new connection is healthy

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and time.monotonic() - self._checked_at < CHECK_INTERVAL_SECONDS
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()
        if self.connection is not None and self.health_check_done:
            self._checked_at = time.monotonic()
