"""Domain errors carry no HTTP: the API's one handler gives each kind its status and body, and
no service or selector reaches for HTTP itself."""

import ast
import inspect
import json
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import RequestFactory

from config.api import DOMAIN_ERROR_STATUSES, handle_domain_error
from core import errors
from core.controller_base import Controller
from core.errors import (
    NOT_FOUND,
    Conflict,
    DomainError,
    Invalid,
    NotAuthenticated,
    NotFound,
    PermissionDenied,
    Throttled,
    TooLarge,
    Unavailable,
    error_item,
)
from core.permissions import ADMIN_REQUIRED, IsAdmin

REPO = Path(__file__).resolve().parents[2]
SENTENCE = "A sentence for the caller."

# Each kind as docs/API.md gives its status, with the body the client reads.
DOCUMENTED = [
    (NotAuthenticated(SENTENCE), HTTPStatus.UNAUTHORIZED, {"detail": SENTENCE}),
    (PermissionDenied(SENTENCE), HTTPStatus.FORBIDDEN, {"detail": SENTENCE}),
    (NotFound(SENTENCE), HTTPStatus.NOT_FOUND, {"detail": SENTENCE}),
    (NotFound(), HTTPStatus.NOT_FOUND, {"detail": NOT_FOUND}),
    (Conflict(SENTENCE), HTTPStatus.CONFLICT, {"detail": SENTENCE}),
    (TooLarge(SENTENCE), HTTPStatus.REQUEST_ENTITY_TOO_LARGE, {"detail": SENTENCE}),
    (Throttled(SENTENCE, retry_after=7), HTTPStatus.TOO_MANY_REQUESTS, {"detail": SENTENCE}),
    (Unavailable(SENTENCE, retry_after=7), HTTPStatus.SERVICE_UNAVAILABLE, {"detail": SENTENCE}),
    (
        Invalid("password1", "Too short.", "Too common."),
        HTTPStatus.UNPROCESSABLE_ENTITY,
        {
            "detail": [
                {"loc": ["body", "password1"], "msg": "Too short.", "type": "value_error"},
                {"loc": ["body", "password1"], "msg": "Too common.", "type": "value_error"},
            ]
        },
    ),
    (
        Invalid("position", SENTENCE, location="path"),
        HTTPStatus.UNPROCESSABLE_ENTITY,
        {"detail": [{"loc": ["path", "position"], "msg": SENTENCE, "type": "value_error"}]},
    ),
    (
        Invalid.of_items(error_item(("body",), SENTENCE), error_item(("body", "to"), "Past.")),
        HTTPStatus.UNPROCESSABLE_ENTITY,
        {
            "detail": [
                {"loc": ["body"], "msg": SENTENCE, "type": "value_error"},
                {"loc": ["body", "to"], "msg": "Past.", "type": "value_error"},
            ]
        },
    ),
]


@pytest.mark.parametrize(
    ("error", "status", "body"), DOCUMENTED, ids=lambda value: type(value).__name__
)
def test_each_domain_error_answers_its_documented_status_and_body(error, status, body):
    response = handle_domain_error(RequestFactory().get("/api/songs/"), error)

    assert response.status_code == status
    assert json.loads(response.content) == body
    retry = isinstance(error, Throttled | Unavailable)
    assert response.get("Retry-After") == ("7" if retry else None)


def test_every_domain_error_kind_has_a_status_and_a_documented_case():
    kinds = {
        kind
        for _, kind in inspect.getmembers(errors, inspect.isclass)
        if issubclass(kind, DomainError) and kind is not DomainError
    }

    assert set(DOMAIN_ERROR_STATUSES) == kinds
    assert {type(error) for error, _, _ in DOCUMENTED} == kinds


def test_a_refused_route_permission_raises_the_domain_permission_denied():
    # The one way a 403 is raised: not ninja-extra's own PermissionDenied.
    with pytest.raises(PermissionDenied) as refused:
        Controller.permission_denied(IsAdmin())

    assert refused.value.detail == ADMIN_REQUIRED


def _domain_modules() -> list[Path]:
    """Every services.py and selectors.py of the project's apps (or such packages), and
    the search engine's modules (search.py)."""
    found = []
    for path in REPO.rglob("*.py"):
        relative = path.relative_to(REPO)
        # The apps' code only: bench/ and scripts/ are clients of the HTTP API, not its domain.
        is_app = len(relative.parts) > 1 and (REPO / relative.parts[0] / "apps.py").exists()
        if not is_app or "node_modules" in relative.parts:
            continue
        named = {relative.name, *(f"{part}.py" for part in relative.parts)}
        if {"services.py", "selectors.py", "search.py"} & named:
            found.append(path)
    return found


def _http_imports(path: Path, root: Path = REPO) -> list[str]:
    """The imports in `path` that bring ninja, ninja-extra or HTTPStatus into a module."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            plain_http = isinstance(node, ast.Import) and top == "http"  # then http.HTTPStatus
            if top in {"ninja", "ninja_extra"} or name == "http.HTTPStatus" or plain_http:
                found.append(f"{path.relative_to(root)}:{node.lineno} imports {name}")
    return found


def test_services_and_selectors_import_nothing_of_http():
    modules = _domain_modules()
    assert {"users/services.py", "catalog/selectors/songs.py", "library/services.py"} <= {
        str(path.relative_to(REPO)) for path in modules
    }

    # Raise a domain error from core/errors.py; core/api.py gives it its status.
    assert [found for path in modules for found in _http_imports(path)] == []


def test_the_http_import_scan_sees_what_it_forbids(tmp_path):
    module = tmp_path / "services.py"
    module.write_text(
        "from http import HTTPStatus\nimport ninja.errors\nfrom ninja_extra import x\nimport http\n"
    )

    assert [line.split(" imports ")[1] for line in _http_imports(module, tmp_path)] == [
        "http.HTTPStatus",
        "ninja.errors",
        "ninja_extra",
        "ninja_extra.x",
        "http",
    ]
