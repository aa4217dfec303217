"""Django's PostgreSQL backend (psycopg 3 and its pool) with a pool that behaves in an outage.

`settings.DATABASES` names this backend (`core.db.postgresql`) for PostgreSQL. It is
Django's own, but for the pool class, `CheckedPool`, which differs from psycopg_pool's
`ConnectionPool` with `check=ConnectionPool.check_connection` (what Django's
`CONN_HEALTH_CHECKS` gives) in three ways:

- **After a restart.** Each connection is checked as it is handed out (an empty query: one
  round trip). When one fails, the restart has cut the others too: every idle connection is
  checked at once and the dead ones replaced, and the request takes the next live one. The
  stock pool checks one dead connection per try and sleeps a second, then two, between tries,
  so a pool holding three idle connections gave 503s for seconds after the database was back.
- **While the database is unreachable.** Once a connection attempt has failed and no pooled
  connection is left, a request gets its 503 at once (`PoolTimeout`) instead of each waiting
  the pool's whole timeout, until an attempt succeeds again. (A request that finds a dead
  connection first waits for a new one instead, up to the timeout: after a restart the
  database is most likely back.) A server that refuses a new connection for want of room
  ("too many clients") counts the same: while no pooled connection is idle, requests get
  their 503 at once rather than wait for one (libpq gives no SQLSTATE for a refused
  connection to tell the two apart by). The pool keeps trying in the
  background, and a request also starts an attempt when none is under way, so the first
  request after the database is back is served (or the one after it).
- **A check that gets no answer** (the database's host frozen or gone from the network with
  the connection open) gives up after the connect timeout instead of hanging for minutes;
  the other idle connections, which would each make a request wait as long, are dropped, and
  further requests fail fast as above.
"""

import logging
import select
from time import monotonic
from typing import Any

import psycopg
from django.db.backends.postgresql import base
from psycopg import pq
from psycopg_pool import ConnectionPool, PoolTimeout
from psycopg_pool.pool import AddConnection

logger = logging.getLogger(__name__)

UNREACHABLE = "the database is unreachable (the last connection attempt failed)"


class CheckTimeout(psycopg.OperationalError):
    """A pooled connection's check got no answer in time."""


class CheckedPool(ConnectionPool):
    def __init__(self, *args: Any, check_timeout: float = 2.0, **kwargs: Any) -> None:
        self.check_timeout = check_timeout
        # When the last connection attempt failed (None: it succeeded, or none was made yet).
        self.connect_failed_at: float | None = None
        super().__init__(*args, **kwargs)

    def _connect(self, timeout: float | None = None) -> psycopg.Connection:
        try:
            conn = super()._connect(timeout)
        except Exception:
            self.connect_failed_at = monotonic()
            raise
        self.connect_failed_at = None
        return conn

    def getconn(self, timeout: float | None = None) -> psycopg.Connection:
        deadline = monotonic() + (self.timeout if timeout is None else timeout)
        self._fail_fast()
        while True:
            conn = super().getconn(max(deadline - monotonic(), 0.001))
            try:
                self.check_connection(conn)
            except CheckTimeout:
                logger.warning("A pooled connection did not answer its check: dropping all")
                self.connect_failed_at = monotonic()  # unreachable: fail fast from now on
                self._putconn(conn, from_getconn=True)
                self._drop_idle()  # the others would each make a request wait as long
                continue
            except Exception as error:
                logger.info("A pooled connection failed its check (%s): checking the rest", error)
                self._putconn(conn, from_getconn=True)  # broken: closed and replaced
                self.check()  # the others the same outage cut, at once, not one per try
                # No failing fast from here: the database may well be back (a restart), and
                # the replacements are being made now; wait for one, up to the timeout.
                continue
            return conn

    def _drop_idle(self) -> None:
        """Close every idle connection, each replaced by a new attempt."""
        with self._lock:
            idle = list(self._pool)
            self._pool.clear()
        for conn in idle:
            self._close_connection(conn)
            self.run_task(AddConnection(self))

    def _fail_fast(self) -> None:
        """A PoolTimeout now when the database cannot be reached and no connection is left."""
        with self._lock:
            if self.connect_failed_at is None or self._pool:
                return
            self._maybe_grow_pool()  # a new attempt, unless one is under way or scheduled
        raise PoolTimeout(UNREACHABLE)

    def check_connection(self, conn: psycopg.Connection) -> None:  # type: ignore[override]
        """An empty query, as psycopg_pool's own check, given up after `check_timeout`."""
        pgconn = conn.pgconn
        if pgconn.status != pq.ConnStatus.OK:
            raise psycopg.OperationalError("the connection is closed")
        # Sent below the connection's own API: that would open a transaction outside
        # autocommit, and it cannot be told to stop waiting.
        pgconn.send_query(b"")
        give_up_at = monotonic() + self.check_timeout
        while pgconn.flush() != 0:
            self._wait(pgconn, give_up_at, write=True)
        while True:
            pgconn.consume_input()
            if not pgconn.is_busy():
                result = pgconn.get_result()
                if result is None:
                    return
                if result.status not in (pq.ExecStatus.EMPTY_QUERY, pq.ExecStatus.COMMAND_OK):
                    raise psycopg.OperationalError(
                        pgconn.get_error_message().decode(errors="replace") or "check failed"
                    )
                continue
            self._wait(pgconn, give_up_at, write=False)

    @staticmethod
    def _wait(pgconn: pq.abc.PGconn, give_up_at: float, *, write: bool) -> None:
        remaining = give_up_at - monotonic()
        fd = pgconn.socket
        ready = (
            select.select([fd], [fd] if write else [], [], max(remaining, 0))
            if remaining > 0
            else ([], [], [])
        )
        if not any(ready):
            pgconn.finish()  # left mid-query: the pool discards it as broken
            raise CheckTimeout("the database did not answer the connection check")


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self) -> CheckedPool | None:
        """Django's pool property (django/db/backends/postgresql/base.py, 5.2) with
        `CheckedPool`, which does its own checks."""
        pool_options = self.settings_dict["OPTIONS"].get("pool")
        if self.alias == base.NO_DB_ALIAS or not pool_options:
            return None
        if self.alias not in self._connection_pools:
            if self.settings_dict.get("CONN_MAX_AGE", 0) != 0:
                raise base.ImproperlyConfigured("Pooling doesn't support persistent connections.")
            connect_kwargs = self.get_connection_params()
            connect_kwargs["autocommit"] = True  # as Django's: it sets autocommit later
            pool = CheckedPool(
                kwargs=connect_kwargs,
                open=False,
                configure=self._configure_connection,
                check_timeout=float(connect_kwargs.get("connect_timeout") or 2),
                **({} if pool_options is True else pool_options),
            )
            self._connection_pools.setdefault(self.alias, pool)
        return self._connection_pools[self.alias]
