"""Every write about accounts and tokens."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

from django.contrib.auth import authenticate, password_validation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from ninja_jwt.exceptions import TokenError
from ninja_jwt.tokens import RefreshToken

from core.auth import user_id_of
from core.errors import (
    Conflict,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
)
from core.files.images import verify_image
from core.files.storage import delete_after_commit, save_with_files
from core.updates import UNSET, Unset, model_update
from users import lockout
from users.app_password_secrets import key_hash, new_secret, seal
from users.lockout import TOO_MANY_ATTEMPTS
from users.models import MAX_APP_PASSWORDS, AppPassword, User, is_admin_email
from users.selectors import active_user

_Credential = TypeVar("_Credential")

EMAIL_TAKEN = "An account with this email already exists."
PASSWORDS_DIFFER = "The two passwords do not match."
INVALID_CREDENTIALS = "The email or password is wrong, or the account is inactive."
TOO_MANY_REGISTRATIONS = "Too many sign-ups from this address. Try again later."
REFRESH_INVALID = "The refresh token is invalid, expired or already used."
REFRESH_NOT_YOURS = "This refresh token belongs to another account."
APP_PASSWORDS_FULL = (
    f"An account holds at most {MAX_APP_PASSWORDS} app passwords: delete one you no longer use."
)
APP_PASSWORD_NOT_FOUND = "No app password with this id."  # noqa: S105 (a sentence)
# A sign-in with an app password is recorded at most this often, not on every request.
APP_PASSWORD_USE_PRECISION = timedelta(minutes=1)


@dataclass(frozen=True)
class Tokens:
    access: str
    refresh: str


def tokens_for(user: User) -> Tokens:
    refresh = RefreshToken.for_user(user)
    return Tokens(access=str(refresh.access_token), refresh=str(refresh))


@transaction.atomic
def user_register(*, email: str, password1: str, password2: str, full_name: str) -> User:
    """A new listener account. Registration attempts are limited per client address on the
    route (`users.throttling.RegistrationThrottle`), refused ones included."""
    if password1 != password2:
        raise Invalid("password2", PASSWORDS_DIFFER)
    candidate = User(email=User.objects.normalize_email(email), full_name=full_name)
    try:
        password_validation.validate_password(password1, user=candidate)
    except DjangoValidationError as error:
        raise Invalid("password1", *error.messages) from error
    if is_admin_email(email) or User.objects.filter(email__iexact=email).exists():
        raise Conflict(EMAIL_TAKEN)
    candidate.set_password(password1)
    try:
        # A savepoint, so that a lost race leaves the outer transaction usable.
        with transaction.atomic():
            candidate.save()
    except IntegrityError as error:  # a concurrent registration won the unique index
        raise Conflict(EMAIL_TAKEN) from error
    return candidate


def user_authenticate(*, request: HttpRequest, email: str, password: str) -> User:
    """The active account that `email` and `password` sign in to, held to the sign-in lockout
    (django-axes, `users.lockout`): Throttled while the email or the client address is locked,
    NotAuthenticated for a wrong password, an unknown email or an inactive account, which axes
    counts as a failure. Every sign-in with a password goes through here (the API's login, the
    admin's page; the Subsonic API next), so they all count against one lockout.

    Never inside a transaction of the caller's: the failure recorded here must outlive the
    error raised after it.
    """
    seconds, email_failed = lockout.sign_in_state(request, email=email)
    if seconds is not None:
        raise Throttled(TOO_MANY_ATTEMPTS, retry_after=seconds)
    # With the request, so axes checks the lock again and records a failure. Django's
    # backend hashes even for an unknown email, so timing reveals nothing.
    user = authenticate(request, username=email, password=password)
    if user is None:
        raise NotAuthenticated(INVALID_CREDENTIALS)
    if email_failed:
        lockout.failures_clear(email=email)
    return user


def sign_in_checked(
    *, request: HttpRequest, email: str, check: Callable[[], _Credential | None]
) -> _Credential:
    """What `check` finds for `email` (an app password), held to the same lockout as
    `user_authenticate`: Throttled while locked, without running `check`; NotAuthenticated
    when it finds nothing, counted as a failure; a success forgets the email's failures."""
    seconds, email_failed = lockout.sign_in_state(request, email=email)
    if seconds is not None:
        raise Throttled(TOO_MANY_ATTEMPTS, retry_after=seconds)
    found = check()
    if found is None:
        lockout.failure_recorded(request, email=email)
        raise NotAuthenticated(INVALID_CREDENTIALS)
    if email_failed:
        lockout.failures_clear(email=email)
    return found


def _active_user_of(token: RefreshToken) -> User:
    user_id = user_id_of(token)  # None for a claim that is not an integer id
    user = active_user(user_id=user_id)
    if user is None:
        raise NotAuthenticated(REFRESH_INVALID)
    return user


def _read_refresh(raw: str) -> RefreshToken:
    try:
        return RefreshToken(raw)  # checks signature, expiry, type and the blacklist
    except TokenError as error:
        raise NotAuthenticated(REFRESH_INVALID) from error


def _blacklist_once(token: RefreshToken) -> None:
    """Blacklist `token`; if someone else just did, this use is a reuse and is refused."""
    try:
        with transaction.atomic():
            _, created = token.blacklist()
    except IntegrityError as error:
        raise NotAuthenticated(REFRESH_INVALID) from error
    if not created:
        raise NotAuthenticated(REFRESH_INVALID)


@transaction.atomic
def token_refresh(*, refresh: str) -> Tokens:
    """Rotate: the used refresh token is blacklisted and a new pair is issued."""
    token = _read_refresh(refresh)
    user = _active_user_of(token)
    _blacklist_once(token)
    return tokens_for(user)


@transaction.atomic
def user_logout(*, user: User, refresh: str) -> None:
    token = _read_refresh(refresh)
    if user_id_of(token) != user.pk:
        raise PermissionDenied(REFRESH_NOT_YOURS)
    _blacklist_once(token)


@transaction.atomic
def users_set_active(*, users: QuerySet[User], active: bool) -> int:
    """Activate or deactivate `users`; returns how many there were.

    One save each rather than `users.update()`: saves send post_save, which keeps what is
    derived from accounts (the stats' cached total of active users) exact.
    """
    selected = list(users)
    for user in selected:
        user.is_active = active
        user.save(update_fields=["is_active"])
    return len(selected)


def user_update(
    *, user: User, full_name: str | Unset = UNSET, image: UploadedFile | None = None
) -> User:
    """Change the caller's name or picture; a replaced picture is deleted after commit."""
    if image is not None:
        verify_image(image, field="image_file")
    changed = model_update(instance=user, data={"full_name": full_name})
    if image is not None:
        user.image = image
    elif not changed:
        return user
    save_with_files(user)
    return user


def user_save(*, user: User) -> User:
    """Save an account edited as a whole (the admin's forms): a picture stored by a failed
    save is removed, a replaced or removed one is deleted after commit."""
    save_with_files(user)
    return user


@transaction.atomic
def users_delete(*, users: QuerySet[User]) -> int:
    """Delete accounts (their messages and plays go with them) and, after commit, their
    pictures; returns how many there were."""
    pictures = [name for name in users.values_list("image", flat=True) if name]
    deleted = users.count()
    for user in users:
        user.delete()
    delete_after_commit(*pictures)
    return deleted


@dataclass(frozen=True)
class NewAppPassword:
    """An app password just made, with its secret: the only time the secret is known."""

    app_password: AppPassword
    secret: str


@transaction.atomic
def app_password_create(*, user: User, name: str) -> NewAppPassword:
    """A new app password for `user`; Conflict past MAX_APP_PASSWORDS (the request is fine,
    the account is full: a 409, as Schemathesis holds a valid body refused with 422 a bug)."""
    # The account's row locked (PostgreSQL), so two creations at once cannot both pass the cap.
    list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
    if AppPassword.objects.filter(user=user).count() >= MAX_APP_PASSWORDS:
        raise Conflict(APP_PASSWORDS_FULL)
    secret = new_secret()
    app_password = AppPassword.objects.create(
        user=user, name=name, key_hash=key_hash(secret), sealed_secret=seal(secret)
    )
    return NewAppPassword(app_password=app_password, secret=secret)


@transaction.atomic
def app_password_delete(*, user: User, app_password_id: int) -> None:
    """Revoke one of `user`'s app passwords: its secret stops working at once. Someone
    else's is NotFound, as if it did not exist."""
    deleted, _ = AppPassword.objects.filter(pk=app_password_id, user=user).delete()
    if not deleted:
        raise NotFound(APP_PASSWORD_NOT_FOUND)


@transaction.atomic
def app_passwords_delete(*, app_passwords: Iterable[AppPassword]) -> int:
    """Revoke app passwords (the admin's); returns how many there were."""
    ids = [app_password.pk for app_password in app_passwords]
    deleted, _ = AppPassword.objects.filter(pk__in=ids).delete()
    return deleted


def app_password_used(*, app_password: AppPassword, now: datetime | None = None) -> None:
    """Record a sign-in with `app_password`: `last_used_at`, written at most once a minute
    (a player signs in on every request)."""
    now = now or timezone.now()
    last = app_password.last_used_at
    if last is not None and now - last < APP_PASSWORD_USE_PRECISION:
        return
    app_password.last_used_at = now
    AppPassword.objects.filter(pk=app_password.pk).update(last_used_at=now)
