"""Swagger UI at /api/docs, rendered by headless Chromium (Debian's `chromium`).

Python tests once passed while no browser could show the docs: the schema repeated a key
("413" twice) and Swagger UI printed "Parser error: duplicated mapping key" and "Unable to
render this definition". Here a real browser loads the page, every operation of the schema
must render without an error, and one protected operation runs through Authorize and
"Try it out" with a real access token. The screenshot goes to test-artifacts/swagger/.
"""

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from ninja_jwt.tokens import RefreshToken

from tests.helpers import BROWSER_TEST

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "swagger"
HTTP_METHODS = {"get", "put", "post", "delete", "options", "head", "patch", "trace"}
ME = "/api/auth/user/"

pytestmark = BROWSER_TEST


def collect_browser_errors(page) -> list[str]:
    """A list that fills with the page's console errors and uncaught exceptions."""
    errors: list[str] = []

    def on_console(message) -> None:
        # Chromium asks for /favicon.ico on its own; the docs page links ninja's favicons,
        # but a 404 for the browser's guess would say nothing about Swagger UI.
        if message.type == "error" and "favicon" not in message.location.get("url", ""):
            errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"pageerror: {error}"))
    return errors


def open_docs(page, base_url: str) -> dict:
    """Load /api/docs until Swagger UI has rendered; the schema the page itself fetched."""
    with page.expect_response(lambda response: response.url.endswith("/api/openapi.json")) as got:
        page.goto(f"{base_url}/api/docs")
    assert got.value.status == 200
    schema = got.value.json()
    # Either the operations or Swagger's error box, whichever the schema leads to.
    page.wait_for_selector(".swagger-ui .opblock, .swagger-ui .errors-wrapper")
    page.wait_for_load_state("networkidle")
    return schema


def rendering_problems(page) -> list[str]:
    """What Swagger UI shows when it cannot use the schema (empty when it rendered)."""
    problems = []
    if page.locator(".swagger-ui .errors-wrapper").count():
        problems.append(page.locator(".swagger-ui .errors-wrapper").inner_text())
    text = page.locator("#swagger-ui").inner_text()
    problems += [
        phrase for phrase in ("Unable to render this definition", "Parser error") if phrase in text
    ]
    return problems


def operation(page, method: str, path: str):
    """The operation's block (its first, should it be listed under more than one tag)."""
    return page.locator(
        f'.opblock-{method}:has(> .opblock-summary .opblock-summary-path[data-path="{path}"])'
    ).first


@pytest.mark.django_db(transaction=True)
def test_swagger_ui_renders_every_operation_and_runs_one_with_a_token(
    live_server, browser_page, make_user
):
    from playwright.sync_api import expect

    user = make_user(full_name="Swagger Reader")
    access = str(RefreshToken.for_user(user).access_token)
    page = browser_page
    errors = collect_browser_errors(page)

    schema = open_docs(page, live_server.url)

    assert rendering_problems(page) == []
    # Swagger UI lists an operation once under each of its tags ("default" when it has none).
    expected = Counter(
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method, op in item.items()
        if method in HTTP_METHODS
        for _tag in op.get("tags") or ["default"]
    )
    shown = Counter(
        tuple(pair)
        for pair in page.eval_on_selector_all(
            ".swagger-ui .opblock",
            """blocks => blocks.map(block => [
                block.querySelector('.opblock-summary-method').textContent.trim(),
                block.querySelector('.opblock-summary-path').dataset.path,
            ])""",
        )
    )
    assert page.locator(".swagger-ui .opblock").count() == expected.total()
    assert shown == expected
    assert errors == []

    # Without authorizing, the protected operation answers 401 on the page.
    me = operation(page, "get", ME)
    me.locator(".opblock-summary-control").click()
    me.locator("button.try-out__btn").click()
    me.locator("button.execute").click()
    live = me.locator(".live-responses-table tbody tr.response").first
    expect(live.locator(".response-col_status")).to_have_text("401")
    # Chromium logs every 4xx fetch as a console error; this one was asked for.
    assert len(errors) == 1
    assert "401" in errors[0]
    assert ME in errors[0]
    errors.clear()

    # Authorize with the bearer token, then run the same operation again.
    page.locator(".swagger-ui .auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("#auth-bearer-value").fill(access)
    dialog.locator("button.authorize[type=submit]").click()
    page.wait_for_timeout(500)
    # Swagger accepted the value: the field turns into "Authorized" and a Logout button.
    expect(dialog.locator("h6")).to_have_text("Authorized")
    expect(dialog.get_by_role("button", name="Remove authorization")).to_be_visible()
    dialog.locator("button.btn-done").click()
    expect(dialog).to_have_count(0)
    expect(page.locator(".swagger-ui .auth-wrapper button.authorize")).to_have_class(
        re.compile(r"\blocked\b")
    )

    me.locator("button.execute").click()
    expect(live.locator(".response-col_status")).to_have_text("200")
    assert f"Authorization: Bearer {access}" in me.locator(".curl-command").inner_text()
    body = json.loads(live.locator(".highlight-code pre").inner_text())
    assert body["email"] == user.email
    assert body["full_name"] == "Swagger Reader"
    assert rendering_problems(page) == []
    assert errors == []

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "docs.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_the_check_sees_swagger_refuse_a_duplicated_key(live_server, browser_page):
    """The old bug, replayed: the checks above must notice it (else they prove nothing)."""
    page = browser_page

    def duplicated_413(route) -> None:
        original = route.fetch().text()
        broken = original.replace('"responses": {', '"responses": {"413": {}, "413": {}, ', 1)
        route.fulfill(status=200, content_type="application/json", body=broken)

    page.route("**/api/openapi.json", duplicated_413)
    open_docs(page, live_server.url)

    problems = rendering_problems(page)
    assert "duplicated mapping key" in problems[0]  # the text of Swagger's error box
    assert "Unable to render this definition" in problems
