from functools import cache
from typing import Annotated, Any

from django.core.exceptions import FieldDoesNotExist
from django.db.models import FileField, Manager, Model
from django.db.models.fields.files import FieldFile
from ninja import Field, P, Path, Schema
from ninja.schema import DjangoGetter
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    ModelWrapValidatorHandler,
    ValidationInfo,
    create_model,
    model_validator,
)
from pydantic_core import PydanticCustomError

# The largest id a row can have (a bigint); larger ids are refused as input (422) rather
# than overflowing the database driver.
MAX_ID = 2**63 - 1


def context_request(context: dict[str, Any] | None) -> Any:
    """The request ninja hands a resolver in its `context`; None outside a request."""
    return (context or {}).get("request")


def _plain(value: Any) -> Any:
    # What ninja's getter would make of a model's attribute: a related manager's rows, a
    # stored file's URL.
    if isinstance(value, Manager):
        return list(value.all())
    if isinstance(value, FieldFile):
        return value.url if value else None
    return value


class OutSchema(Schema):
    """A response read from model instances a third faster than ninja's own way.

    Ninja wraps each instance in a getter that pydantic asks field by field through Python's
    `__getattr__`; here the fields are read once into a dict (resolvers still run with the
    request in their context) and pydantic validates that in one pass. Anything that is not a
    model instance (a dict, a schema) goes through ninja's way.

    Buys a third of the time of building a model's response (docs/PERFORMANCE.md); pinned by
    `django-ninja>=1.4,<2` (pyproject.toml), whose `_run_root_validator`, `_ninja_resolvers`,
    `Resolver` (`_func`, `_static`, `_takes_context`) and `DjangoGetter` it reads: a ninja
    that changes them fails the whole-body response tests (`tests/api_shapes.py`, in the
    songs, albums, artists, playlists and users tests).
    """

    @model_validator(mode="wrap")
    @classmethod
    def _run_root_validator(
        cls, values: Any, handler: ModelWrapValidatorHandler[Any], info: ValidationInfo
    ) -> Any:
        if not isinstance(values, Model):
            return super()._run_root_validator(values, handler, info)
        context = info.context
        fields: dict[str, Any] = {}
        for name, how, read in _read_plan(cls, type(values)):
            if how is _COLUMN:
                fields[name] = getattr(values, name)
            elif how is _RESOLVED_IN_CONTEXT:
                fields[name] = read(values, context=context)
            elif how is _RESOLVED:
                fields[name] = read(values)
            elif how is _ATTRIBUTE:
                value = getattr(values, name, _MISSING)
                if value is not _MISSING:
                    fields[name] = _plain(value)
            else:  # a resolver ninja calls itself (not a staticmethod)
                fields[name] = read(getter=DjangoGetter(values, cls, context))
        return handler(fields)


# How OutSchema reads a field from an instance (see _read_plan).
_COLUMN, _RESOLVED_IN_CONTEXT, _RESOLVED, _ATTRIBUTE, _NINJA = (object() for _ in range(5))
_MISSING = object()
_read_plans: dict[tuple[type, type[Model]], tuple[tuple[str, object, Any], ...]] = {}


def _read_plan(schema: type[Schema], model: type[Model]) -> tuple[tuple[str, object, Any], ...]:
    """How each field of `schema` is read from an instance of `model`, worked out once per
    pair rather than once per object: a static resolver is called as ninja's `Resolver`
    would call it (with the context if it takes one), a plain column (neither a file nor a
    relation) is read as is, and anything else (an annotation, a property, a file, a related
    manager) goes through `_plain` when the instance has it, as ninja's getter would."""
    key = (schema, model)
    plan = _read_plans.get(key)
    if plan is not None:
        return plan
    resolvers = schema._ninja_resolvers  # type: ignore[attr-defined]
    steps: list[tuple[str, object, Any]] = []
    for name in schema.model_fields:
        resolver = resolvers.get(name)
        if resolver is not None:
            if not resolver._static:
                steps.append((name, _NINJA, resolver))
            elif resolver._takes_context:
                steps.append((name, _RESOLVED_IN_CONTEXT, resolver._func))
            else:
                steps.append((name, _RESOLVED, resolver._func))
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            field = None
        plain_column = (
            field is not None
            and field.concrete
            and not field.is_relation
            and not isinstance(field, FileField)
        )
        steps.append((name, _COLUMN if plain_column else _ATTRIBUTE, None))
    plan = _read_plans[key] = tuple(steps)
    return plan


class ErrorOut(Schema):
    """`{"detail": "<human sentence>"}`: the body of every non-validation error."""

    detail: str = Field(..., examples=["Not found."])


class ValidationErrorItem(Schema):
    """One reason a request was refused: where (`["body", "email"]`), what, and its kind."""

    loc: list[str | int] = Field(
        ...,
        description='Where: "body", "query" or "path", then the field.',
        examples=[["body", "email"]],
    )
    msg: str = Field(
        ..., description="A human sentence.", examples=["Enter a valid email address."]
    )
    type: str = Field(
        ...,
        description="A machine-readable kind, e.g. value_error, missing.",
        examples=["value_error"],
    )


class ValidationErrorOut(Schema):
    """422: one item per reason, whether the input came as JSON, a form or the query string."""

    detail: list[ValidationErrorItem]


# Every id a client passes: beyond bigint is a 422, never a database overflow or a 404.


def refuse_flag_as_number(value: Any) -> Any:
    """Pydantic's lax mode reads `true` as 1 and `false` as 0, which the schema's integer
    does not allow; integral numbers (`7`, `7.0`) and text from forms and queries still pass."""
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "Input should be a valid integer")
    return value


def flag(value: Any, info: ValidationInfo) -> Any:
    """A boolean: JSON's true or false, or in a form (parse_body's `form` context) the text
    true or false. Lax mode's 0, 1, "yes", "off" ... are not what the schema says."""
    if isinstance(value, bool):
        return value
    in_form = (info.context or {}).get("form")
    if in_form and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise PydanticCustomError("bool_type", "Input should be a valid boolean")


RowId = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(refuse_flag_as_number)]
Flag = Annotated[bool, BeforeValidator(flag)]


def form_null(value: Any) -> Any:
    """The text "null" as None: multipart has no null, so a nullable field says it so there.

    Only that text. An empty value is a value, in a form as in JSON: an empty `release_year`
    is not a number and an empty `image_file` is not null (both 422). The empty file input
    of a browser's form never gets here: it is a file part without a filename, which Django
    leaves out, so the field is absent and the file kept. Reading "" as null would serve no
    form, and would make a stray empty field destructive (a song out of its album, an image
    gone) without anyone having sent null.
    """
    return None if value == "null" else value


# An id a client may set to null: `album_id` takes a song out of its album.
NullableId = Annotated[RowId | None, BeforeValidator(form_null)]


def nullable(type_: Any) -> Any:
    """`type_ | None` that also reads the text "null" from a form as null (`form_null`)."""
    return Annotated[type_ | None, BeforeValidator(form_null)]


def no_null_defaults(schema: dict[str, Any]) -> None:
    """A model's `json_schema_extra`: a field that defaults to None but refuses null (left
    out, not null) does not advertise the null default."""
    for prop in schema.get("properties", {}).values():
        if prop.get("default", ...) is None and "anyOf" not in prop:
            del prop["default"]


class InSchema(Schema):
    """A request body: a field the schema does not name is a 422, and the schema says so
    (`additionalProperties: false`), rather than a value silently dropped."""

    model_config = ConfigDict(extra="forbid")


class PatchSchema(InSchema):
    """A partial update: any field may be left out; only nullable ones may be null.

    Fields default to None so that a missing one is simply not set (`exclude_unset`), but
    the schema must not advertise a null default for a field that refuses null.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra=no_null_defaults)


# What a `next` cursor looks like (opaque: signed, base64 of the position after the page).
EXAMPLE_CURSOR = (
    "eyJvIjpbIi1jcmVhdGVkX2F0IiwiLWlkIl0sInYiOlsiMjAyNi0xMi0wM1QwMzowNDoyMy42NzE1OTcrMDA6MDAiLD"
    "IwXX0:1xYx9w:OUnzekwbMVmMgbY6RV9pSdJS1EfF33Iqdo2MDIQd3uc"
)


@cache
def page_of(item: type[Schema]) -> type[Schema]:
    """The page schema of a list: `SongPage` is `{"items": [SongOut], "count", "next"}`."""
    name = item.__name__.removesuffix("Out") + "Page"
    return create_model(
        name,
        __base__=Schema,
        __doc__=f"A page of {item.__name__}: the items and the exact count of all that match.",
        items=(list[item], ...),
        count=(int, Field(..., description="How many items match, over all pages.")),
        next=(
            str | None,
            Field(
                ...,
                description="The cursor of the next page (`?cursor=`); null on the last.",
                examples=[EXAMPLE_CURSOR],
            ),
        ),
    )


PathId = Path[int, P(ge=1, le=MAX_ID)]


def plain_twin(schema: type[Schema]) -> type[BaseModel]:
    """A pydantic model with `schema`'s fields and rules, for input that is always a plain
    dict (a Socket.IO event's payload): ninja's `Schema` wraps every input for attribute
    access, and validates it twice when extra keys are refused, which a socket message paid
    on the event loop. The twin keeps extra keys out the same way (`extra`)."""
    return create_model(
        f"{schema.__name__}Plain",
        __config__=ConfigDict(extra=schema.model_config.get("extra", "ignore")),
        **{name: (field.annotation, field) for name, field in schema.model_fields.items()},
    )
