"""Steps through the admin's pages: the CSV import's preview and confirm with the test client,
and the same in headless Chromium (sign in, preview, screenshots)."""

import re
from http import HTTPStatus
from pathlib import Path

from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from tests.helpers import DEFAULT_PASSWORD

# Screenshots of the browser tests.
ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "admin"
# The song import preview's column headings: words, not the CSV's snake_case names.
SONG_PREVIEW_HEADINGS = [
    "Title",
    "Artist",
    "Album",
    "Album artist",
    "Genre",
    "Year",
    "Track number",
    "Disc number",
    "Audio file",
    "Duration",
    "Uploaded as",
]


def preview(client: Client, model: str, csv_text: str):
    """Step one: upload the CSV; the page previews the rows or lists their errors."""
    upload = SimpleUploadedFile(f"{model}.csv", csv_text.encode(), "text/csv")
    return client.post(
        reverse(f"admin:catalog_{model}_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )


def confirm(client: Client, model: str, preview_response) -> None:
    """Step two: confirm the previewed import with the hidden fields of the preview page."""
    page = preview_response.content.decode()
    fields = dict(re.findall(r'name="(\w+)" value="([^"]*)"', page))
    response = client.post(
        reverse(f"admin:catalog_{model}_process_import"),
        {
            name: fields[name]
            for name in ("import_file_name", "original_file_name", "format", "resource")
        },
    )
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def sign_in(page, base_url: str, user) -> None:
    page.goto(f"{base_url}/admin/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    shot(page, "01-login")
    page.click("button[type=submit]")
    page.wait_for_selector("#dashboard")


def preview_csv(page, base_url: str, csv_file: Path) -> None:
    """Upload a CSV on the songs' import page: the preview, or the rows' errors, follows."""
    page.goto(f"{base_url}/admin/catalog/song/import/")
    page.set_input_files("input[name=import_file]", str(csv_file))
    page.locator("form:has(input[name=import_file]) [type=submit]").click()
    page.wait_for_selector(".import-preview, .import-preview-table")
