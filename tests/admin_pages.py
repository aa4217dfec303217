"""Steps through the admin's pages: the CSV import's preview and confirm with the test client,
and the same in headless Chromium (sign in, preview, screenshots)."""

import html
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
    "Lyrics",
    "Audio file",
    "Duration",
    "Uploaded as",
]


def preview(client: Client, model: str, csv_text: str):
    """Step one: upload the CSV (the page answers at once with its run's page), run the
    preview job here, and return the run's page: the rows previewed or their errors. A
    refused file returns the import form with its error."""
    from catalog import csv_import
    from catalog.models import ImportRun

    upload = SimpleUploadedFile(f"{model}.csv", csv_text.encode(), "text/csv")
    response = client.post(
        reverse(f"admin:catalog_{model}_import"),
        {"import_file": upload, "format": "0", "resource": "0"},
    )
    if response.status_code != HTTPStatus.FOUND:
        return response
    run = ImportRun.objects.latest("pk")
    csv_import.preview(run.pk)
    return client.get(response["Location"])


def confirm(client: Client, model: str, preview_response) -> None:
    """Step two: press the run page's "Confirm import", and run the import job here."""
    from catalog import csv_import

    page = preview_response.content.decode()
    action = re.search(r'action="([^"]*/confirm/)"', page)
    assert action, page[:2000]
    response = client.post(action.group(1))
    assert response.status_code == HTTPStatus.FOUND, response.content.decode()[:2000]
    run_id = int(action.group(1).rstrip("/").split("/")[-2])
    csv_import.run_import(run_id)


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
    # The upload answers with its run's page, which reloads itself until the preview job
    # has listed the rows or their errors.
    page.wait_for_selector(".import-preview, .import-preview-table", timeout=30_000)


def page_text(response) -> str:
    """The page as a person reads it: tags dropped, entities decoded, spaces folded."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", response.content.decode()))
    return re.sub(r"\s+", " ", text)


def export_csv(client: Client, model: str) -> bytes:
    """The admin's export of every row, as the file an admin downloads."""
    response = client.post(reverse(f"admin:catalog_{model}_export"), {"format": "0"})
    assert response.status_code == HTTPStatus.OK
    return response.content
