from http import HTTPStatus

from django.test import Client
from django.urls import reverse

from library import services
from library.models import Playlist
from library.smart_schemas import SmartRules


def test_the_changelist_shows_playlists_with_owner_visibility_and_song_count(
    staff_client: Client, user, make_playlist, make_song
):
    song = make_song()
    make_playlist(user, "Road Trip", songs=[song, song, song], is_public=True)
    make_playlist(user, "Secret Mix")

    response = staff_client.get(reverse("admin:library_playlist_changelist"))

    page = response.content.decode()
    assert response.status_code == HTTPStatus.OK
    assert "Road Trip" in page
    assert "Secret Mix" in page
    assert user.email in page
    assert "Public" in page
    assert "Private" in page
    assert response.context["cl"].result_count == 2
    counts = {row.name: row.song_count for row in response.context["cl"].result_list}
    assert counts == {"Road Trip": 3, "Secret Mix": 0}


def test_the_changelist_filters_by_visibility_and_searches_owner_emails(
    staff_client: Client, user, make_user, make_playlist
):
    make_playlist(user, "Mine", is_public=True)
    make_playlist(make_user(email="bo@example.com"), "Bo's", is_public=False)
    url = reverse("admin:library_playlist_changelist")

    public = staff_client.get(url, {"is_public__exact": "1"})
    searched = staff_client.get(url, {"q": "bo@example"})

    assert [p.name for p in public.context["cl"].result_list] == ["Mine"]
    assert [p.name for p in searched.context["cl"].result_list] == ["Bo's"]


def test_the_change_page_shows_the_items_read_only_and_saves_name_and_visibility(
    staff_client: Client, user, make_playlist, make_song
):
    songs = [make_song("Alpha"), make_song("Beta")]
    playlist = make_playlist(user, songs=songs)
    url = reverse("admin:library_playlist_change", args=[playlist.pk])

    page = staff_client.get(url)
    saved = staff_client.post(
        url,
        {
            "name": "Renamed",
            "is_public": "on",
            "items-TOTAL_FORMS": "2",
            "items-INITIAL_FORMS": "2",
            "items-MIN_NUM_FORMS": "0",
            "items-MAX_NUM_FORMS": "1000",
        },
    )

    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    assert "Alpha" in content
    assert "Beta" in content
    assert saved.status_code == HTTPStatus.FOUND, saved.context and saved.context.get("errors")
    playlist.refresh_from_db()
    assert (playlist.name, playlist.is_public) == ("Renamed", True)
    assert list(playlist.items.values_list("song", flat=True)) == [s.pk for s in songs]


def test_admins_cannot_add_playlists_but_can_delete_them(staff_client: Client, user, make_playlist):
    playlist = make_playlist(user)

    add = staff_client.get(reverse("admin:library_playlist_add"))
    delete = staff_client.post(
        reverse("admin:library_playlist_delete", args=[playlist.pk]), {"post": "yes"}
    )

    assert add.status_code == HTTPStatus.FORBIDDEN
    assert delete.status_code == HTTPStatus.FOUND
    assert not Playlist.objects.exists()


def test_a_smart_playlist_shows_its_rules_and_no_items_and_saves_its_name(
    staff_client: Client, user
):
    rules = SmartRules.model_validate(
        {"match": "all", "rules": [{"field": "genre", "operator": "is", "value": "Bebop"}]}
    )
    playlist = services.playlist_create(owner=user, name="Smart", rules=rules)
    url = reverse("admin:library_playlist_change", args=[playlist.pk])

    page = staff_client.get(url)
    saved = staff_client.post(url, {"name": "Renamed"})

    assert page.status_code == HTTPStatus.OK
    content = page.content.decode()
    assert "Smart" in content
    assert "&quot;Bebop&quot;" in content
    assert "items-TOTAL_FORMS" not in content
    assert saved.status_code == HTTPStatus.FOUND, saved.context and saved.context.get("errors")
    playlist.refresh_from_db()
    assert (playlist.name, playlist.rules["rules"][0]["value"]) == ("Renamed", "Bebop")
