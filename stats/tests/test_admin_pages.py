"""The back office: every page answers admins, keeps others out, and writes like the API."""

import html
import json
import re
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Album, Play, Song
from core.files.audio import AUDIO_NOT_READABLE
from messaging.models import Message
from stats import selectors
from tests.media_samples import png_bytes, stored_files, upload, wav_bytes
from users.models import User


@pytest.fixture
def catalog(make_album, make_song) -> dict:
    album = make_album("Kind of Blue", "Miles Davis", image=True)
    song = make_song("So What", "Miles Davis", album=album)
    return {"album": album, "song": song}


def page_urls(catalog: dict, user: User, message: Message) -> list[str]:
    song, album = catalog["song"], catalog["album"]
    return [
        reverse("admin:index"),
        reverse("admin:catalog_song_changelist"),
        reverse("admin:catalog_song_add"),
        reverse("admin:catalog_song_change", args=[song.pk]),
        reverse("admin:catalog_song_import"),
        reverse("admin:catalog_song_export"),
        reverse("admin:catalog_album_changelist"),
        reverse("admin:catalog_album_add"),
        reverse("admin:catalog_album_change", args=[album.pk]),
        reverse("admin:catalog_album_import"),
        reverse("admin:catalog_play_changelist"),
        reverse("admin:users_user_changelist"),
        reverse("admin:users_user_change", args=[user.pk]),
        reverse("admin:users_user_add"),
        reverse("admin:messaging_message_changelist"),
        reverse("admin:messaging_message_change", args=[message.pk]),
        reverse("admin:auth_group_changelist"),
        reverse("admin:token_blacklist_blacklistedtoken_changelist"),
    ]


@pytest.fixture
def message(user, make_user) -> Message:
    return Message.objects.create(sender=user, receiver=make_user(), content="See you at the gig")


def test_every_admin_page_answers_an_admin(staff_client: Client, catalog, user, message):
    for url in page_urls(catalog, user, message):
        response = staff_client.get(url)
        assert response.status_code == HTTPStatus.OK, url


def test_a_listener_is_sent_to_the_login_page(user, catalog, message):
    client = Client()
    client.force_login(user)

    for url in page_urls(catalog, user, message):
        response = client.get(url)
        assert response.status_code == HTTPStatus.FOUND, url
        assert response["Location"].startswith(reverse("admin:login")), url


def test_the_admin_email_account_reaches_the_admin(make_user, settings, catalog):
    settings.ADMIN_EMAIL = "boss@example.com"
    client = Client()
    client.force_login(make_user(email="boss@example.com"))

    assert client.get(reverse("admin:catalog_song_changelist")).status_code == HTTPStatus.OK
    assert client.get(reverse("admin:catalog_song_import")).status_code == HTTPStatus.OK


def test_the_admin_is_restyled(staff_client: Client, settings):
    settings.ENVIRONMENT_NAME = "Staging"

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "Music admin" in page
    assert "Staging" in page
    for group in ("Catalog", "People", "Chat", "Platform"):
        assert f">{group}<" in re.sub(r">\s+", ">", re.sub(r"\s+<", "<", page)), group


def test_the_dashboard_shows_totals_plays_top_songs_and_uploads(
    staff_client: Client, catalog, user
):
    song = catalog["song"]
    Play.objects.bulk_create(
        [
            Play(song=song, user=user, played_at=timezone.now() - timedelta(days=day))
            for day in (0, 1, 1)
        ]
    )
    Play.objects.create(song=song, user=user, played_at=timezone.now() - timedelta(days=40))

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert re.search(r'data-kpi="songs">1<', page)
    assert re.search(r'data-kpi="albums">1<', page)
    assert re.search(r'data-kpi="artists">1<', page)
    assert re.search(r'data-kpi="listeners">1<', page)  # the signed-in admin is not one
    assert "3 plays in 30 days" in page
    assert "Top 10 songs this week" in page
    assert "So What" in page
    assert 'data-type="bar"' in page


def test_listeners_are_active_accounts_other_than_admins(staff_client: Client, make_user, settings):
    settings.ADMIN_EMAIL = "boss@example.com"
    make_user()  # `staff_client` signs in as a superuser, who is not counted either
    make_user(email="boss@example.com")
    make_user(is_active=False)

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert re.search(r'data-kpi="listeners">1<', page)
    assert selectors.platform_totals().total_users == 3  # the stats API still counts all


def test_the_dashboard_counts_one_play_in_the_singular(staff_client: Client, catalog, user):
    Play.objects.create(song=catalog["song"], user=user)

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "1 play in 30 days" in page
    assert "1 plays" not in page


def test_the_plays_chart_asks_for_whole_number_ticks(staff_client: Client):
    page = staff_client.get(reverse("admin:index")).content.decode()

    options = json.loads(html.unescape(re.search(r'data-options="([^"]+)"', page).group(1)))
    assert options["scales"]["y"]["ticks"]["precision"] == 0


def test_the_user_menu_shows_the_admins_name(staff_client: Client, admin_user):
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert admin_user.get_full_name() == "Root Admin"
    assert "Root Admin" in page


def test_add_forms_have_no_dates_and_change_forms_do(staff_client: Client, catalog):
    for model, obj in (("song", catalog["song"]), ("album", catalog["album"])):
        added = staff_client.get(reverse(f"admin:catalog_{model}_add")).content.decode()
        changed = staff_client.get(
            reverse(f"admin:catalog_{model}_change", args=[obj.pk])
        ).content.decode()

        assert "Created at" not in added, model
        assert "Created at" in changed, model


def test_the_album_form_shows_its_image_once_and_songs_without_title_lines(
    staff_client: Client, catalog
):
    album = catalog["album"]

    page = staff_client.get(reverse("admin:catalog_album_change", args=[album.pk])).content.decode()

    assert page.count(f'<img src="{album.image.url}"') == 1  # the image field's preview
    assert "group/title" not in page  # Unfold's line above each inline row
    song_url = reverse("admin:catalog_song_change", args=[catalog["song"].pk])
    assert re.search(rf'<a [^>]*href="{song_url}">So What</a>', page)


def test_the_messages_pages_name_the_section_and_the_people(staff_client: Client, message: Message):
    listed = staff_client.get(reverse("admin:messaging_message_changelist")).content.decode()
    shown = staff_client.get(
        reverse("admin:messaging_message_change", args=[message.pk])
    ).content.decode()

    assert "Messaging" not in listed
    assert f"{message.sender.full_name} → {message.receiver.full_name}" in shown
    assert f"{message.sender_id} → " not in shown


def test_an_empty_message_list_says_where_messages_come_from(staff_client: Client, db):
    empty = staff_client.get(reverse("admin:messaging_message_changelist")).content.decode()
    searched = staff_client.get(
        reverse("admin:messaging_message_changelist"), {"q": "nothing"}
    ).content.decode()

    assert "No messages yet" in empty
    assert "Listeners send messages" in empty
    assert "yielded" not in empty
    assert "Add message" not in empty
    assert "No results found" in searched
    assert "Reset filters" in searched


def test_the_favicon_is_served_and_linked(staff_client: Client, client: Client):
    response = client.get("/favicon.ico")
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].endswith("core/favicon.svg")
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml"' in page


def test_the_song_list_shows_a_player_a_cover_and_m_ss(staff_client: Client, catalog):
    page = staff_client.get(reverse("admin:catalog_song_changelist")).content.decode()

    assert "<audio controls" in page
    assert f'src="/api/songs/{catalog["song"].pk}/stream/"' in page
    assert catalog["album"].image.url in page  # the song falls back to its album's cover
    assert "0:01" in page


def test_the_album_list_counts_songs(staff_client: Client, catalog, make_song):
    make_song("Freddie Freeloader", "Miles Davis", album=catalog["album"])

    page = staff_client.get(reverse("admin:catalog_album_changelist")).content.decode()

    assert re.search(r"<td[^>]*field-display_song_count[^>]*>\s*2\s*<", page)


def test_adding_a_song_reads_its_duration_and_renames_the_file(staff_client: Client, settings, db):
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {
            "title": "Tone",
            "artist_name": "Sine",
            "audio": upload("../../escape.mp3", wav_bytes(seconds=3)),
        },
    )

    assert response.status_code == HTTPStatus.FOUND
    song = Song.objects.get()
    assert song.duration == 3
    assert song.audio.name.startswith("songs/")
    assert song.audio.name.endswith(".wav")
    assert "escape" not in song.audio.name
    assert stored_files(settings) == [Path(settings.MEDIA_ROOT) / song.audio.name]


@pytest.mark.parametrize(
    ("field", "content"),
    [("audio", png_bytes()), ("audio", b""), ("image", b"plain text")],
)
def test_a_bad_upload_is_a_form_error_and_stores_nothing(
    staff_client: Client, settings, db, field, content
):
    files = {"audio": upload("a.mp3", wav_bytes()), field: upload("x.bin", content)}

    response = staff_client.post(
        reverse("admin:catalog_song_add"), {"title": "Bad", "artist_name": "Input", **files}
    )

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert field in errors
    if field == "audio" and content:
        assert errors["audio"] == [AUDIO_NOT_READABLE]
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_replacing_a_songs_audio_in_the_admin_deletes_the_old_file(
    staff_client: Client, catalog, settings, django_capture_on_commit_callbacks
):
    song = catalog["song"]
    old = Path(settings.MEDIA_ROOT) / song.audio.name

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_song_change", args=[song.pk]),
            {
                "title": song.title,
                "artist_name": song.artist_name,
                "album": song.album_id,
                "audio": upload("new.wav", wav_bytes(seconds=4)),
            },
        )

    assert response.status_code == HTTPStatus.FOUND
    song.refresh_from_db()
    assert song.duration == 4
    assert not old.exists()
    assert (Path(settings.MEDIA_ROOT) / song.audio.name).exists()


def test_deleting_an_album_in_the_admin_deletes_its_songs_and_files(
    staff_client: Client, catalog, settings, django_capture_on_commit_callbacks
):
    album = catalog["album"]

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            reverse("admin:catalog_album_delete", args=[album.pk]), {"post": "yes"}
        )

    assert response.status_code == HTTPStatus.FOUND
    assert not Album.objects.exists()
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_deactivating_users_spares_the_acting_admin(staff_client: Client, admin_user, make_user):
    listener = make_user()

    staff_client.post(
        reverse("admin:users_user_changelist"),
        {"action": "deactivate_users", "_selected_action": [listener.pk, admin_user.pk]},
    )

    listener.refresh_from_db()
    admin_user.refresh_from_db()
    assert listener.is_active is False
    assert admin_user.is_active is True


def test_messages_can_be_searched_and_deleted(staff_client: Client, message: Message, user):
    Message.objects.create(sender=message.receiver, receiver=user, content="Sure thing")

    found = staff_client.get(reverse("admin:messaging_message_changelist"), {"q": "gig"})
    staff_client.post(
        reverse("admin:messaging_message_changelist"),
        {"action": "delete_selected", "_selected_action": [message.pk], "post": "yes"},
    )

    assert found.context["cl"].result_count == 1
    assert list(Message.objects.values_list("content", flat=True)) == ["Sure thing"]


def test_plays_are_read_only(staff_client: Client, catalog, user):
    play = Play.objects.create(song=catalog["song"], user=user)

    assert staff_client.get(reverse("admin:catalog_play_add")).status_code == HTTPStatus.FORBIDDEN
    response = staff_client.post(
        reverse("admin:catalog_play_delete", args=[play.pk]), {"post": "yes"}
    )
    assert response.status_code == HTTPStatus.FORBIDDEN
    assert Play.objects.filter(pk=play.pk).exists()
