"""The admin's sign-in form, held to the API's sign-in throttles."""

from typing import Any

from django.core.exceptions import ValidationError
from unfold.forms import AuthenticationForm

from users import throttling
from users.services import TOO_MANY_ATTEMPTS

# Not Django's "...both fields may be case-sensitive": emails are compared ignoring case here.
ADMIN_INVALID_LOGIN = "The email or password is wrong, or the account has no admin access."


class ThrottledAdminLoginForm(AuthenticationForm):
    """Unfold's admin login form, counting failures with the API's login (`users.throttling`).

    A wrong password here counts like a failed `POST /api/auth/login/`, per email and per
    client address; while either is locked the form refuses even the right password, and
    `retry_after` holds the seconds until the lock ends (the login view answers 429 with it).
    """

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": ADMIN_INVALID_LOGIN,
        "throttled": TOO_MANY_ATTEMPTS,
    }

    retry_after: int | None = None

    def clean(self) -> dict[str, Any]:
        email = self.cleaned_data.get("username")
        if email is None or not self.cleaned_data.get("password"):
            return super().clean()  # a field is missing: nothing was tried
        address = throttling.client_address(self.request) if self.request else "unknown"
        self.retry_after = throttling.login_retry_after(email=email, address=address)
        if self.retry_after is not None:
            raise ValidationError(self.error_messages["throttled"], code="throttled")
        try:
            return super().clean()
        finally:
            if self.user_cache is None:  # wrong password, unknown email or inactive account
                throttling.record_login_failure(email=email, address=address)
            else:  # the right password (a listener without admin access included)
                throttling.clear_login_failures(email=email)
