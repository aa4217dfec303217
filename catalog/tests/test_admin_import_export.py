"""CSV bulk loading through the admin pages: preview, confirm, all-or-nothing, safe export."""

import re
from http import HTTPStatus
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from tablib import Dataset

from catalog import services
from catalog.audio import STORED_FILE_MISSING, verify_audio
from catalog.demo import DEMO_ALBUMS, DEMO_SINGLES, SAMPLE_IMPORT_AUDIO
from catalog.models import Album, Artist, Lyrics, Song
from catalog.resources import (
    ALBUM_NOT_FOUND,
    NOT_A_WHOLE_NUMBER,
    STORED_NAME_TOO_LONG,
    AlbumResource,
    SongResource,
    escape_formula,
    unescape_formula,
)
from core.text import CONTROL_CHARACTERS, invisible_character_message
from tests.admin_pages import SONG_PREVIEW_HEADINGS, confirm, export_csv, page_text, preview
from tests.helpers import credited
from tests.media_samples import png_bytes, wav_bytes

PERSIAN = "می\u200cخواهم"  # noqa: RUF001 - Persian letters, not look-alikes of Latin ones
ALBUM_HEADER = "title,artist,release_year\n"
# The columns a song CSV had before genres, years and track numbers: such files still import.
SONG_HEADER = "title,artist,album,album_artist,audio_file\n"
SONG_EXPORT_HEADER = (
    "title,artist,album,album_artist,genre,year,track_number,disc_number,lyrics,audio_file,"
    "duration,audio_original_name"
)


def test_a_valid_album_csv_previews_then_creates_its_rows(staff_client: Client):
    csv_text = ALBUM_HEADER + "Kind of Blue,Miles Davis,1959\nPastel Blues,Nina Simone,\n"

    previewed = preview(staff_client, "album", csv_text)

    assert previewed.status_code == HTTPStatus.OK
    assert "Kind of Blue" in previewed.content.decode()
    assert not Album.objects.exists()  # the preview writes nothing
    assert not Artist.objects.exists()
    confirm(staff_client, "album", previewed)
    assert sorted(Album.objects.values_list("title", "artist_name", "release_year")) == [
        ("Kind of Blue", "Miles Davis", 1959),
        ("Pastel Blues", "Nina Simone", None),
    ]


def test_albums_match_on_title_and_artist(staff_client: Client):
    Album.objects.create(title="Kind of Blue", **credited("Miles Davis"), release_year=1958)

    confirm(
        staff_client,
        "album",
        preview(staff_client, "album", ALBUM_HEADER + "Kind of Blue,Miles Davis,1959\n"),
    )

    assert list(Album.objects.values_list("title", "release_year")) == [("Kind of Blue", 1959)]


def test_a_valid_song_csv_creates_songs_with_durations_read_from_their_files(
    staff_client: Client, songs_in_storage
):
    album = Album.objects.create(title="Tones", **credited("The Oscillators"))
    csv_text = SONG_HEADER + (
        "Intro,The Oscillators,Tones,,track0.wav\n"
        "Guest Spot,Bass Theory,Tones,The Oscillators,songs/track1.wav\n"
        "Single,Solo Act,,,track2.wav\n"
    )

    confirm(staff_client, "song", preview(staff_client, "song", csv_text))

    songs = {song.title: song for song in Song.objects.select_related("album")}
    assert set(songs) == {"Intro", "Guest Spot", "Single"}
    assert songs["Intro"].album == album
    assert songs["Guest Spot"].album == album
    assert songs["Single"].album is None
    assert songs["Intro"].audio.name == "songs/track0.wav"
    assert [songs[title].duration for title in ("Intro", "Guest Spot", "Single")] == [2, 3, 4]


def test_a_song_csv_links_each_row_to_its_artist_ignoring_case_and_accents(
    staff_client: Client, songs_in_storage
):
    known = services.artist_named("Beyoncé")
    album = Album.objects.create(title="Tones", **credited("The Oscillators"))
    csv_text = SONG_HEADER + (
        "Halo,BEYONCE,,,track0.wav\n"
        "Intro,the oscillators,Tones,,track1.wav\n"  # the album found ignoring case too
        "Single,Someone New,,,track2.wav\n"
    )

    previewed = preview(staff_client, "song", csv_text)
    assert list(Artist.objects.order_by("pk")) == [known, album.artist]  # the preview makes none
    confirm(staff_client, "song", previewed)

    songs = {song.title: song for song in Song.objects.select_related("artist")}
    assert (songs["Halo"].artist, songs["Halo"].artist_name) == (known, "BEYONCE")
    assert (songs["Intro"].artist, songs["Intro"].album) == (album.artist, album)
    assert songs["Single"].artist.name == "Someone New"
    assert Artist.objects.count() == 3


def test_a_row_with_an_artist_name_too_long_is_refused_under_its_column(
    staff_client: Client, songs_in_storage
):
    previewed = preview(staff_client, "song", SONG_HEADER + f"Long,{'x' * 201},,,track0.wav\n")

    text = page_text(previewed)
    assert "artist: Ensure this value has at most 200 characters (it has 201)." in text
    assert "artist_name" not in text
    assert not Song.objects.exists()
    assert not Artist.objects.exists()


@pytest.mark.parametrize(
    ("bad_row", "message"),
    [
        (
            "Lost,The Oscillators,No Such Album,,track1.wav",
            ALBUM_NOT_FOUND.format(title="No Such Album", artist="The Oscillators"),
        ),
        (
            "Ghost,The Oscillators,,,missing.wav",
            STORED_FILE_MISSING.format(name="songs/missing.wav"),
        ),
        ("Picture,The Oscillators,,,cover.png", "not audio"),
        ("Escape,The Oscillators,,,../../etc/passwd", "not a plain path"),
    ],
)
def test_one_bad_song_row_imports_nothing_and_names_the_row(
    staff_client: Client, songs_in_storage, bad_row, message
):
    csv_text = SONG_HEADER + "Fine,The Oscillators,,,track0.wav\n" + bad_row + "\n"

    previewed = preview(staff_client, "song", csv_text)

    assert previewed.status_code == HTTPStatus.OK
    assert "process_import" not in previewed.content.decode()  # nothing to confirm
    # The error, then the row's number (2: the header is not counted) and its cells.
    title = bad_row.split(",")[0]
    assert re.search(rf"{re.escape(message)}.*? 2 {title} ", page_text(previewed)), "names row 2"
    assert not Song.objects.exists()


def test_a_missing_audio_file_is_the_rows_only_error_named_by_its_column(
    staff_client: Client, songs_in_storage
):
    previewed = preview(staff_client, "song", SONG_HEADER + "Ghost,The Oscillators,,,gone.wav\n")

    text = page_text(previewed)
    missing = STORED_FILE_MISSING.format(name="songs/gone.wav")
    assert re.search(rf"audio_file: {re.escape(missing)} 1 Ghost ", text)
    assert "duration:" not in text
    assert "This field cannot be null" not in text
    assert "audio:" not in text


def test_the_import_page_lists_the_columns_it_reads_and_the_export_page_all(
    staff_client: Client,
):
    imported = page_text(staff_client.get(reverse("admin:catalog_song_import")))
    exported = page_text(staff_client.get(reverse("admin:catalog_song_export")))

    assert (
        "import the following fields: title, artist, album, album_artist, genre, year, "
        "track_number, disc_number, lyrics, audio_file "
    ) in imported
    assert "duration" not in imported
    assert (
        "title, artist, album, album_artist, genre, year, track_number, disc_number, lyrics, "
        "audio_file, duration"
    ) in exported


def test_the_import_pages_breadcrumb_ends_with_import(staff_client: Client):
    page = staff_client.get(reverse("admin:catalog_song_import")).content.decode()

    assert re.search(r"data-breadcrumb-last>\s*Import\s*<", page)


def test_an_update_previews_each_changed_value_as_old_to_new(
    staff_client: Client, songs_in_storage
):
    confirm(
        staff_client,
        "song",
        preview(staff_client, "song", SONG_HEADER + "Intro,The Oscillators,,,track0.wav\n"),
    )

    previewed = preview(staff_client, "song", SONG_HEADER + "Intro,The Oscillators,,,track2.wav\n")

    text = page_text(previewed)
    assert "songs/track0.wav → songs/track2.wav" in text
    assert "2 → 4" in text  # the duration, read from each file: not "24"


def test_a_non_numeric_year_imports_no_album(staff_client: Client):
    csv_text = ALBUM_HEADER + "Good,Band,2001\nBad,Band,twenty\n"

    previewed = preview(staff_client, "album", csv_text)

    assert "process_import" not in previewed.content.decode()
    message = NOT_A_WHOLE_NUMBER.format(value="twenty")
    assert re.search(rf"release_year: {re.escape(message)} 2 Bad Band twenty", page_text(previewed))
    assert not Album.objects.exists()


# The song columns of genres, years and track numbers, as an export writes them.
FULL_SONG_HEADER = (
    "title,artist,album,album_artist,genre,year,track_number,disc_number,audio_file\n"
)


def test_a_song_csv_sets_genre_year_and_numbers_in_the_catalogs_spelling(
    staff_client: Client, songs_in_storage
):
    Album.objects.create(title="Tones", **credited("The Oscillators"), genre="Ambient")
    csv_text = FULL_SONG_HEADER + (
        "Intro,The Oscillators,Tones,,AMBIENT,2021,1,1,track0.wav\n"
        "Outro,The Oscillators,Tones,, ambient ,,2,,track1.wav\n"
        "Single,Solo Act,,,,1999,,,track2.wav\n"
    )

    confirm(staff_client, "song", preview(staff_client, "song", csv_text))

    assert sorted(
        Song.objects.values_list("title", "genre", "year", "track_number", "disc_number")
    ) == [
        ("Intro", "Ambient", 2021, 1, 1),
        ("Outro", "Ambient", None, 2, None),
        ("Single", None, 1999, None, None),
    ]


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ("Jazz,999,1,1", "year"),
        ("Jazz,2101,1,1", "year"),
        ("Jazz,1959,0,1", "track_number"),
        ("Jazz,1959,1,1000", "disc_number"),
        ("Jazz,1959,one,1", "track_number"),
        (f"{'x' * 101},1959,1,1", "genre"),
        ("Jazz\u202e,1959,1,1", "genre"),
    ],
)
def test_a_bad_genre_year_or_number_is_the_rows_error_and_nothing_is_imported(
    staff_client: Client, songs_in_storage, cells, column
):
    csv_text = FULL_SONG_HEADER + (
        "Fine,Someone,,,Jazz,1959,1,1,track1.wav\n" + f"Bad,Someone,,,{cells},track0.wav\n"
    )

    previewed = preview(staff_client, "song", csv_text)

    assert "process_import" not in previewed.content.decode()
    assert re.search(rf"{column}: [^ ].* 2 Bad Someone", page_text(previewed))
    assert not Song.objects.exists()


def test_a_csv_without_the_new_columns_leaves_genre_year_and_numbers_alone(
    staff_client: Client, songs_in_storage
):
    confirm(
        staff_client,
        "song",
        preview(
            staff_client,
            "song",
            FULL_SONG_HEADER + "Intro,The Oscillators,,,Ambient,2021,3,1,track0.wav\n",
        ),
    )

    confirm(
        staff_client,
        "song",
        preview(staff_client, "song", SONG_HEADER + "Intro,The Oscillators,,,track1.wav\n"),
    )

    song = Song.objects.get()
    assert song.audio.name == "songs/track1.wav"  # the row did update the song
    assert (song.genre, song.year, song.track_number, song.disc_number) == ("Ambient", 2021, 3, 1)


def test_an_album_csv_takes_a_genre(staff_client: Client):
    Song.objects.create(
        title="Elsewhere", **credited("X"), duration=1, audio="songs/x.wav", genre="Modal jazz"
    )
    csv_text = "title,artist,release_year,genre\nKind of Blue,Miles Davis,1959,modal JAZZ\n"

    confirm(staff_client, "album", preview(staff_client, "album", csv_text))

    assert list(Album.objects.values_list("title", "release_year", "genre")) == [
        ("Kind of Blue", 1959, "Modal jazz")
    ]


def test_export_escapes_formula_like_cells(staff_client: Client, songs_in_storage):
    Song.objects.create(
        title='=HYPERLINK("http://evil.example","click")',
        **credited("+Plus"),
        duration=2,
        audio="songs/track0.wav",
    )

    response = staff_client.post(
        reverse("admin:catalog_song_export"), {"format": "0", "resource": "0"}
    )

    assert response.status_code == HTTPStatus.OK
    body = response.content.decode()
    assert body.splitlines()[0] == (SONG_EXPORT_HEADER)
    assert "'=HYPERLINK" in body
    assert "'+Plus" in body
    assert "\n=HYPERLINK" not in body


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"])
def test_escape_formula_prefixes_every_dangerous_start(cell):
    assert escape_formula(cell) == f"'{cell}"


def test_escape_formula_leaves_plain_values():
    assert [escape_formula(value) for value in ("Miles", 1959, None, "")] == [
        "Miles",
        1959,
        None,
        "",
    ]


def test_the_song_resource_exports_album_artist_and_duration(db, songs_in_storage):
    album = Album.objects.create(title="Tones", **credited("The Oscillators"))
    Song.objects.create(
        title="Intro",
        **credited("Guest"),
        album=album,
        duration=2,
        audio="songs/track0.wav",
        audio_original_name="Intro (final mix).wav",
    )

    dataset = SongResource().export()

    assert dataset.dict == [
        {
            "title": "Intro",
            "artist": "Guest",
            "album": "Tones",
            "album_artist": "The Oscillators",
            "genre": "",
            "year": "",
            "track_number": "",
            "disc_number": "",
            "lyrics": "",
            "audio_file": "songs/track0.wav",
            "duration": "2",
            "audio_original_name": "Intro (final mix).wav",
        }
    ]


def test_listeners_and_staff_without_the_codes_cannot_import_or_export(make_user):
    staff = make_user(is_staff=True)
    client = Client()
    client.force_login(staff)

    for name in (
        "admin:catalog_song_import",
        "admin:catalog_song_export",
        "admin:catalog_album_import",
    ):
        assert client.get(reverse(name)).status_code == HTTPStatus.FORBIDDEN


def test_the_sample_csvs_in_docs_import_cleanly_with_the_seeded_audio(db, settings):
    """What the README promises after `make run`: the samples import as they are."""
    docs = Path(settings.BASE_DIR) / "docs"
    call_command("seed_sample_audio", stdout=StringIO())

    albums = AlbumResource().import_data(
        Dataset().load((docs / "albums.sample.csv").read_text(), format="csv"), dry_run=False
    )
    songs = SongResource().import_data(
        Dataset().load((docs / "songs.sample.csv").read_text(), format="csv"), dry_run=False
    )

    for result in (albums, songs):
        assert not result.has_errors()
        assert not result.has_validation_errors()
    assert Album.objects.count() == 3
    assert Song.objects.count() == 5
    assert Song.objects.get(title="Guest Verse").album.title == "Morning Sines"
    assert Song.objects.get(title="Second Wind").audio.name == "songs/second-wind.wav"
    assert set(Song.objects.values_list("duration", flat=True)) == {2}  # read from the files
    assert list(Album.objects.order_by("title").values_list("genre", flat=True)) == [
        "Ambient",
        "Electronic",
        "Ambient",
    ]
    birdsong = Song.objects.get(title="Birdsong")
    assert (birdsong.genre, birdsong.track_number) == ("Ambient", 1)  # the catalog's spelling
    assert Song.objects.get(title="A Single").year == 2024


def test_the_song_sample_adds_songs_and_leaves_the_demo_catalog_alone(db):
    """Its titles are new: importing it over the demo catalog replaces no demo song's audio."""
    sample = Dataset().load(
        (Path(django_settings.BASE_DIR) / "docs" / "songs.sample.csv").read_text(), format="csv"
    )
    demo_songs = [(song.title, song.artist) for album in DEMO_ALBUMS for song in album.songs] + [
        (song.title, song.artist) for song in DEMO_SINGLES
    ]

    assert not {(row["title"], row["artist"]) for row in sample.dict} & set(demo_songs)
    assert sorted(Path(name).name for name in sample["audio_file"]) == sorted(SAMPLE_IMPORT_AUDIO)


def test_seeding_sample_audio_writes_only_the_missing_files(db, settings):
    folder = Path(settings.MEDIA_ROOT) / "songs"
    folder.mkdir(parents=True)
    (folder / "a-single.wav").write_bytes(b"mine")

    first = StringIO()
    call_command("seed_sample_audio", stdout=first)
    second = StringIO()
    call_command("seed_sample_audio", stdout=second)

    assert "4 files written" in first.getvalue()
    assert "0 files written" in second.getvalue()
    assert (folder / "a-single.wav").read_bytes() == b"mine"
    assert sorted(path.name for path in folder.iterdir()) == sorted(SAMPLE_IMPORT_AUDIO)
    for name in SAMPLE_IMPORT_AUDIO:
        if name != "a-single.wav":
            assert (
                verify_audio(SimpleUploadedFile(name, (folder / name).read_bytes())).duration == 2
            )


def snapshot(model) -> tuple[list[dict], list[str]]:
    """Every row with every field, and every stored file with its bytes' size."""
    rows = [
        {key: str(value) for key, value in row.items()}
        for row in model.objects.order_by("pk").values()
    ]
    return rows, stored_file_names()


def stored_file_names() -> list[str]:
    root = Path(django_settings.MEDIA_ROOT)
    return sorted(f"{path.relative_to(root)}:{path.stat().st_size}" for path in root.rglob("*"))


@pytest.fixture
def catalog_with_uploads(db) -> None:
    """Songs and albums as the API makes them: random stored names, the uploaders' names
    kept, titles a spreadsheet would read as formulas or that start with a quote."""
    long_play = services.album_create(
        title="-Long Play",
        artist="Beyoncé",
        release_year=2019,
        genre="R&B",
        image_file=SimpleUploadedFile("LP cover.png", png_bytes(), "image/png"),
    )
    services.album_create(title="'Quoted' Sessions", artist="The Oscillators")
    services.song_create(
        title="=Intro",
        artist="Beyoncé",
        album_id=long_play.pk,
        genre="+Formula-like genre",
        year=2019,
        track_number=1,
        disc_number=1,
        audio_file=SimpleUploadedFile("Intro (final mix).wav", wav_bytes(seconds=2)),
        image_file=SimpleUploadedFile("intro art.png", png_bytes(), "image/png"),
    )
    services.song_create(
        title="Guest Spot",
        artist="Bass Theory",
        album_id=long_play.pk,
        genre="R&B",
        track_number=2,
        audio_file=SimpleUploadedFile("guest take 3.wav", wav_bytes(seconds=3)),
    )
    single = services.song_create(
        title="'Single'",
        artist="Solo Act",
        audio_file=SimpleUploadedFile("single.wav", wav_bytes(seconds=2)),
    )
    # Lyrics in the cells: synced with word times, and plain lines a spreadsheet would read
    # as a formula.
    services.lyrics_set(
        song_id=single.pk,
        text="[lang:en]\n[offset:+100]\n[00:01.00]<00:01.00>Hello <00:01.50>world\n[00:02.00]Bye\n",
    )
    services.lyrics_set(
        song_id=Song.objects.get(title="Guest Spot").pk, text="-Minus sign first\nThen words"
    )


@pytest.mark.parametrize("model", ["album", "song"])
def test_an_export_imported_back_changes_nothing(staff_client: Client, catalog_with_uploads, model):
    model_class = {"album": Album, "song": Song}[model]
    before = snapshot(model_class)
    artists = snapshot(Artist)
    exported = export_csv(staff_client, model)

    previewed = preview(staff_client, model, exported.decode())

    assert previewed.status_code == HTTPStatus.OK
    text = page_text(previewed)
    assert text.count(" Skipped ") == model_class.objects.count() >= 2
    assert " Update " not in text
    assert " New " not in text
    lyrics = snapshot(Lyrics)
    confirm(staff_client, model, previewed)
    assert snapshot(model_class) == before
    assert snapshot(Artist) == artists
    assert snapshot(Lyrics) == lyrics


@pytest.mark.parametrize("cell", ["=1+1", "-1", "'quoted'", "''", "'=x", "plain", "it's"])
def test_an_escaped_cell_imports_as_it_was(cell):
    assert unescape_formula(escape_formula(cell)) == cell


def test_a_hand_written_leading_quote_is_kept():
    assert unescape_formula("'tis the season") == "'tis the season"


def test_the_export_header_keeps_the_column_names_and_the_preview_reads_words(
    staff_client: Client, songs_in_storage
):
    previewed = preview(staff_client, "song", SONG_HEADER + "Intro,The Oscillators,,,track0.wav\n")

    headings = re.findall(r"<th[^>]*>\s*([^<]*?)\s*</th>", previewed.content.decode())
    assert headings[1:] == SONG_PREVIEW_HEADINGS
    assert export_csv(staff_client, "song").decode().splitlines()[0] == (SONG_EXPORT_HEADER)


@pytest.mark.parametrize(
    ("model", "csv_text", "missing"),
    [
        ("song", "Intro,The Oscillators,,,track0.wav\n", "title or artist or audio_file"),
        ("album", "Kind of Blue,Miles Davis,1959\n", "title or artist"),
        ("song", "title,artist\nIntro,The Oscillators\n", "audio_file"),
    ],
)
def test_a_file_without_its_header_is_a_form_error(
    staff_client: Client, songs_in_storage, model, csv_text, missing
):
    previewed = preview(staff_client, model, csv_text)

    assert previewed.status_code == HTTPStatus.OK
    text = page_text(previewed)
    expected = "title, artist, audio_file" if model == "song" else "title, artist"
    assert (
        f"The file's first line must be its header, naming the columns {expected}; "
        f"it has no {missing} column." in text
    )
    assert "Its first line reads: " + csv_text.splitlines()[0] in text
    assert "Traceback" not in text
    assert "process_import" not in previewed.content.decode()
    assert not Song.objects.exists()
    assert not Album.objects.exists()
    assert not Artist.objects.exists()


@pytest.mark.parametrize(
    ("cells", "message"),
    [
        ('"Intro\tTake",The Oscillators', f"title: {CONTROL_CHARACTERS}"),
        ("Intro,The Oscillators\a", f"artist: {CONTROL_CHARACTERS}"),
        ('"Intro\nTwo",The Oscillators', f"title: {CONTROL_CHARACTERS}"),
        ("Intro\u202egnp.exe,The Oscillators", "title: " + invisible_character_message("\u202e")),
        ("Intro,The\u200bOscillators", "artist: " + invisible_character_message("\u200b")),
        ("\u2067Intro,The Oscillators", "title: " + invisible_character_message("\u2067")),
    ],
)
def test_a_cell_breaking_the_text_rule_is_its_rows_error_and_nothing_is_imported(
    staff_client: Client, songs_in_storage, cells, message
):
    csv_text = SONG_HEADER + "Fine,Someone,,,track1.wav\n" + cells + ",,,track0.wav\n"

    previewed = preview(staff_client, "song", csv_text)

    text = page_text(previewed)
    assert message in text
    assert re.search(rf"{re.escape(message)}.*? 2 ", text), "names row 2"
    assert "Traceback" not in text
    assert "process_import" not in previewed.content.decode()
    assert not Song.objects.exists()
    assert not Artist.objects.exists()


def test_invisible_characters_are_named_by_their_code_point():
    assert invisible_character_message("\u202e") == (
        "This field may not contain U+202E (RIGHT-TO-LEFT OVERRIDE), an invisible or "
        "direction-changing character."
    )


def test_album_cells_follow_the_text_rule_too(staff_client: Client):
    previewed = preview(staff_client, "album", ALBUM_HEADER + "Kind of Blue\u200f,Miles Davis,\n")

    assert "title: " + invisible_character_message("\u200f") in page_text(previewed)
    assert not Album.objects.exists()


def test_scripts_and_emoji_import_as_they_are(staff_client: Client, songs_in_storage):
    titles = [
        "أغنية الصباح",  # Arabic
        "שיר של בוקר",  # Hebrew
        "सुबह का गीत",  # Hindi (Devanagari, with its combining marks)
    ]
    artists = ["Family 👩\u200d👩\u200d👧 🇫🇷 👋🏽", PERSIAN, "  Trimmed  "]
    csv_text = SONG_HEADER + "".join(
        f"{title},{artist},,,track{index}.wav\n"
        for index, (title, artist) in enumerate(zip(titles, artists, strict=True))
    )

    confirm(staff_client, "song", preview(staff_client, "song", csv_text))

    assert sorted(Song.objects.values_list("title", "artist_name")) == sorted(
        zip(titles, ["Family 👩\u200d👩\u200d👧 🇫🇷 👋🏽", PERSIAN, "Trimmed"], strict=True)
    )


def test_a_stored_name_too_long_for_the_song_is_its_rows_error(
    staff_client: Client, songs_in_storage, settings
):
    name = "x" * 95 + ".wav"  # songs/ and this: 105 characters, over the field's 100
    (Path(settings.MEDIA_ROOT) / "songs" / name).write_bytes(wav_bytes())

    previewed = preview(staff_client, "song", SONG_HEADER + f"Long,The Oscillators,,,{name}\n")

    message = STORED_NAME_TOO_LONG.format(name=f"songs/{name}", length=105, max_length=100)
    assert re.search(rf"audio_file: {re.escape(message)} 1 Long ", page_text(previewed))
    assert "process_import" not in previewed.content.decode()
    assert not Song.objects.exists()
