"""A request's parameters: the query string and, for a form POST (the `formPost` extension),
the form body, as one set. Unknown names are simply never read."""

from django.http import HttpRequest, QueryDict

from subsonic.errors import SubsonicError, missing_parameter
from subsonic.spec import ErrorCode


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

    def given(self, name: str) -> str | None:
        """The parameter's (last) value as sent, empty included (a comment cleared); None
        when absent."""
        return self._data.get(name)

    def has(self, name: str) -> bool:
        return self.get(name) is not None

    def required(self, name: str) -> str:
        """The parameter's value; error 10 when absent or empty."""
        value = self.get(name)
        if value is None:
            raise missing_parameter(name)
        return value

    def all(self, name: str) -> list[str]:
        """Every non-empty value of a repeated parameter, in order."""
        return [value for value in self._data.getlist(name) if value]

    def whole_number(self, name: str) -> int | None:
        """The parameter as a number 0 or more (ASCII digits); None when absent; error 0 that
        says so when it is something else."""
        value = self.get(name)
        return None if value is None else _whole_number(name, value)

    def whole_numbers(self, name: str) -> list[int]:
        """Every value of a repeated parameter as a number 0 or more, in order."""
        return [_whole_number(name, value) for value in self.all(name)]


def _whole_number(name: str, value: str) -> int:
    text = value.strip()
    # At most 18 digits: any count or position fits, and int() never reads a huge string.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise SubsonicError(ErrorCode.GENERIC, f"{name} must be a whole number (0 or more).")
    return int(text)
