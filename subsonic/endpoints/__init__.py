"""The handlers of the Subsonic endpoints, one module per section of the specification's list
(docs/opensubsonic-api.md). Importing this package registers them all."""

from subsonic.endpoints import (
    browsing,
    lists,
    media,
    scanning,
    searching,
    system,
    user_management,
)

__all__ = ["browsing", "lists", "media", "scanning", "searching", "system", "user_management"]
