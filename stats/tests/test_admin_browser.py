"""A person's walk through the admin in headless Chromium (Debian's `chromium`).

Signs in, reads the dashboard, imports a songs CSV through the import pages (a bad file
first, then a good one, then an update) and visits the pages an admin works in, checking
what a person sees there. Screenshots go to test-artifacts/admin/.
"""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from catalog import services
from catalog.audio import STORED_FILE_MISSING
from catalog.models import Album, Like, Play, Song
from library import services as playlist_services
from messaging.models import Message
from tests.admin_pages import preview_csv, shot, sign_in
from tests.helpers import BROWSER_TEST, DEFAULT_PASSWORD, credited
from tests.media_samples import png_bytes, upload, wav_bytes
from users.forms import ADMIN_INVALID_LOGIN

SONG_HEADER = "title,artist,album,album_artist,audio_file\n"

pytestmark = BROWSER_TEST


def header_title(page) -> str:
    """The breadcrumb at the top of the page, as one line."""
    return re.sub(r"\s+", " ", page.locator("#header-inner h1").inner_text()).strip()


def breadcrumb(page) -> list[str]:
    """The breadcrumb's parts (the chevrons between them are icon ligatures)."""
    return header_title(page).split(" chevron_right ")


SHORT_DATE = re.compile(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}")


@pytest.mark.django_db(transaction=True)
def test_an_admin_reads_the_dashboard_and_imports_songs_from_csv(
    live_server, browser_page, admin_user, make_user, settings, tmp_path
):
    # The import's jobs run in this process, after commit, on either database: the live
    # server is a thread here, with no job worker beside it.
    settings.JOBS_BACKEND = "in_process"
    songs_folder = Path(settings.MEDIA_ROOT) / "songs"
    songs_folder.mkdir(parents=True)
    audio = (("warm-up.wav", 2), ("sunrise.wav", 2), ("dusk.wav", 3), ("sunrise-long.wav", 5))
    for name, seconds in audio:
        (songs_folder / name).write_bytes(wav_bytes(seconds=seconds))
    Album.objects.create(title="Day Cycle", **credited("The Oscillators"), release_year=2024)
    page = browser_page

    sign_in(page, live_server.url, admin_user)

    # The dashboard, with no plays yet and no listener but the admin (who is not one).
    assert page.locator('[data-kpi="albums"]').inner_text() == "1"
    assert page.locator('[data-kpi="listeners"]').inner_text() == "0"
    assert page.locator("canvas.chart").count() == 1
    # The user menu names the admin, and the email once beneath.
    menu = page.locator("div[x-data*=openUserLinks]").first.inner_text()
    assert "Root Admin" in menu
    assert menu.count(admin_user.email) == 1
    # Each KPI icon sits inside its card (Unfold's own card icon hung over the left edge).
    for icon in page.locator("#dashboard .kpi-icon").all():
        card = icon.locator("xpath=ancestor::div[contains(@class, 'rounded-default')][1]")
        assert icon.bounding_box()["x"] >= card.bounding_box()["x"]

    # One play: Chart.js would mark 0.1 … 0.9 on the y axis of a count that is 0 or 1.
    song = Song.objects.create(
        title="Warm Up", **credited("The Oscillators"), duration=2, audio="songs/warm-up.wav"
    )
    Play.objects.create(song=song, user=make_user(full_name="Lee Listener"))
    page.reload()
    page.wait_for_selector("#dashboard")
    assert page.locator("[data-plays-total]").inner_text() == "1 play in 30 days"
    assert page.locator('[data-kpi="listeners"]').inner_text() == "1"
    ticks = page.evaluate(
        """() => Chart.getChart(document.querySelector('canvas.chart'))
                .scales.y.ticks.map(tick => String(tick.label))"""
    )
    assert ticks, "the y axis has ticks"
    assert all(re.fullmatch(r"\d+", tick) for tick in ticks), ticks
    assert "1" in ticks
    shot(page, "02-dashboard")
    Song.objects.all().delete()

    # The import page lists the columns it reads: not `duration`, read from the file.
    page.goto(f"{live_server.url}/admin/catalog/song/import/")
    form_text = page.locator("#content").inner_text()
    assert "This importer will import the following fields" in form_text
    assert (
        "title, artist, album, album_artist, genre, year, track_number, disc_number, lyrics, "
        "audio_file" in form_text
    )
    assert "duration" not in form_text
    assert header_title(page).endswith("Import")
    shot(page, "03-import-form")

    # A row naming a file that is not in storage: its one error, under its column's name.
    bad_csv = tmp_path / "bad.csv"
    bad_csv.write_text(
        SONG_HEADER
        + "Sunrise,The Oscillators,Day Cycle,,sunrise.wav\n"
        + "Ghost,The Oscillators,,,ghost.wav\n"
    )
    preview_csv(page, live_server.url, bad_csv)
    errors = page.locator(".import-preview tbody").first.inner_text()
    assert STORED_FILE_MISSING.format(name="songs/ghost.wav") in errors
    assert "audio_file:" in errors
    assert "audio:" not in errors
    assert "duration" not in errors
    assert "cannot be null" not in page.content()
    assert page.locator("button[name=confirm]").count() == 0  # nothing to confirm
    shot(page, "04-import-bad-row")

    # A good file: previewed, confirmed, listed.
    good_csv = tmp_path / "songs.csv"
    good_csv.write_text(
        SONG_HEADER
        + "Sunrise,The Oscillators,Day Cycle,,sunrise.wav\n"
        + "Dusk,The Oscillators,Day Cycle,,songs/dusk.wav\n"
    )
    preview_csv(page, live_server.url, good_csv)
    page.wait_for_selector("button[name=confirm]")
    assert "Sunrise" in page.locator(".import-preview-table").inner_text()
    shot(page, "05-import-preview")
    assert not Song.objects.exists()  # nothing is written before the confirmation
    page.locator("button[name=confirm]").click()
    # The run's page follows the import job (it reloads itself) until it is done.
    page.wait_for_selector(".import-run[data-state=done]", timeout=30_000)
    assert "2 of 2 rows imported" in page.locator(".import-run-progress").inner_text()
    page.locator("a.import-run-done").click()
    page.wait_for_url("**/admin/catalog/song/")
    listed = page.locator("#result_list").inner_text()
    assert "Sunrise" in listed
    assert "Dusk" in listed
    shot(page, "06-songs-listed")
    assert sorted(Song.objects.values_list("title", "duration")) == [("Dusk", 3), ("Sunrise", 2)]

    # An update: each changed value reads "old → new", not a run of merged digits.
    update_csv = tmp_path / "update.csv"
    update_csv.write_text(SONG_HEADER + "Sunrise,The Oscillators,Day Cycle,,sunrise-long.wav\n")
    preview_csv(page, live_server.url, update_csv)
    row = page.locator(".import-preview-table tbody tr").first.inner_text()
    assert "songs/sunrise.wav → songs/sunrise-long.wav" in row
    assert "2 → 5" in row
    assert "25" not in row
    shot(page, "07-import-update-preview")


@pytest.mark.django_db(transaction=True)
def test_the_pages_an_admin_works_in_look_finished(
    live_server, browser_page, admin_user, make_user, make_song
):
    album = services.album_create(
        title="Kind of Blue",
        artist="Miles Davis",
        release_year=1959,
        image_file=upload("cover.png", png_bytes((240, 240), "teal")),
    )
    song = make_song("So What", "Miles Davis", album=album)
    make_song("Blue in Green", "Miles Davis", album=album)
    page = browser_page
    favicon_requests: list[int] = []
    page.on(
        "response",
        lambda response: "favicon" in response.url and favicon_requests.append(response.status),
    )
    sign_in(page, live_server.url, admin_user)

    # The favicon: linked from every admin page, and /favicon.ico answers too.
    assert page.request.get(f"{live_server.url}/favicon.ico").status == 200
    icon = page.locator("link[rel=icon]").get_attribute("href")
    assert page.request.get(f"{live_server.url}{icon}").status == 200
    assert 404 not in favicon_requests

    # The songs list: each date on one line.
    page.goto(f"{live_server.url}{reverse('admin:catalog_song_changelist')}")
    for cell in page.locator("#result_list td.field-display_created").all():
        lines = cell.evaluate("cell => cell.firstElementChild.getClientRects().length")
        assert lines == 1
    shot(page, "10-songs-list")

    # The list's "+" button adds a song.
    assert page.locator("a.addlink").count() == 1

    # Adding a song: nothing about dates before there is a song; the breadcrumb says where
    # you are (Unfold stopped at "Songs", as on the list), and no "+" leads to this very page.
    page.goto(f"{live_server.url}{reverse('admin:catalog_song_add')}")
    assert "Created at" not in page.locator("#content").inner_text()
    assert breadcrumb(page) == ["Catalog", "Songs", "Add song"]
    assert page.locator("a.addlink").count() == 0
    shot(page, "11-song-add")

    page.goto(f"{live_server.url}{reverse('admin:catalog_album_add')}")
    assert "Created at" not in page.locator("#content").inner_text()
    assert breadcrumb(page) == ["Catalog", "Albums", "Add album"]
    # A change page keeps the object's name last, and its "+".
    page.goto(f"{live_server.url}{reverse('admin:catalog_song_change', args=[song.pk])}")
    assert breadcrumb(page) == ["Catalog", "Songs", str(song)]
    assert page.locator("a.addlink").count() == 1

    # An album: its image once, its songs one row each with the title as the link.
    page.goto(f"{live_server.url}{reverse('admin:catalog_album_change', args=[album.pk])}")
    assert page.locator(f'#content img[src="{album.image.url}"]').count() == 1
    assert page.locator("#content").get_by_text("Cover", exact=True).count() == 0
    songs = page.locator(".inline-group, [id$=-group]").filter(has_text="So What").first
    assert songs.get_by_text("So What (Miles Davis)").count() == 0  # no title line above
    link = songs.get_by_role("link", name="So What", exact=True)
    assert link.get_attribute("href") == reverse("admin:catalog_song_change", args=[song.pk])
    shot(page, "12-album-change")

    # Messages: the section is "Chat" as in the sidebar (not "Messages" twice), and
    # people are named.
    messages_url = f"{live_server.url}{reverse('admin:messaging_message_changelist')}"
    page.goto(messages_url)
    assert breadcrumb(page) == ["Chat", "Messages"]
    sidebar = page.locator("#nav-sidebar, nav, aside").first.inner_text()
    assert "Chat" in sidebar
    assert "No messages yet" in page.locator("#content").inner_text()
    assert "yielded" not in page.content()
    shot(page, "13-messages-empty")

    ada, bo = make_user(full_name="Ada Lovelace"), make_user(full_name="Bo Diddley")
    message = Message.objects.create(sender=ada, receiver=bo, content="See you at the gig")
    page.goto(f"{live_server.url}{reverse('admin:messaging_message_change', args=[message.pk])}")
    title = header_title(page)
    assert breadcrumb(page)[:2] == ["Chat", "Messages"]
    assert "Ada Lovelace → Bo Diddley" in title
    assert f"{ada.pk} → {bo.pk}" not in title
    shot(page, "14-message")
    page.goto(messages_url)
    assert "Ada Lovelace" in page.locator("#result_list").inner_text()
    shot(page, "15-messages-list")
    assert 404 not in favicon_requests


@pytest.mark.django_db(transaction=True)
def test_the_library_pages_render_for_an_admin(
    live_server, browser_page, admin_user, make_user, make_song
):
    """Artists (counts, merge), songs' likes, playlists with their items, and the dashboard's
    most liked songs, as an admin sees them."""
    listener = make_user(full_name="Lee Listener")
    so_what = make_song("So What", "Miles Davis")
    make_song("Blue in Green", "MILES DAVIS")
    duplicate = make_song("Freddie", "Miles Davies")  # a typo: a second artist
    Like.objects.create(user=listener, song=so_what)
    Like.objects.create(user=make_user(), song=so_what)
    playlist = playlist_services.playlist_create(owner=listener, name="Late Night", is_public=True)
    for song in (so_what, duplicate):
        playlist_services.playlist_item_add(playlist_id=playlist.pk, user=listener, song_id=song.pk)
    page = browser_page
    sign_in(page, live_server.url, admin_user)

    # The dashboard: this week's likes, most liked first.
    card = page.locator("[data-most-liked]")
    assert card.locator("tbody tr").first.inner_text().split("\t")[:4] == [
        "1",
        "So What",
        "Miles Davis",
        "2",
    ]
    assert page.locator("nav, aside").get_by_role("link", name="Artists").count() >= 1
    shot(page, "20-dashboard-most-liked")

    # Artists with their counts; the typo merged into the artist with the most songs.
    page.goto(f"{live_server.url}{reverse('admin:catalog_artist_changelist')}")
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    davis_row = rows.filter(has_text="Miles Davis").first
    assert davis_row.locator("td.field-display_song_count").inner_text() == "2"
    shot(page, "21-artists")
    for row in rows.all():
        row.locator("input.action-select").check()
    page.select_option("select[name=action]", "merge_artists")
    page.locator(
        "button[name=index], button[type=submit][title], #changelist-actions button"
    ).first.click()
    page.wait_for_selector("#result_list")
    assert "Merged 2 artists into Miles Davis." in page.locator("body").inner_text()
    assert page.locator("#result_list tbody tr").count() == 1
    shot(page, "22-artists-merged")

    # Songs: a likes column, and the artist as a link to the artist's page.
    page.goto(f"{live_server.url}{reverse('admin:catalog_song_changelist')}")
    so_what_row = page.locator("#result_list tbody tr").filter(has_text="So What").first
    assert so_what_row.locator("td.field-display_likes").inner_text() == "2"
    link = so_what_row.locator("td.field-display_artist a")
    assert link.get_attribute("href") == reverse(
        "admin:catalog_artist_change", args=[so_what.artist_id]
    )

    # A playlist: owner, visibility and its songs in order, read only.
    page.goto(f"{live_server.url}{reverse('admin:library_playlist_changelist')}")
    assert "Late Night" in page.locator("#result_list").inner_text()
    assert "Lee Listener" in page.locator("#result_list").inner_text()
    page.goto(f"{live_server.url}{reverse('admin:library_playlist_change', args=[playlist.pk])}")
    items = page.locator("#content").inner_text()
    assert items.index("So What") < items.index("Freddie")
    # Positions are stored from 0 (as the API counts); a person reads them from 1.
    rows = page.locator("tr.form-row, tbody tr").filter(
        has=page.get_by_role("link", name="So What")
    )
    assert rows.first.locator("td").first.inner_text().strip() == "1"
    freddie = page.locator("tr.form-row, tbody tr").filter(
        has=page.get_by_role("link", name="Freddie")
    )
    assert freddie.first.locator("td").first.inner_text().strip() == "2"
    assert page.locator("th").filter(has_text=re.compile(r"^\s*#\s*$")).count() == 1
    added = freddie.first.locator("td.field-display_added").inner_text().strip()
    assert SHORT_DATE.fullmatch(added), added
    shot(page, "23-playlist")


@pytest.mark.django_db(transaction=True)
def test_the_users_list_reads_like_the_other_lists(
    live_server, browser_page, admin_user, make_user
):
    make_user(full_name="Lee Listener", is_active=False)
    page = browser_page
    sign_in(page, live_server.url, admin_user)

    page.goto(f"{live_server.url}{reverse('admin:users_user_changelist')}")

    # Each header's first line: a sorted column adds its sort icons' ligatures below.
    headers = [
        text.strip().splitlines()[0]
        for text in page.locator("#result_list thead th").all_inner_texts()
        if text.strip()
    ]
    assert headers == ["Email", "Full name", "Role", "Active", "Joined"]
    joined = page.locator("#result_list td.field-display_joined").all()
    assert len(joined) == 2
    for cell in joined:
        assert SHORT_DATE.fullmatch(cell.inner_text().strip()), cell.inner_text()
        assert cell.evaluate("cell => cell.firstElementChild.getClientRects().length") == 1
    lee = page.locator("#result_list tbody tr").filter(has_text="Lee Listener")
    # Inactive: Unfold's boolean icon, not the text "False".
    assert "False" not in lee.inner_text()
    shot(page, "16-users-list")


@pytest.mark.django_db(transaction=True)
def test_a_refused_admin_sign_in_shows_one_banner(live_server, browser_page, admin_user):
    page = browser_page
    page.goto(f"{live_server.url}/admin/")
    # Another case than the stored address: emails are compared ignoring case.
    page.fill("input[name=username]", admin_user.email.upper())
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector(".errornote")

    banners = page.locator(".errornote")
    assert banners.count() == 1
    assert banners.first.inner_text().strip() == ADMIN_INVALID_LOGIN
    text = page.locator("body").inner_text()
    assert "case-sensitive" not in text
    assert "Please correct" not in text
    shot(page, "00-login-refused")

    # The right password with the address in capitals signs in.
    page.fill("input[name=username]", admin_user.email.upper())
    page.fill("input[name=password]", DEFAULT_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("#dashboard")
