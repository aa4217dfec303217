"""The one exception type for business rules; the API maps it to `{"detail": ...}`."""

from http import HTTPStatus


class ApiError(Exception):
    """A refusal with the HTTP status that API.md gives for it and a human sentence."""

    def __init__(self, status: HTTPStatus, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail


class NotFoundError(ApiError):
    def __init__(self, detail: str = "Not found.") -> None:
        super().__init__(HTTPStatus.NOT_FOUND, detail)


class ConflictError(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.CONFLICT, detail)


class UnprocessableError(ApiError):
    """A 422 that names one field, shaped like the framework's validation errors."""

    def __init__(self, field: str, detail: str, location: str = "body") -> None:
        super().__init__(HTTPStatus.UNPROCESSABLE_ENTITY, detail)
        self.field = field
        self.location = location

    def as_errors(self) -> list[dict]:
        return [{"type": "value_error", "loc": [self.location, self.field], "msg": self.detail}]


class PayloadTooLargeError(ApiError):
    def __init__(self, detail: str) -> None:
        super().__init__(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, detail)
