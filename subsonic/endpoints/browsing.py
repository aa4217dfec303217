"""Browsing: getMusicFolders, getArtists, getArtist, getAlbum, getSong, getTopSongs,
getArtistInfo2, getAlbumInfo2, and the folder view of old clients, getIndexes and
getMusicDirectory.

The whole catalog is one music folder, id 1. As folders it holds the artists; an artist's
folder holds their albums, then their songs on no album; an album's folder its songs.
"""

import time
import unicodedata
from collections.abc import Callable, Iterable
from operator import itemgetter
from typing import Any

from django.db.models.fields.files import FieldFile

from catalog.models import artist_key
from catalog.selectors.songs import song_get
from core.files.storage import absolute_file_url
from subsonic import artist_index, ids, listener, selectors, shapes
from subsonic.envelope import Element, PlainList, plain
from subsonic.errors import SubsonicError
from subsonic.ids import MUSIC_FOLDER_ID, Kind
from subsonic.params import NOT_A_WHOLE_NUMBER
from subsonic.registry import Body, Call, endpoint
from subsonic.selectors import IndexedArtist
from subsonic.spec import ErrorCode

MUSIC_FOLDER_NAME = "Music"
# Articles an artist's name is indexed and sorted without: "The Beatles" under B.
IGNORED_ARTICLES = ("The", "El", "La", "Los", "Las", "Le", "Les")
# The index of the names that do not start with a letter.
OTHER_INDEX = "#"
TOP_SONGS_DEFAULT = 50

_ARTICLES = frozenset(article.casefold() for article in IGNORED_ARTICLES)


@endpoint("getMusicFolders")
def get_music_folders(call: Call) -> Body:
    return {"musicFolders": {"musicFolder": [{"id": MUSIC_FOLDER_ID, "name": MUSIC_FOLDER_NAME}]}}


# --- The artists, indexed by letter -------------------------------------------------------


def sort_name(name: str) -> str:
    """The name without a leading article ("The Beatles" is "Beatles"), unless nothing else
    is left of it ("The The")."""
    words = name.split(maxsplit=1)
    if len(words) == 2 and words[0].casefold() in _ARTICLES:
        return words[1]
    return name


def index_name(name: str) -> str:
    """The index an artist is listed under: the first letter of their sort name without its
    accents, upper case ("Édith Piaf" under E, "Ærosmith" under Æ); "#" for a digit or
    any other sign."""
    return _index_of(sort_name(name))


def _index_of(sorted_as: str) -> str:
    first = unicodedata.normalize("NFKD", sorted_as.lstrip()[:1])[:1].upper()[:1]
    return first if first.isalpha() else OTHER_INDEX


def _sorted(artists: Iterable[IndexedArtist]) -> list[tuple[str, IndexedArtist]]:
    """Each artist with their index, by index (alphabetically, "#" last), then by sort name
    ignoring case and accents."""
    keyed = []
    for artist in artists:
        sorted_as = sort_name(artist.name)
        # Without an article the stored key is the sort key: no folding of 5,000 names.
        key = artist.name_key if sorted_as is artist.name else artist_key(sorted_as)
        index = _index_of(sorted_as)
        order = (index == OTHER_INDEX, index, key, artist.pk)
        keyed.append((order, index, artist))
    keyed.sort(key=itemgetter(0))
    return [(index, artist) for _, index, artist in keyed]


def _artists_sorted() -> list[tuple[str, IndexedArtist]]:
    """Every artist with their index, in the order of `_sorted`: built once per change of
    the catalog's artists (subsonic/artist_index.py)."""
    return artist_index.cached("sorted", lambda: _sorted(selectors.artists_indexed()))


def _indexed(entry: Callable[[IndexedArtist], dict]) -> PlainList:
    """The artists grouped by index, in the order of `_sorted`, each as `entry` shapes it,
    ready for the envelope; built once per change, as the sorted artists are."""

    def build() -> PlainList:
        groups: dict[str, list[dict[str, Any]]] = {}
        for index, artist in _artists_sorted():
            groups.setdefault(index, []).append(entry(artist))
        return PlainList(
            plain([{"name": name, "artist": shaped} for name, shaped in groups.items()])
        )

    return artist_index.cached(f"indexed:{entry.__name__}", build)


@endpoint("getArtists")
def get_artists(call: Call) -> Body:
    """Every artist (`musicFolderId` is the one folder, ignored), as ArtistID3."""
    index = _indexed(shapes.artist_id3)
    return {"artists": {"ignoredArticles": " ".join(IGNORED_ARTICLES), "index": index}}


@endpoint("getIndexes")
def get_indexes(call: Call) -> Body:
    """getArtists for folder-based clients. `lastModified` is now: the catalog keeps no date
    of its last change, so `ifModifiedSince` is only checked (a time in milliseconds) and
    the index always answered."""
    call.params.check_whole_number("ifModifiedSince")
    return {
        "indexes": {
            "ignoredArticles": " ".join(IGNORED_ARTICLES),
            "lastModified": int(time.time() * 1000),
            "index": _indexed(shapes.artist_entry),
        }
    }


@endpoint("getMusicDirectory")
def get_music_directory(call: Call) -> Body:
    """A folder: `1` (the artists), an artist id (their albums, then songs on no album) or an
    album id (its songs). A song id or anything else: error 70."""
    text = call.params.required("id")
    if text == str(MUSIC_FOLDER_ID):
        children = [shapes.artist_child(artist) for _, artist in _artists_sorted()]
        directory = {"id": text, "name": MUSIC_FOLDER_NAME, "child": children}
        return {"directory": directory}
    ref = ids.parse_as(text, Kind.ARTIST, Kind.ALBUM)
    if ref.kind is Kind.ARTIST:
        artist = selectors.artist_get(artist_id=ref.pk)
        albums = selectors.artist_albums(artist_id=artist.pk)
        singles = selectors.artist_singles(artist_id=artist.pk)
        children = [shapes.album_child(album) for album in albums]
        children += listener.song_children(call.user, singles)
        directory = {
            "id": ids.artist_id(artist.pk),
            "parent": str(MUSIC_FOLDER_ID),
            "name": artist.name,
            "child": children,
        }
        return {"directory": directory}
    album = selectors.album_with_songs(album_id=ref.pk)
    directory = {
        "id": ids.album_id(album.pk),
        "parent": ids.artist_id(album.artist_id),
        "name": album.title,
        "child": listener.song_children(call.user, album.tracks),
    }
    return {"directory": directory}


# --- Artists, albums and songs by id ------------------------------------------------------


@endpoint("getArtist")
def get_artist(call: Call) -> Body:
    """The artist and their albums (oldest release first; selectors.ARTIST_ALBUMS_MAX)."""
    ref = ids.parse_as(call.params.required("id"), Kind.ARTIST)
    artist = selectors.artist_get(artist_id=ref.pk)
    albums = selectors.artist_albums(artist_id=artist.pk)
    shape = shapes.artist_id3(artist)
    shape["album"] = [shapes.album_id3(album) for album in albums]
    return {"artist": shape}


@endpoint("getAlbum")
def get_album(call: Call) -> Body:
    """The album and its songs, in the order of the REST album detail."""
    ref = ids.parse_as(call.params.required("id"), Kind.ALBUM)
    album = selectors.album_with_songs(album_id=ref.pk)
    songs, starred, rating = listener.album_songs_marked(call.user, album)
    return {"album": shapes.album_id3(album, songs=songs, starred=starred, rating=rating)}


@endpoint("getSong")
def get_song(call: Call) -> Body:
    ref = ids.parse_as(call.params.required("id"), Kind.SONG)
    [song] = listener.song_children(call.user, [song_get(song_id=ref.pk)])
    return {"song": song}


@endpoint("getTopSongs")
def get_top_songs(call: Call) -> Body:
    """The artist's (by name) most played songs of the last weeks, topped up with their
    newest, as on the REST artist page; an unknown name has none. `id` (the
    topSongsByArtistId extension, not advertised) is ignored."""
    name = call.params.required("artist")
    count = call.params.integer("count", default=TOP_SONGS_DEFAULT, maximum=selectors.LIST_MAX)
    found = selectors.top_songs(artist_name=name, count=count)
    return {"topSongs": {"song": listener.song_children(call.user, found)}}


# --- What we know of an artist or album ---------------------------------------------------


def _image_urls(call: Call, field_file: FieldFile) -> dict[str, Element | None]:
    """The picture's URL as the REST API gives it, for each of the three sizes: the stored
    image itself (getCoverArt, which resizes, needs the caller's credentials in its URL)."""
    url = absolute_file_url(call.request, field_file)
    text = Element(url) if url else None
    return {"smallImageUrl": text, "mediumImageUrl": text, "largeImageUrl": text}


@endpoint("getArtistInfo2")
def get_artist_info2(call: Call) -> Body:
    """The artist (by their id, or an album's or song's) as far as we know them: no
    biography (empty), no MusicBrainz or Last.fm link, no similar artists; their picture.
    `count` (of similar artists) is checked as the specification types it, though none come."""
    ref = ids.parse_as(call.params.required("id"), Kind.ARTIST, Kind.ALBUM, Kind.SONG)
    # Only its form: no similar artists come, so any size of whole number will do.
    count = (call.params.get("count") or "0").strip()
    if not (count.isascii() and count.isdigit()):
        raise SubsonicError(ErrorCode.GENERIC, NOT_A_WHOLE_NUMBER.format(name="count"))
    if ref.kind is Kind.ARTIST:
        artist = selectors.artist_of(artist_id=ref.pk)
    elif ref.kind is Kind.ALBUM:
        artist = selectors.artist_of(album_id=ref.pk)
    else:
        artist = selectors.artist_of(song_id=ref.pk)
    return {"artistInfo2": {"biography": Element(""), **_image_urls(call, artist.image)}}


@endpoint("getAlbumInfo2")
def get_album_info2(call: Call) -> Body:
    """The album (by its id, or a song's) as far as we know it: no notes (empty), no
    MusicBrainz or Last.fm link; its cover."""
    ref = ids.parse_as(call.params.required("id"), Kind.ALBUM, Kind.SONG)
    if ref.kind is Kind.ALBUM:
        album = selectors.album_of(album_id=ref.pk)
    else:
        album = selectors.album_of(song_id=ref.pk)
    return {"albumInfo": {"notes": Element(""), **_image_urls(call, album.image)}}
