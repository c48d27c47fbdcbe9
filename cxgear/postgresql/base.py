"""Django's PostgreSQL backend, with connections checked by a look at their socket.

psycopg's own check (Django's ``CONN_HEALTH_CHECKS`` with a pool) is a round trip to the
server on every checkout: at webhook rates it was a third of a request's time. A
connection the server dropped (a restart, a terminated backend) has something waiting on
its socket: the server's last message or the end of the stream. So the socket is asked
first, without waiting, and the round trip is made only when it has something to say.
The same check serves a pooled connection as it is handed out and a persistent one at
each request's first query (``CONN_HEALTH_CHECKS``), where Django would send a
``SELECT 1``."""

from __future__ import annotations

import select
from typing import Any

from django.db.backends.base.base import NO_DB_ALIAS
from django.db.backends.postgresql import base
from psycopg_pool import ConnectionPool


def _quiet(conn: Any) -> bool:
    """Whether nothing waits on the connection's socket, as on a live idle connection."""
    # poll, not select: a process serving a thousand websockets has descriptors past
    # select's limit of 1024.
    poller = select.poll()
    poller.register(conn.fileno(), select.POLLIN)
    return not poller.poll(0)


def check_connection(conn: Any) -> None:
    """Raise if a pooled connection is no longer usable; the pool then replaces it."""
    if conn.closed or conn.broken:
        raise ConnectionError("the pooled connection is closed")
    if not _quiet(conn):
        ConnectionPool.check_connection(conn)


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self) -> bool:
        """Django's check of a persistent connection, whose ``SELECT 1`` is sent only
        when the socket has something to say."""
        conn = self.connection
        if conn is None or conn.closed or conn.broken:
            return False
        return _quiet(conn) or super().is_usable()

    @property
    def pool(self) -> ConnectionPool | None:
        options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == NO_DB_ALIAS or not options:
            return None
        if self.alias not in self._connection_pools:  # type: ignore[attr-defined]
            params = self.get_connection_params()
            params["autocommit"] = True  # Django sets the mode it wants on checkout
            pool = ConnectionPool(
                kwargs=params,
                open=False,
                configure=self._configure_connection,  # type: ignore[attr-defined]
                check=check_connection,
                **(options if isinstance(options, dict) else {}),
            )
            # Threads racing here each make a pool; the first one stored is the one used.
            self._connection_pools.setdefault(self.alias, pool)  # type: ignore[attr-defined]
        return self._connection_pools[self.alias]  # type: ignore[attr-defined]
