"""The error responses routes declare, so every status the code can answer is in the schema."""

from http import HTTPStatus

from core.schemas import ErrorOut, ValidationErrorOut

UNAUTHORIZED = {HTTPStatus.UNAUTHORIZED: ErrorOut}
ADMIN_ONLY = {HTTPStatus.UNAUTHORIZED: ErrorOut, HTTPStatus.FORBIDDEN: ErrorOut}
NOT_FOUND = {HTTPStatus.NOT_FOUND: ErrorOut}
INVALID = {HTTPStatus.UNPROCESSABLE_ENTITY: ValidationErrorOut}
TOO_LARGE = {HTTPStatus.REQUEST_ENTITY_TOO_LARGE: ErrorOut}
CONFLICT = {HTTPStatus.CONFLICT: ErrorOut}
THROTTLED = {HTTPStatus.TOO_MANY_REQUESTS: ErrorOut}
# A route that takes an id in its path: unknown is 404, beyond the id range 422.
BY_ID = {**NOT_FOUND, **INVALID}
