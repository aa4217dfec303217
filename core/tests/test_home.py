"""GET / : a small page naming the server's parts, in place of Django's debug 404."""

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.test import Client

from tests.helpers import BROWSER_TEST

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "home"
LINKS = {
    "API docs": "/api/docs",
    "OpenAPI schema": "/api/openapi.json",
    "Admin": "/admin/",
    "Health check": "/api/health/",
}


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_the_home_page_answers_in_every_mode(client: Client, db, settings, debug):
    settings.DEBUG = debug

    response = client.get("/")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/html; charset=utf-8"
    page = response.content.decode()
    assert "<title>Music streaming API</title>" in page
    for name, url in LINKS.items():
        assert re.search(rf'<a href="{re.escape(url)}">{name}</a>', page), name
    assert "Page not found" not in page


@pytest.mark.parametrize("debug", [True, False], ids=["debug", "production"])
def test_head_of_the_home_page_is_a_200_without_a_body(client: Client, db, settings, debug):
    settings.DEBUG = debug

    response = client.head("/")

    assert response.status_code == HTTPStatus.OK
    assert response.content == b""


def test_the_home_page_is_read_only(client: Client, db):
    assert client.post("/").status_code == HTTPStatus.METHOD_NOT_ALLOWED


@pytest.mark.django_db(transaction=True)
@BROWSER_TEST[0]
@BROWSER_TEST[1]
def test_a_person_sees_the_links_and_each_leads_to_a_page(live_server, browser_page):
    page = browser_page

    response = page.goto(f"{live_server.url}/")

    assert response.status == HTTPStatus.OK
    assert page.locator("h1").inner_text() == "Music streaming API"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "home.png"), full_page=True)
    for name, url in LINKS.items():
        link = page.get_by_role("link", name=name, exact=True)
        assert link.is_visible(), name
        box = link.bounding_box()
        assert box["width"] > 20, name
        assert box["height"] > 10, name
        with page.expect_navigation() as navigation:
            link.click()
        # The admin sends a stranger on to its sign-in page, which answers 200 too.
        landed = navigation.value
        assert landed.status == HTTPStatus.OK, (name, page.url)
        assert page.url.startswith(f"{live_server.url}{url}"), (name, page.url)
        page.go_back()
