"""Django's PostgreSQL backend with a connection pool that survives database restarts and
fails fast while the database is unreachable (`base.CheckedPool`)."""
