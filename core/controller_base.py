"""The base class of every API controller."""

import inspect

from injector import inject
from ninja_extra import ControllerBase
from ninja_extra.permissions import BasePermission

from core.errors import PermissionDenied

# ninja-extra's own sentence, for a permission class that names none.
PERMISSION_DENIED = "You do not have permission to perform this action."


class Controller(ControllerBase):
    """A ninja-extra controller that is cheap to build.

    ninja-extra builds the controller through its injector for every request (twice when the
    route checks permissions). Without an `__init__` of its own the injector reads the
    signature of `object.__init__` each time, about 1 ms; `@inject` stores the (empty)
    bindings once, and the signature stored below spares the injector reading it again.

    Buys about 1 ms of every request; pinned by `django-ninja-extra>=0.30,<0.32`
    (pyproject.toml) and its injector. A change that breaks building a controller fails
    every API test; one that only reads the signature again shows in the benchmark alone.
    """

    @inject
    def __init__(self) -> None:
        super().__init__()

    @classmethod
    def permission_denied(cls, permission: BasePermission) -> None:
        """A route's permission class refused: the domain's PermissionDenied, the one way a
        403 is raised (ninja-extra would raise its own exception type)."""
        raise PermissionDenied(getattr(permission, "message", None) or PERMISSION_DENIED)


# inspect.signature() returns a stored __signature__ as is: the injector asks on every build.
Controller.__init__.__signature__ = inspect.signature(Controller.__init__)  # type: ignore[attr-defined]
