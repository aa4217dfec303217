"""Reads about users that carry rules: who is visible to whom."""

from django.db.models import QuerySet

from core.errors import NotFoundError
from users.models import User

USER_NOT_FOUND = "No user with this id."


def users_visible_to(*, viewer: User, search: str | None = None) -> QuerySet[User]:
    """Active users other than `viewer`, alphabetically, optionally by part of the name."""
    users = User.objects.filter(is_active=True).exclude(pk=viewer.pk)
    if search:
        users = users.filter(full_name__icontains=search.strip())
    return users.order_by("full_name", "id")


def user_get_public(*, user_id: int) -> User:
    user = User.objects.filter(pk=user_id, is_active=True).first()
    if user is None:
        raise NotFoundError(USER_NOT_FOUND)
    return user
