"""The admin's folder import in headless Chromium: a folder typed in the form becomes a run
whose page follows the job to done with its counts; a bad folder is refused on the form."""

from pathlib import Path

import pytest

from catalog.models import FolderImportRun, Song
from tests.admin_pages import shot, sign_in
from tests.helpers import BROWSER_TEST
from tests.media_samples import wav_bytes

pytestmark = BROWSER_TEST

ADD_PAGE = "/admin/catalog/folderimportrun/add/"


@pytest.mark.django_db(transaction=True)
def test_a_folder_import_from_the_form_reaches_done_with_its_counts(
    live_server, browser_page, admin_user, settings
):
    # The job runs in this process, after commit, on either database: the live server is a
    # thread here, with no job worker beside it.
    settings.JOBS_BACKEND = "in_process"
    music = Path(settings.MEDIA_ROOT) / "music" / "album"
    music.mkdir(parents=True)
    for number in range(3):
        (music / f"track {number}.wav").write_bytes(wav_bytes(1.0 + number))
    (music / "cover.txt").write_text("not audio")
    page = browser_page
    sign_in(page, live_server.url, admin_user)

    page.goto(f"{live_server.url}{ADD_PAGE}")
    assert page.locator("button[name=_continue], button[name=_addanother]").count() == 0
    page.fill("input[name=folder]", "../music")
    page.locator("button[type=submit][name=_save]").click()
    page.wait_for_selector(".errorlist, .text-red-600")
    shot(page, "folder-import-refused")
    assert "cannot hold '.' or '..' parts" in page.content()
    assert not FolderImportRun.objects.exists()

    page.fill("input[name=folder]", "music")
    page.locator("button[type=submit][name=_save]").click()
    # The run's page reloads itself until the job is done.
    page.wait_for_selector(".folder-import[data-state=done]", timeout=60_000)
    shot(page, "folder-import-done")

    progress = page.locator(".folder-import-progress").inner_text()
    assert "Done: 4 of 4 files" in progress
    assert "3 added, 0 updated, 0 unchanged, 1 skipped, 0 failed." in progress
    assert "music/album/cover.txt" in page.locator(".folder-import-problems-table").inner_text()
    assert sorted(Song.objects.values_list("title", flat=True)) == [
        "track 0",
        "track 1",
        "track 2",
    ]
