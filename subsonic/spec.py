"""What the OpenSubsonic specification fixes: the API version, its endpoint names, its error
codes with their sentences, and the extensions this server advertises.

The specification is kept beside the project (`../shared/opensubsonic/`: `openapi/` and
`docs/`); `subsonic/tests/test_spec.py` checks these names against its `openapi.json`.
"""

from enum import IntEnum

# The Subsonic REST API version this server speaks (the `version` of every answer).
API_VERSION = "1.16.1"
XML_NAMESPACE = "http://subsonic.org/restapi"

# Every endpoint of the specification (its openapi.json paths, without "/rest/"). A name here
# with no handler answers error 0 "not implemented"; a name not here is unknown.
ENDPOINT_NAMES = frozenset(
    {
        "addChatMessage",
        "changePassword",
        "createBookmark",
        "createInternetRadioStation",
        "createPlaylist",
        "createPodcastChannel",
        "createShare",
        "createUser",
        "deleteBookmark",
        "deleteInternetRadioStation",
        "deletePlaylist",
        "deletePodcastChannel",
        "deletePodcastEpisode",
        "deleteShare",
        "deleteUser",
        "download",
        "downloadPodcastEpisode",
        "findSonicPath",
        "getAlbum",
        "getAlbumInfo",
        "getAlbumInfo2",
        "getAlbumList",
        "getAlbumList2",
        "getArtist",
        "getArtistInfo",
        "getArtistInfo2",
        "getArtists",
        "getAvatar",
        "getBookmarks",
        "getCaptions",
        "getChatMessages",
        "getCoverArt",
        "getGenres",
        "getIndexes",
        "getInternetRadioStations",
        "getLicense",
        "getLyrics",
        "getLyricsBySongId",
        "getMusicDirectory",
        "getMusicFolders",
        "getNewestPodcasts",
        "getNowPlaying",
        "getOpenSubsonicExtensions",
        "getPlaylist",
        "getPlaylists",
        "getPlayQueue",
        "getPlayQueueByIndex",
        "getPodcastEpisode",
        "getPodcasts",
        "getRandomSongs",
        "getScanStatus",
        "getShares",
        "getSimilarSongs",
        "getSimilarSongs2",
        "getSong",
        "getSongsByGenre",
        "getSonicSimilarTracks",
        "getStarred",
        "getStarred2",
        "getTopSongs",
        "getTranscodeDecision",
        "getTranscodeStream",
        "getUser",
        "getUsers",
        "getVideoInfo",
        "getVideos",
        "hls.m3u8",
        "jukeboxControl",
        "ping",
        "refreshPodcasts",
        "reportPlayback",
        "savePlayQueue",
        "savePlayQueueByIndex",
        "scrobble",
        "search",
        "search2",
        "search3",
        "setRating",
        "star",
        "startScan",
        "stream",
        "tokenInfo",
        "unstar",
        "updateInternetRadioStation",
        "updatePlaylist",
        "updateShare",
        "updateUser",
    }
)


class ErrorCode(IntEnum):
    """The error codes of the specification (docs/api-reference.md, "Error handling")."""

    GENERIC = 0
    MISSING_PARAMETER = 10
    CLIENT_MUST_UPGRADE = 20
    SERVER_MUST_UPGRADE = 30
    WRONG_CREDENTIALS = 40
    TOKEN_AUTH_NOT_SUPPORTED = 41
    AUTH_MECHANISM_NOT_SUPPORTED = 42
    CONFLICTING_AUTH = 43
    INVALID_API_KEY = 44
    NOT_AUTHORIZED = 50
    TRIAL_OVER = 60
    NOT_FOUND = 70


# Each code's sentence as the specification words it.
ERROR_MESSAGES = {
    ErrorCode.GENERIC: "A generic error.",
    ErrorCode.MISSING_PARAMETER: "Required parameter is missing.",
    ErrorCode.CLIENT_MUST_UPGRADE: (
        "Incompatible Subsonic REST protocol version. Client must upgrade."
    ),
    ErrorCode.SERVER_MUST_UPGRADE: (
        "Incompatible Subsonic REST protocol version. Server must upgrade."
    ),
    ErrorCode.WRONG_CREDENTIALS: "Wrong username or password.",
    ErrorCode.TOKEN_AUTH_NOT_SUPPORTED: "Token authentication not supported for LDAP users.",
    ErrorCode.AUTH_MECHANISM_NOT_SUPPORTED: "Provided authentication mechanism not supported.",
    ErrorCode.CONFLICTING_AUTH: "Multiple conflicting authentication mechanisms provided.",
    ErrorCode.INVALID_API_KEY: "Invalid API key.",
    ErrorCode.NOT_AUTHORIZED: "User is not authorized for the given operation.",
    ErrorCode.TRIAL_OVER: (
        "The trial period for the Subsonic server is over. Please upgrade to Subsonic "
        "Premium. Visit subsonic.org for details."
    ),
    ErrorCode.NOT_FOUND: "The requested data was not found.",
}

# The OpenSubsonic extensions this server implements, with their versions: only what works.
EXTENSIONS = {
    "apiKeyAuthentication": [1],
    "formPost": [1],
    "transcodeOffset": [1],
    "songLyrics": [1, 2],
}
