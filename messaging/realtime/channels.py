"""Where Socket.IO messages go: the namespace, each user's room and the Redis channel.

Kept apart from `server` so that code which only publishes (a REST view, a gunicorn worker,
a management command) can name rooms without building the Socket.IO server.
"""

from django.conf import settings

from messaging.realtime.presence import redis_db_number

NAMESPACE = "/"


def redis_prefix() -> str:
    # The cache's prefix keeps deployments that share one Redis apart.
    return f"{settings.CACHES['default'].get('KEY_PREFIX') or 'music'}:socketio"


def presence_prefix() -> str:
    """The prefix of presence's keys in Redis (messaging/realtime/presence.py)."""
    return f"{redis_prefix()}:presence"


def redis_channel() -> str:
    """The pub/sub channel. Pub/sub ignores database numbers, so the channel carries it."""
    return f"{redis_prefix()}:db{redis_db_number(settings.REDIS_URL)}"


def user_room(user_id: int) -> str:
    """Every socket of one user (all tabs, on any process) joins this room."""
    return f"user:{user_id}"
