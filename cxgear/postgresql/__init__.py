"""Django's PostgreSQL backend with a cheaper check of its connections (``base``), and
the connection options that settings and the ingest benchmark's bare webhook share."""

from __future__ import annotations

from typing import Any, NamedTuple

# The webhook's INSERT and a routing decision's statements are the same text on every
# call: prepared on a connection's second use, PostgreSQL stops planning them again (a
# decision's backend CPU fell by a quarter), and parameters go apart from the text
# instead of being quoted into it by the client. Settings turn these options on unless
# ``DATABASE_PREPARED_STATEMENTS`` is off; the ingest benchmark's bare webhook uses them too.
PREPARED_STATEMENTS = {"server_side_binding": True, "prepare_threshold": 1}

CONNECTION_MODES = ("pool", "persistent")


class ConnectionHandling(NamedTuple):
    """``DATABASES`` entries: ``CONN_MAX_AGE``, ``CONN_HEALTH_CHECKS`` and ``OPTIONS``
    to merge."""

    max_age: int | None
    health_checks: bool
    options: dict[str, Any]


def connection_handling(mode: str, *, pool_min: int = 1, pool_max: int = 10) -> ConnectionHandling:
    """How a process holds its connections. "pool": one psycopg pool that its threads
    share, for ASGI (daphne), whose threads come and go. "persistent": each thread keeps
    its own, for a WSGI server's fixed threads (granian): no checkout and return on every
    request, a fifth of a delivery's CPU there. Both look at a connection's socket before
    using it again (``base``)."""
    if mode == "persistent":
        return ConnectionHandling(max_age=None, health_checks=True, options={})
    if mode == "pool":
        pool = {"min_size": pool_min, "max_size": pool_max, "timeout": 10}
        return ConnectionHandling(max_age=0, health_checks=False, options={"pool": pool})
    raise ValueError(f"no connection mode {mode!r}: one of {', '.join(CONNECTION_MODES)}")
