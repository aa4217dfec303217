from ninja import Schema

# The largest id a row can have (a bigint); larger ids are refused as input (422) rather
# than overflowing the database driver.
MAX_ID = 2**63 - 1


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
