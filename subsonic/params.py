"""A request's parameters: the query string and, for a form POST (the `formPost` extension),
the form body, as one set. Unknown names are simply never read."""

from django.http import HttpRequest, QueryDict

from subsonic.errors import missing_parameter


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

    def all(self, name: str) -> list[str]:
        """Every non-empty value of a repeated parameter, in order."""
        return [value for value in self._data.getlist(name) if value]
