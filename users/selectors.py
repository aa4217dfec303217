"""Reads about users that carry rules: who is visible to whom, which app password signs in."""

import hashlib
import hmac

from django.db.models import QuerySet

from core.queries import get_or_not_found
from core.search import Matches, Query, TextIndex, fuzzy_query, words_of
from users.app_password_secrets import key_hash, unseal
from users.models import AppPassword, User

USER_NOT_FOUND = "No user with this id."
# Names are searched by the catalog's rules (core/search.py; users migration 0004).
NAMES = TextIndex("users_user", exact=("full_name",), vocabulary="users_searchword")


def named(users: QuerySet[User], search: str) -> QuerySet[User]:
    """`users` whose name holds every word of `search` (the last as a prefix), accents and
    case ignored; when none does, those with names like it (typos). A search without
    words (emoji only): names containing it."""
    words = words_of(search)
    if not words:
        return users.filter(full_name__icontains=search)
    exact = users.filter(Matches(NAMES, Query.of(words)))
    if exact.exists():
        return exact
    fuzzy = fuzzy_query(NAMES, words)
    return users.filter(Matches(NAMES, fuzzy)) if fuzzy is not None else exact


def users_visible_to(*, viewer: User, search: str | None = None) -> QuerySet[User]:
    """Active users other than `viewer`, alphabetically, optionally found by name (`named`)."""
    users = active_users().exclude(pk=viewer.pk)
    if search and search.strip():
        users = named(users, search.strip())
    return users.order_by("full_name", "id")


def active_users() -> QuerySet[User]:
    """Accounts that may sign in and be seen: not deactivated."""
    return User.objects.filter(is_active=True)


def active_user(*, user_id: int | None) -> User | None:
    """The active account with this id; None when there is none (or no id)."""
    return active_users().filter(pk=user_id).first() if user_id is not None else None


def user_get_public(*, user_id: int) -> User:
    return get_or_not_found(active_users(), USER_NOT_FOUND, pk=user_id)


def app_passwords_of(*, user: User) -> QuerySet[AppPassword]:
    """The account's app passwords, newest first."""
    return AppPassword.objects.filter(user=user).order_by("-created_at", "-id")


def usable_app_passwords() -> QuerySet[AppPassword]:
    """App passwords that may sign in: their owner active. The owner comes along: the
    sign-in needs the account, in the same query. (The Subsonic `apiKey` sign-in reads it by
    `key_hash`, prepared: subsonic/auth.py.)"""
    return AppPassword.objects.filter(user__is_active=True).select_related("user")


def app_password_by_email_and_secret(*, email: str, secret: str) -> AppPassword | None:
    """The app password of the account `email` (any case) whose secret this is (`p=`)."""
    return (
        usable_app_passwords()
        .filter(key_hash=key_hash(secret), user__email=email.strip().lower())
        .first()
    )


def app_password_by_email_and_token(*, email: str, token: str, salt: str) -> AppPassword | None:
    """The app password of the account `email` (any case) for which `token` is
    md5(secret + salt), hex in any case: the Subsonic token sign-in.

    Every app password of the account is checked, each in constant time, and the loop does not
    stop at a match, so the time taken does not tell which one matched. One whose sealed copy
    no key of this server opens (SECRET_KEY rotated) never matches.
    """
    given = token.lower().encode("utf-8", "surrogatepass")
    match = None
    for app_password in usable_app_passwords().filter(user__email=email.strip().lower()):
        secret = unseal(app_password.sealed_secret)
        if secret is None:
            continue
        expected = hashlib.md5(  # noqa: S324 (the Subsonic protocol's token, not our hashing)
            (secret + salt).encode("utf-8", "surrogatepass")
        ).hexdigest()
        if hmac.compare_digest(expected.encode(), given) and match is None:
            match = app_password
    return match
