"""The import preview in headless Chromium: it fits a 1400-pixel window and reads as words."""

import re
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from catalog import services
from tests.admin_pages import SONG_PREVIEW_HEADINGS, preview_csv, shot, sign_in
from tests.helpers import BROWSER_TEST
from tests.media_samples import wav_bytes

pytestmark = BROWSER_TEST

LONG = "An Extraordinarily Long Title For A Song That Goes On And On Without Stopping"


def horizontal_overflow(page) -> dict[str, int]:
    """How far the page and the preview's table reach past what the window shows."""
    return page.evaluate(
        """() => {
            const table = document.querySelector('.import-preview-table, .import-preview');
            const box = table.parentElement;
            return {
                page: document.documentElement.scrollWidth - window.innerWidth,
                table: table.getBoundingClientRect().right - box.getBoundingClientRect().right,
            };
        }"""
    )


@pytest.mark.django_db(transaction=True)
def test_the_song_import_preview_fits_the_window_and_heads_columns_in_words(
    live_server, browser_page, admin_user, settings, tmp_path
):
    # The import's jobs run in this process, after commit, on either database: the live
    # server is a thread here, with no job worker beside it.
    settings.JOBS_BACKEND = "in_process"
    album = services.album_create(title=f"{LONG} (Deluxe Edition)", artist=f"{LONG} Band")
    for index in range(3):
        services.song_create(
            title=f"{LONG} {index}",
            artist=f"{LONG} Orchestra",
            album_id=album.pk,
            audio_file=SimpleUploadedFile(f"{LONG.replace(' ', '_')}_{index}.wav", wav_bytes()),
        )
    client = Client()
    client.force_login(admin_user)
    exported = client.post(reverse("admin:catalog_song_export"), {"format": "0"}).content
    # An update beside the unchanged rows: a renamed file shows "old → new" in its cell.
    rows = exported.decode().splitlines()
    stored = rows[1].split(",")[rows[0].split(",").index("audio_file")]
    renamed = (
        Path(settings.MEDIA_ROOT) / "songs" / f"{'renamed_' * 11}.wav"
    )  # 98 characters with songs/
    renamed.write_bytes(wav_bytes(seconds=2))
    rows[1] = rows[1].replace(stored, f"songs/{renamed.name}")
    csv_file = tmp_path / "songs.csv"
    csv_file.write_text("\n".join(rows) + "\n")
    page = browser_page
    sign_in(page, live_server.url, admin_user)

    preview_csv(page, live_server.url, csv_file)
    shot(page, "import-preview-round-trip")

    headings = [
        re.sub(r"\s+", " ", text).strip()
        for text in page.locator(".import-preview-table thead th").all_inner_texts()
    ]
    assert headings == ["", *SONG_PREVIEW_HEADINGS]
    overflow = horizontal_overflow(page)
    assert overflow["page"] <= 0, overflow
    assert overflow["table"] <= 0, overflow
    assert page.locator(".import-preview-table tbody tr").count() == 3
    assert page.locator(".import-preview-table tbody tr.skip").count() == 2
    assert "→" in page.locator(".import-preview-table tbody tr.update").inner_text()
