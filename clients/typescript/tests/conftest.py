"""The live-server fixtures of the messaging tests, for the realtime wrapper's test."""

from messaging.tests.conftest import (  # noqa: F401
    live_database_url,
    start_server,
    uvicorn_server,
)
