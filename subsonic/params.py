"""A request's parameters: the query string and, for a form POST (the `formPost` extension),
the form body, as one set. Unknown names are simply never read."""

import re

from django.http import HttpRequest, QueryDict

from subsonic.errors import SubsonicError, missing_parameter
from subsonic.spec import ErrorCode

NOT_A_WHOLE_NUMBER = "Parameter {name} must be a whole number."
BELOW_MINIMUM = "Parameter {name} must be at least {minimum}."
# A whole number as clients send one; longer ones are refused rather than parsed.
_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,18}")


class Params:
    def __init__(self, data: QueryDict) -> None:
        self._data = data

    @classmethod
    def of(cls, request: HttpRequest) -> "Params":
        data = request.GET.copy()
        if request.method == "POST":
            # Values of the body come after those of the query string: repeated names
            # (`songId` of a playlist) keep every value, single ones take the body's.
            for name, values in request.POST.lists():
                data.setlistdefault(name, []).extend(values)
        return cls(data)

    def get(self, name: str) -> str | None:
        """The parameter's (last) value; None when absent or empty."""
        return self._data.get(name) or None

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def required(self, name: str) -> str:
        """The parameter's value; error 10 when absent or empty."""
        value = self.get(name)
        if value is None:
            raise missing_parameter(name)
        return value

    def present(self, name: str) -> bool:
        """Whether the parameter was sent at all, even empty (`search3?query=`)."""
        return name in self._data

    def integer(
        self, name: str, *, default: int, minimum: int = 0, maximum: int | None = None
    ) -> int:
        """The parameter as a whole number (`default` when absent), at most `maximum` (a
        larger one is taken as `maximum`, as the specification's "max 500" is); error 0 when
        it is not a whole number or is below `minimum`."""
        value = self.get(name)
        if value is None:
            return default
        number = self._whole_number(name, value)
        if number < minimum:
            raise SubsonicError(ErrorCode.GENERIC, BELOW_MINIMUM.format(name=name, minimum=minimum))
        return number if maximum is None else min(number, maximum)

    def required_integer(self, name: str) -> int:
        """The parameter as a whole number; error 10 when absent, 0 when not a number."""
        return self._whole_number(name, self.required(name))

    @staticmethod
    def _whole_number(name: str, value: str) -> int:
        if not _WHOLE_NUMBER.fullmatch(value.strip()):
            raise SubsonicError(ErrorCode.GENERIC, NOT_A_WHOLE_NUMBER.format(name=name))
        return int(value)

    def all(self, name: str) -> list[str]:
        """Every non-empty value of a repeated parameter, in order."""
        return [value for value in self._data.getlist(name) if value]
