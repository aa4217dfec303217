"""The back office as a whole and its dashboard: every page answers admins and keeps others
out, the restyling, the dashboard's figures. Each model's pages are tested beside its app."""

import html
import json
import re
from datetime import timedelta
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from catalog.models import Play
from messaging.models import Message
from stats import selectors
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
        reverse("admin:axes_accessattempt_changelist"),
        reverse("admin:axes_accesslog_changelist"),
        reverse("admin:core_jobfailure_changelist"),
        # The job queue's own page is PostgreSQL's (docs/JOBS.md).
        *(
            [reverse("admin:procrastinate_procrastinatejob_changelist")]
            if django_settings.JOBS_BACKEND == "procrastinate"
            else []
        ),
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


def test_the_top_songs_rank_songs_played_as_often_as_trending_does(
    staff_client: Client, make_song, user
):
    songs = [make_song(f"Tie {number}", "Even Keel") for number in range(4)]
    plays = {songs[1]: 3, songs[0]: 2, songs[2]: 2, songs[3]: 2}
    Play.objects.bulk_create(
        Play(song=song, user=user) for song, times in plays.items() for _ in range(times)
    )

    top = selectors.top_songs(days=7, limit=10)
    page = staff_client.get(reverse("admin:index")).content.decode()

    # The most played, then those played as often: the newest first (not by title).
    expected = ["Tie 1", "Tie 3", "Tie 2", "Tie 0"]
    assert [(song.title, song.plays_count) for song in top] == [
        ("Tie 1", 3),
        ("Tie 3", 2),
        ("Tie 2", 2),
        ("Tie 0", 2),
    ]
    card = page[page.index("Top 10 songs this week") : page.index("Most liked this week")]
    assert sorted(expected, key=card.index) == expected


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


def test_the_favicon_is_served_and_linked(staff_client: Client, client: Client):
    response = client.get("/favicon.ico")
    page = staff_client.get(reverse("admin:index")).content.decode()

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"].endswith("core/favicon.svg")
    assert '<link rel="icon" href="/favicon.ico" type="image/svg+xml"' in page
