"""The admin's sign-in form, held to the API's sign-in lockout."""

from typing import Any

from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm

from core.errors import NotAuthenticated, Throttled
from users import services

# Not Django's "...both fields may be case-sensitive": emails are compared ignoring case here.
ADMIN_INVALID_LOGIN = "The email or password is wrong, or the account has no admin access."


class LockedAdminLoginForm(AuthenticationForm):
    """Unfold's admin login form, signing in through the API's `services.user_authenticate`.

    A wrong password here counts like a failed `POST /api/auth/login/` (django-axes, per email
    and per client address); while either is locked the form refuses even the right password,
    and `retry_after` holds the seconds until the lock ends (the login view answers 429 with
    it). A listener's right password signs in to nothing here (no admin access), but is no
    failure either.
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": ADMIN_INVALID_LOGIN,
        "throttled": services.TOO_MANY_ATTEMPTS,
    }

    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if email is None or not password:
            return self.cleaned_data  # a field is missing: nothing was tried
        try:
            self.user_cache = services.user_authenticate(
                request=self.request, email=email, password=password
            )
        except Throttled as error:
            self.retry_after = error.retry_after
            raise ValidationError(self.error_messages["throttled"], code="throttled") from error
        except NotAuthenticated as error:
            raise self.get_invalid_login_error() from error
        self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data
