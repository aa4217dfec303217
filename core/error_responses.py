"""The error responses routes declare, so every status the code can answer is in the schema."""

from http import HTTPStatus

from core.schemas import ErrorOut, ValidationErrorOut

UNAUTHORIZED = {HTTPStatus.UNAUTHORIZED: ErrorOut}
FORBIDDEN = {HTTPStatus.FORBIDDEN: ErrorOut}
ADMIN_ONLY = {**UNAUTHORIZED, **FORBIDDEN}
# A 404 (its default sentence is core.errors.NOT_FOUND).
MISSING = {HTTPStatus.NOT_FOUND: ErrorOut}
INVALID = {HTTPStatus.UNPROCESSABLE_ENTITY: ValidationErrorOut}
TOO_LARGE = {HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ErrorOut}
CONFLICT = {HTTPStatus.CONFLICT: ErrorOut}
THROTTLED = {HTTPStatus.TOO_MANY_REQUESTS: ErrorOut}
# A route that takes an id in its path: unknown is 404, beyond the id range 422.
BY_ID = {**MISSING, **INVALID}
# The stream: a Range it cannot serve.
RANGE_NOT_SATISFIABLE = {HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE: ErrorOut}
# An outside service the call needs is away: 503 with Retry-After (core.errors.Unavailable).
UNAVAILABLE = {HTTPStatus.SERVICE_UNAVAILABLE: ErrorOut}
