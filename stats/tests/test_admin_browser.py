"""A person's walk through the admin in headless Chromium (Debian's `chromium`).

Signs in, opens the dashboard, imports a songs CSV through the import pages and finds the
new songs in the list. Screenshots go to test-artifacts/admin/.
"""

from pathlib import Path

import pytest
from django.conf import settings as django_settings

from catalog.models import Album, Song
from catalog.tests.conftest import wav_bytes
from tests.helpers import BROWSER_TEST, DEFAULT_PASSWORD

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "admin"

pytestmark = BROWSER_TEST


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


@pytest.mark.django_db(transaction=True)
def test_an_admin_signs_in_and_imports_songs_from_csv(
    live_server, browser_page, admin_user, settings, tmp_path
):
    songs_folder = Path(settings.MEDIA_ROOT) / "songs"
    songs_folder.mkdir(parents=True)
    for name, seconds in (("sunrise.wav", 2), ("dusk.wav", 3)):
        (songs_folder / name).write_bytes(wav_bytes(seconds=seconds))
    Album.objects.create(title="Day Cycle", artist="The Oscillators", release_year=2024)
    csv_file = tmp_path / "songs.csv"
    csv_file.write_text(
        "title,artist,album,album_artist,audio_file\n"
        "Sunrise,The Oscillators,Day Cycle,,sunrise.wav\n"
        "Dusk,The Oscillators,Day Cycle,,songs/dusk.wav\n"
    )
    page = browser_page

    page.goto(f"{live_server.url}/admin/")
    page.fill("input[name=username]", admin_user.email)
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    shot(page, "1-login")
    page.click("button[type=submit]")
    page.wait_for_selector("#dashboard")
    assert page.locator('[data-kpi="albums"]').inner_text() == "1"
    assert page.locator("canvas.chart").count() == 1
    shot(page, "2-dashboard")

    page.goto(f"{live_server.url}/admin/catalog/song/import/")
    page.set_input_files("input[name=import_file]", str(csv_file))
    page.locator("form:has(input[name=import_file]) [type=submit]").click()
    page.wait_for_selector("input[name=import_file_name]", state="attached")
    assert "Sunrise" in page.content()
    shot(page, "3-preview")
    assert not Song.objects.exists()  # nothing is written before the confirmation

    page.locator("form:has(input[name=import_file_name]) [type=submit]").click()
    page.wait_for_url("**/admin/catalog/song/")
    listed = page.locator("#result_list").inner_text()
    assert "Sunrise" in listed
    assert "Dusk" in listed
    shot(page, "4-songs-listed")
    assert sorted(Song.objects.values_list("title", "duration")) == [("Dusk", 3), ("Sunrise", 2)]
