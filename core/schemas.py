from ninja import Schema


class ErrorOut(Schema):
    """`{"detail": "<human sentence>"}`: the body of every non-validation error."""

    detail: str


class ValidationErrorItem(Schema):
    type: str
    loc: list[str | int]
    msg: str


class ValidationErrorOut(Schema):
    """422: the framework's list of field errors."""

    detail: list[ValidationErrorItem]
