"""One text rule for the API, the admin and the CSV import (core/text.py): invisible and
direction-changing characters are refused, named by their code point; scripts and emoji,
with the joiners they need, are kept."""

import re
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse

from catalog.models import Song
from core.text import INVISIBLE_CHARACTER, clean_text, invisible_character_message, text_pattern
from library.models import Playlist
from messaging.models import Message
from tests.helpers import DEFAULT_PASSWORD
from tests.media_samples import stored_files, upload, wav_bytes
from users.models import User

RLO = "\u202e"  # right-to-left override
ZWSP = "\u200b"  # zero-width space
LRI = "\u2066"  # left-to-right isolate
REFUSED = [
    "\u061c",
    "\u180e",
    "\u200b",
    "\u200e",
    "\u200f",
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",
    "\u2060",
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufeff",
]
PERSIAN = "می\u200cخواهم"  # noqa: RUF001 - Persian letters, not look-alikes of Latin ones
ENGLAND = "🏴\U000e0067\U000e0062\U000e0065\U000e006e\U000e0067\U000e007f"
SPOOFS = {
    "RLO": f"Invoice {RLO}fdp.exe",
    "ZWSP": f"Ada{ZWSP}Lovelace",
    "LRI": f"{LRI}Ada Lovelace",
}
KEPT = {
    "Arabic": "أغنية الصباح",
    "Hebrew": "שיר של בוקר",
    "Hindi": "सुबह का गीत",
    "Persian with ZWNJ": PERSIAN,
    "emoji ZWJ sequence, flag, skin tone": "Family 👩\u200d👩\u200d👧 🇫🇷 👋🏽",
    "England's flag (tag characters)": ENGLAND,
}
SPOOF_MESSAGES = {
    name: invisible_character_message(next(c for c in text if c in REFUSED))
    for name, text in SPOOFS.items()
}


@pytest.mark.parametrize("character", REFUSED)
def test_every_invisible_or_direction_changing_character_is_refused_by_its_code_point(character):
    with pytest.raises(ValueError, match=re.escape(f"U+{ord(character):04X}")):
        clean_text(f"a{character}b")
    with pytest.raises(ValueError, match=re.escape(f"U+{ord(character):04X}")):
        clean_text(f"line one\n{character}", multiline=True)
    assert not re.match(text_pattern(max_length=200), f"a{character}b")
    assert not re.match(text_pattern(max_length=200, multiline=True), f"a\n{character}b")


def test_the_sentence_names_the_character():
    assert invisible_character_message(RLO) == INVISIBLE_CHARACTER.format(
        code_point="U+202E", name="RIGHT-TO-LEFT OVERRIDE"
    )


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
def test_scripts_and_emoji_are_kept_as_they_are(text):
    assert clean_text(f"  {text}  ") == text
    assert re.match(text_pattern(max_length=200), text)


# --- The API --------------------------------------------------------------------------


def register(client: Client, full_name: str):
    return client.post(
        "/api/auth/registration/",
        {
            "email": "new@example.com",
            "password1": "Lyric-Bassline-42",
            "password2": "Lyric-Bassline-42",
            "full_name": full_name,
        },
        content_type="application/json",
    )


@pytest.mark.parametrize("name", SPOOFS)
def test_registration_refuses_a_spoofing_full_name(client: Client, db, name):
    response = register(client, SPOOFS[name])

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    [error] = response.json()["detail"]
    assert (error["loc"][-1], error["msg"]) == ("full_name", SPOOF_MESSAGES[name])
    assert not User.objects.exists()


@pytest.mark.parametrize("text", KEPT.values(), ids=KEPT.keys())
def test_registration_keeps_scripts_and_emoji(client: Client, db, text):
    response = register(client, text)

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["user"]["full_name"] == text
    assert User.objects.get().full_name == text


@pytest.mark.parametrize("name", SPOOFS)
def test_the_songs_api_refuses_a_spoofing_title_and_stores_nothing(
    admin_client: Client, settings, name
):
    response = admin_client.post(
        "/api/songs/",
        {"title": SPOOFS[name], "artist": "A", "audio_file": upload("a.wav", wav_bytes())},
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert [(e["loc"][-1], e["msg"]) for e in response.json()["detail"]] == [
        ("title", SPOOF_MESSAGES[name])
    ]
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_the_songs_api_keeps_a_title_in_any_script(admin_client: Client):
    titles = list(KEPT.values())
    for title in titles:
        response = admin_client.post(
            "/api/songs/",
            {"title": title, "artist": title, "audio_file": upload("a.wav", wav_bytes())},
        )
        assert response.status_code == HTTPStatus.CREATED, response.content
    assert sorted(Song.objects.values_list("title", flat=True)) == sorted(titles)


@pytest.mark.parametrize("name", SPOOFS)
def test_playlists_refuse_a_spoofing_name(auth_client: Client, name):
    response = auth_client.post(
        "/api/playlists/", {"name": SPOOFS[name]}, content_type="application/json"
    )

    assert response.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert response.json()["detail"][0]["msg"] == SPOOF_MESSAGES[name]
    assert not Playlist.objects.exists()


def test_playlists_keep_a_name_in_any_script(auth_client: Client):
    for text in KEPT.values():
        response = auth_client.post(
            "/api/playlists/", {"name": text}, content_type="application/json"
        )
        assert response.status_code == HTTPStatus.CREATED
        assert response.json()["name"] == text


def test_messages_and_search_terms_follow_the_same_rule(auth_client: Client, make_user):
    receiver = make_user()

    message = auth_client.post(
        "/api/messages/",
        {"receiver_id": receiver.pk, "content": f"see\tthe\nfile {RLO}fdp.exe"},
        content_type="application/json",
    )
    search = auth_client.get("/api/search/", {"q": f"Ada{ZWSP}"})

    assert message.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert message.json()["detail"][0]["msg"] == invisible_character_message(RLO)
    assert not Message.objects.exists()
    assert search.status_code == HTTPStatus.UNPROCESSABLE_ENTITY
    assert search.json()["detail"][0]["msg"] == invisible_character_message(ZWSP)


# --- The admin ------------------------------------------------------------------------


def form_errors(response) -> str:
    assert response.status_code == HTTPStatus.OK  # the form again, not a redirect
    return response.content.decode()


@pytest.mark.parametrize("name", SPOOFS)
def test_the_admin_refuses_a_spoofing_song_title(staff_client: Client, settings, name):
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {"title": SPOOFS[name], "artist_name": "A", "audio": upload("a.wav", wav_bytes())},
    )

    assert SPOOF_MESSAGES[name] in form_errors(response)
    assert not Song.objects.exists()
    assert stored_files(settings) == []


def test_the_admin_keeps_a_song_title_in_any_script(staff_client: Client):
    title = " ".join(KEPT.values())
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {"title": title, "artist_name": "A", "audio": upload("a.wav", wav_bytes())},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert Song.objects.get().title == title


def test_the_admin_refuses_control_characters_in_a_title(staff_client: Client):
    response = staff_client.post(
        reverse("admin:catalog_song_add"),
        {"title": "Two\u0007Bells", "artist_name": "A", "audio": upload("a.wav", wav_bytes())},
    )

    assert "This field may not contain control characters." in form_errors(response)
    assert not Song.objects.exists()


def test_the_admin_refuses_a_spoofing_full_name_for_a_new_user(staff_client: Client):
    response = staff_client.post(
        reverse("admin:users_user_add"),
        {
            "email": "new@example.com",
            "full_name": SPOOFS["RLO"],
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
        },
    )

    assert SPOOF_MESSAGES["RLO"] in form_errors(response)
    assert not User.objects.filter(email="new@example.com").exists()


def test_the_admin_refuses_a_spoofing_playlist_name(staff_client: Client, user):
    playlist = Playlist.objects.create(owner=user, name="Mornings")

    response = staff_client.post(
        reverse("admin:library_playlist_change", args=[playlist.pk]),
        {
            "name": SPOOFS["LRI"],
            "is_public": "",
            "items-TOTAL_FORMS": "0",
            "items-INITIAL_FORMS": "0",
        },
    )

    assert SPOOF_MESSAGES["LRI"] in form_errors(response)
    playlist.refresh_from_db()
    assert playlist.name == "Mornings"
