"""Reads about users that carry rules: who is visible to whom."""

from django.db.models import QuerySet

from core.queries import get_or_not_found
from users.models import User

USER_NOT_FOUND = "No user with this id."


def users_visible_to(*, viewer: User, search: str | None = None) -> QuerySet[User]:
    """Active users other than `viewer`, alphabetically, optionally by part of the name."""
    users = active_users().exclude(pk=viewer.pk)
    if search:
        users = users.filter(full_name__icontains=search.strip())
    return users.order_by("full_name", "id")


def active_users() -> QuerySet[User]:
    """Accounts that may sign in and be seen: not deactivated."""
    return User.objects.filter(is_active=True)


def active_user(*, user_id: int | None) -> User | None:
    """The active account with this id; None when there is none (or no id)."""
    return active_users().filter(pk=user_id).first() if user_id is not None else None


def user_get_public(*, user_id: int) -> User:
    return get_or_not_found(active_users(), USER_NOT_FOUND, pk=user_id)
