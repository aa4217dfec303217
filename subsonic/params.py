"""A request's parameters: the query string and, for a form POST (the `formPost` extension),
the form body, as one set. Unknown names are simply never read."""

from urllib.parse import parse_qsl

from django.core.exceptions import TooManyFieldsSent
from django.http import HttpRequest, QueryDict

from library.models import MAX_ITEMS
from subsonic.errors import SubsonicError, missing_parameter
from subsonic.spec import ErrorCode

NOT_A_WHOLE_NUMBER = "{name} must be a whole number of at most 18 digits."
URL_ENCODED = "application/x-www-form-urlencoded"
# Django reads at most 1,000 fields (DATA_UPLOAD_MAX_NUMBER_FIELDS), but a Subsonic client
# saves a playlist or a play queue in one request with one `songId` per song: the query string
# and a url-encoded form are read here with room for the longest playlist and its other
# parameters. The body stays within Django's size cap (DATA_UPLOAD_MAX_MEMORY_SIZE, 2.5 MB:
# about 20 bytes a field).
MAX_FIELDS = MAX_ITEMS + 50


class Params:
    def __init__(self, data: QueryDict) -> None:
        self._data = data

    @classmethod
    def of(cls, request: HttpRequest) -> "Params":
        """The request's parameters; TooManyFieldsSent past MAX_FIELDS, RequestDataTooBig
        past Django's body size cap (both SuspiciousOperation)."""
        data = _fields(_query_string_bytes(request))
        if request.method == "POST":
            # Values of the body come after those of the query string: repeated names
            # (`songId` of a playlist) keep every value, single ones take the body's.
            form = _fields(request.body) if request.content_type == URL_ENCODED else request.POST
            for name, values in form.lists():
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

    def present(self, name: str) -> bool:
        """Whether the parameter was sent at all, even empty (`search3?query=`)."""
        return name in self._data

    def integer(self, name: str, *, default: int, maximum: int | None = None) -> int:
        """The parameter as a whole number (`default` when absent), at most `maximum` (a
        larger one is taken as `maximum`, as the specification's "max 500" is); error 0 when
        it is not a whole number 0 or more."""
        number = self.whole_number(name)
        if number is None:
            return default
        return number if maximum is None else min(number, maximum)

    def boolean(self, name: str, *, default: bool, invalid: str) -> bool:
        """The parameter as true or false (also 1 or 0), `default` when absent; error 0
        saying `invalid` for anything else."""
        value = self.get(name)
        if value is None:
            return default
        if value.lower() in ("true", "1"):
            return True
        if value.lower() in ("false", "0"):
            return False
        raise SubsonicError(ErrorCode.GENERIC, invalid)

    def required_integer(self, name: str) -> int:
        """The parameter as a whole number; error 10 when absent, 0 when not a number."""
        return _whole_number(name, self.required(name))

    def all(self, name: str) -> list[str]:
        """Every non-empty value of a repeated parameter, in order."""
        return [value for value in self._data.getlist(name) if value]

    def whole_number(self, name: str) -> int | None:
        """The parameter as a number 0 or more (ASCII digits); None when absent; error 0 that
        says so when it is something else."""
        value = self.get(name)
        return None if value is None else _whole_number(name, value)

    def check_whole_number(self, name: str) -> None:
        """Error 0 unless the parameter is absent or a whole number 0 or more, of any length:
        for a parameter whose value is not used (only its form is the specification's)."""
        value = (self.get(name) or "0").strip()
        if not (value.isascii() and value.isdigit()):
            raise SubsonicError(ErrorCode.GENERIC, NOT_A_WHOLE_NUMBER.format(name=name))

    def whole_numbers(self, name: str) -> list[int]:
        """Every value of a repeated parameter as a number 0 or more, in order."""
        return [_whole_number(name, value) for value in self.all(name)]


def _query_string_bytes(request: HttpRequest) -> bytes:
    """The query string as sent: WSGI hands it over as Latin-1 text of its bytes (PEP 3333),
    ASGI (Django's ASGIRequest) as text decoded from UTF-8."""
    text = request.META.get("QUERY_STRING", "")
    try:
        return text.encode("iso-8859-1")
    except UnicodeEncodeError:
        return text.encode()


def _fields(encoded: bytes) -> QueryDict:
    """Url-encoded fields as Django's QueryDict reads them (UTF-8, blank values kept, bytes
    that are not UTF-8 read as Latin-1), with MAX_FIELDS instead of Django's cap."""
    try:
        text = encoded.decode()
    except UnicodeDecodeError:
        text = encoded.decode("iso-8859-1")
    data = QueryDict(mutable=True)
    try:
        pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FIELDS)
    except ValueError as error:  # the only one parse_qsl raises without strict_parsing
        raise TooManyFieldsSent(f"More than {MAX_FIELDS} fields in one request.") from error
    for name, value in pairs:
        data.appendlist(name, value)
    return data


def _whole_number(name: str, value: str) -> int:
    text = value.strip()
    # At most 18 digits: any count or position fits, and int() never reads a huge string.
    if not (text.isascii() and text.isdigit() and len(text) <= 18):
        raise SubsonicError(ErrorCode.GENERIC, NOT_A_WHOLE_NUMBER.format(name=name))
    return int(text)
