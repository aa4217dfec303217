from django.http import HttpRequest
from ninja_extra import ControllerBase
from ninja_extra.permissions import BasePermission

ADMIN_REQUIRED = "Only admins can do this."


class IsAdmin(BasePermission):
    """Superusers and the ADMIN_EMAIL account (see `User.is_admin`)."""

    message = ADMIN_REQUIRED

    def has_permission(self, request: HttpRequest, controller: ControllerBase) -> bool:
        user = request.user
        return bool(user and user.is_authenticated and getattr(user, "is_admin", False))
