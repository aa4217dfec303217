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


OPTIONAL = "/api/songs/made-for-you/"


def padlock(page, method: str, path: str) -> str:
    """What the operation's padlock says: "locked" or "unlocked" (Swagger's aria-label)."""
    button = operation(page, method, path).locator(".opblock-summary .authorization__btn")
    return button.get_attribute("aria-label").removeprefix("authorization button ")


def authorize(page, access: str) -> None:
    page.locator(".swagger-ui .auth-wrapper button.authorize").click()
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.locator("#auth-bearer-value").fill(access)
    dialog.locator("button.authorize[type=submit]").click()
    dialog.locator("button.btn-done").click()


@pytest.mark.django_db(transaction=True)
def test_optional_sign_in_shows_an_open_padlock_until_authorized(
    live_server, browser_page, make_user
):
    """GET /api/songs/made-for-you/ answers everyone and reads a token when one is sent: its
    padlock is open like a protected operation's until Authorize, then closed."""
    access = str(RefreshToken.for_user(make_user()).access_token)
    page = browser_page
    errors = collect_browser_errors(page)
    schema = open_docs(page, live_server.url)
    assert {} in schema["paths"][OPTIONAL]["get"]["security"]

    assert padlock(page, "get", OPTIONAL) == "unlocked"
    assert padlock(page, "get", ME) == "unlocked"
    assert padlock(page, "get", "/api/search/") == "unlocked"
    # An operation anyone may call with no token to read has no padlock at all.
    assert operation(page, "get", "/api/songs/").locator(".authorization__btn").count() == 0
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    operation(page, "get", OPTIONAL).screenshot(path=str(ARTIFACTS / "padlock-open.png"))

    authorize(page, access)

    assert padlock(page, "get", OPTIONAL) == "locked"
    assert padlock(page, "get", ME) == "locked"
    operation(page, "get", OPTIONAL).screenshot(path=str(ARTIFACTS / "padlock-closed.png"))
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_the_padlock_check_sees_swagger_close_it_without_the_plugin(live_server, browser_page):
    """Django-ninja's own start script (no plugin): the padlock of optional sign-in shows
    "locked" before anyone authorized, the old bug the test above must notice."""
    page = browser_page
    ninja_init = page.request.get(f"{live_server.url}/static/ninja/swagger-ui-init.js").text()
    page.route(
        "**/static/core/swagger-ui-init.js",
        lambda route: route.fulfill(
            status=200, content_type="application/javascript", body=ninja_init
        ),
    )
    open_docs(page, live_server.url)

    assert padlock(page, "get", OPTIONAL) == "locked"
    assert padlock(page, "get", ME) == "unlocked"


@pytest.mark.django_db(transaction=True)
def test_parameters_show_one_type_and_bodies_show_real_examples(live_server, browser_page):
    page = browser_page
    open_docs(page, live_server.url)

    songs = operation(page, "get", "/api/songs/")
    songs.locator(".opblock-summary-control").click()
    types = {
        row.get_attribute("data-param-name"): row.locator(".parameter__type").inner_text()
        for row in songs.locator(".parameters tbody tr[data-param-name]").all()
    }
    assert types["album_id"] == "integer"
    assert types["search"] == "string"
    assert types["offset"] == "integer"
    assert types["cursor"] == "string"
    assert [name for name, shown in types.items() if "null" in shown or "|" in shown] == []
    songs.screenshot(path=str(ARTIFACTS / "songs-parameters.png"))

    def example_of(method: str, path: str) -> dict:
        block = operation(page, method, path)
        block.locator(".opblock-summary-control").click()
        media = block.locator(".opblock-section-request-body select.content-type")
        if media.count():  # multipart first: its JSON twin shows the example
            media.select_option("application/json")
        body = block.locator(".opblock-section-request-body .highlight-code").first
        return json.loads(body.inner_text())

    assert example_of("post", "/api/auth/login/") == {
        "email": "ada@example.com",
        "password": "Blue-Train-1957",
    }
    registration = example_of("post", "/api/auth/registration/")
    assert registration["full_name"] == "Ada Lovelace"
    assert example_of("post", "/api/messages/") == {
        "receiver_id": 7,
        "content": "See you at the gig tonight?",
    }
    assert example_of("post", "/api/playlists/")["name"] == "Late Night"
    assert example_of("put", "/api/songs/{song_id}/") == {
        "title": "So What",
        "artist": "Miles Davis",
        "album_id": 5,
        "genre": "Jazz",
        "year": 1959,
        "track_number": 1,
        "disc_number": 1,
    }
    # The success response of the login: tokens and a user, no "string" anywhere.
    login = operation(page, "post", "/api/auth/login/")
    response = login.locator('.responses-table tr.response[data-code="200"] .highlight-code')
    answer = response.first.inner_text()
    assert '"ada@example.com"' in answer
    assert '"string"' not in answer
    login.screenshot(path=str(ARTIFACTS / "login-examples.png"))
    every_example = " ".join(page.locator(".swagger-ui .highlight-code").all_inner_texts())
    assert '"string"' not in every_example
