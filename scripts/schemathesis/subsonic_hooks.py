"""Schemathesis hooks and checks for scripts/schemathesis/subsonic.sh (the OpenSubsonic API
under /rest/, against the specification's own OpenAPI description).

A Subsonic server answers every request with HTTP 200, refusals included: the envelope says
`"status": "failed"` with an error code (10 missing parameter, 40/44 wrong credentials, 50
not authorized, 70 not found, 0 anything else). The specification documents only that (every
operation's responses are 200, and 405 for a form POST a server does not take), and clients
rely on it. Schemathesis's checks that read a refusal from the HTTP status alone cannot see
one, so three of them are replaced here by the same checks reading the envelope; every other
check runs as it is (docs/SUBSONIC.md, "Refusals are HTTP 200").

What a schema cannot say, bridged in `before_call` (Schemathesis revalidates a case this
changes, so a negative case whose only flaw was one of these goes out relabelled positive):

1. `f`, `v` and `c` are the specification's "security schemes" `format`, `protocolVersion`
   and `clientName`, which the public getOpenSubsonicExtensions (`security: []`) drops along
   with the credentials; its description says "only `json` is allowed". Every request gets
   `f=json`, `v` and `c` (and a form body none of them: the body's value would win).
2. The credentials: with SUBSONIC_API_KEY (the listener and admin runs) every case signs in
   with `apiKey` alone, the generated `u`, `p`, `t` and `s` left out of the query and the form
   body (the specification's description forbids them beside `apiKey`; its schema cannot).
   Without it (the anonymous run) the generated credentials, if any, go out as generated.
3. getUser: random text never names an account, so a non-empty `username` meant valid
   names the caller (SUBSONIC_USERNAMES, first), the other account (second), or stays as
   generated, a third of the cases each: the listener gets their user, error 50, error 50;
   the admin their user, the listener's, error 70.
4. Ids: random text never names a song or a playlist either, so a parameter named like an
   id (`id`, `current`, `songId`, `playlistId`, `songIdToAdd`, ...) meant valid takes one of
   SUBSONIC_IDS (songs, an album, an artist, a public playlist, the caller's own) of the kind
   its name or its operation's name says (subsonic/ids.py prefixes: `songId` a song,
   `getPlaylist`'s `id` a playlist; any kind when neither says), or stays as generated, in
   turn per operation and parameter (with one worker and one seed, the same cases on every
   run; a failing case that Hypothesis replays may get another id). The delete* operations
   take SUBSONIC_DELETE_IDS_GET or _POST instead, whose playlists are there to be deleted,
   some for each method: operations run in the specification's (alphabetical) order,
   updatePlaylist after deletePlaylist, and a GET could otherwise delete all before the POST.

The checks (all in `--checks all`; subsonic.sh excludes the four built-ins they replace):

- `subsonic_negative_data_rejection` (for `negative_data_rejection`): schema-violating data
  must be refused; a failed envelope is a refusal, and so is a count above its maximum taken
  as the maximum where CLAMPED says so. Anything else goes to the built-in check, with all
  its filters (data that serializes back to valid, and so on).
- `subsonic_positive_data_acceptance` (for `positive_data_acceptance`): schema-valid data
  must not be refused for its data: a failed envelope is allowed only with error 50 or 70,
  which are about what exists and who asks, not about the request, or with error 10 naming a
  parameter sent empty (empty is missing), or with error 0 for the project's text rule
  (TEXT_RULE), or where SPEC_GAPS says the schema lets through what the specification or the
  server refuses; then the built-in check.
- `subsonic_auth_enforced` (for `ignored_auth`): once per operation, after a signed-in
  success, the same request without credentials must fail with error 10, and with a
  wrong `apiKey` with error 44. In the anonymous run no operation but the public one may
  answer `ok`.
- `subsonic_content_type_conformance` (for `content_type_conformance`): the files of
  BINARY_CONTENT_TYPES (stream, download, getCoverArt) come as what they are (`audio/...`,
  `image/...`) and their refusals as JSON envelopes (`f=json`), where the specification
  documents `application/binary` and `text/xml`; every other operation, the built-in check.
- `subsonic_no_server_error`: the envelope of an exception (views.py answers error 0 with
  SERVER_ERROR, HTTP 200, and logs it) is the 500 `not_a_server_error` cannot see.
- `SubsonicCoverage` writes the number of test cases per operation, positive and negative,
  and how many succeeded (`ok`, or a file), to SUBSONIC_CASES_FILE; subsonic.sh fails the
  run when an operation succeeded in neither signed-in run (a run that never signs in, or
  never names anything that exists, would otherwise pass every check).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import requests
import schemathesis
from schemathesis.core.failures import Failure
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transport import response_content_type
from schemathesis.generation.meta import CoveragePhaseData, CoverageScenario
from schemathesis.openapi.checks import RejectedPositiveData, UndefinedContentType
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
)

API_VERSION = "1.16.1"
CLIENT_NAME = "schemathesis"
CREDENTIAL_NAMES = ("apiKey", "u", "p", "t", "s")
# The endpoints answered without sign-in (subsonic/registry.py `public`), as subsonic.sh
# reads them from the registry: comma-separated paths.
_PUBLIC = os.environ.get("SUBSONIC_PUBLIC_PATHS", "/rest/getOpenSubsonicExtensions")
PUBLIC_PATHS = frozenset(path for path in _PUBLIC.split(",") if path)
GET_USER_PATH = "/rest/getUser"

# Error codes (subsonic/spec.py ErrorCode).
MISSING_PARAMETER = 10
INVALID_API_KEY = 44
NOT_AUTHORIZED = 50
NOT_FOUND = 70
# Refusals about the world, not the request: positive data may get them.
STATE_REFUSALS = frozenset({NOT_AUTHORIZED, NOT_FOUND})
# The server's sentences, kept equal by subsonic/tests/test_openapi_bundle.py: views.py's
# SERVER_ERROR, and errors.py's missing_parameter(name).
SERVER_ERROR = "The server failed to answer this request; it has been logged."
MISSING_NAMED = re.compile(r"Required parameter is missing: (?P<name>[A-Za-z0-9_]+)\.")


def _listed(variable: str) -> list[str]:
    return [item for item in os.environ.get(variable, "").split(",") if item]


API_KEY = os.environ.get("SUBSONIC_API_KEY", "")
# The caller's username first, then another account's: comma-separated.
USERNAMES = _listed("SUBSONIC_USERNAMES")
# Ids of things that exist (rule 4), comma-separated; the delete* operations' own, by method.
IDS = _listed("SUBSONIC_IDS")
DELETE_IDS = {
    "GET": _listed("SUBSONIC_DELETE_IDS_GET"),
    "POST": _listed("SUBSONIC_DELETE_IDS_POST"),
}
ID_PARAMETER = re.compile(r"id|current|[a-z]+Id(?:ToAdd)?")
# The kind (subsonic/ids.py prefix) of an id, by the parameter's name, else by the operation's.
KIND_OF_PARAMETER = {
    "songId": "tr",
    "songIdToAdd": "tr",
    "current": "tr",
    "albumId": "al",
    "artistId": "ar",
    "playlistId": "pl",
}
KIND_OF_OPERATION = (
    (re.compile("Playlist"), "pl"),
    (re.compile("Album"), "al"),
    (re.compile("Artist"), "ar"),
    (re.compile("Bookmark|Song|PlayQueue|Lyrics|stream|download|scrobble"), "tr"),
)
BASE_URL = os.environ.get("SUBSONIC_BASE_URL", "")
CASES_FILE = os.environ.get("SUBSONIC_CASES_FILE", "")


def envelope(response: Any) -> dict[str, Any] | None:
    """The `subsonic-response` object of a JSON answer; None for anything else."""
    with contextlib.suppress(ValueError, TypeError, AttributeError, UnicodeDecodeError):
        answer = json.loads(response.content)["subsonic-response"]
        if isinstance(answer, dict):
            return answer
    return None


def error_code(answer: dict[str, Any] | None) -> int | None:
    """The error code of a failed envelope; None when it is not one."""
    if answer is None or answer.get("status") != "failed":
        return None
    error = answer.get("error")
    return error.get("code") if isinstance(error, dict) else -1


def succeeded(response: Any) -> bool:
    """A 2xx that is no failed envelope: `ok`, or a file (stream, cover art)."""
    return 200 <= response.status_code < 300 and error_code(envelope(response)) is None


def _meant_valid(case: Any, location: ParameterLocation) -> bool:
    meta = case.meta  # None for explicit examples, which are meant valid
    return meta is None or not meta.is_negative_at(location)


def _is_negative(case: Any) -> bool:
    return case.meta is not None and case.meta.generation.mode.is_negative


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    # The form body and the query string are one set of parameters, the body's last
    # (subsonic/params.py): what the rules set in the query is taken out of the body.
    replaced = {"f", "v", "c"}  # rule 1
    credentials = {}
    if API_KEY:  # rule 2
        replaced.update(CREDENTIAL_NAMES)
        credentials = {"apiKey": API_KEY}
    query = {name: value for name, value in (case.query or {}).items() if name not in replaced}
    case.query = {**query, "f": "json", "v": API_VERSION, "c": CLIENT_NAME, **credentials}
    if isinstance(case.body, dict) and replaced & set(case.body):
        case.body = {name: value for name, value in case.body.items() if name not in replaced}
    if case.operation.path == GET_USER_PATH and USERNAMES:  # rule 3
        _name_an_account(case)
    delete = case.operation.path.startswith("/rest/delete")
    pool = DELETE_IDS.get(case.method.upper(), []) if delete else IDS
    if pool:  # rule 4
        _name_things_that_exist(case, pool)


def _name_an_account(case: Any) -> None:
    """A non-empty `username` meant valid names one of USERNAMES, or stays as generated, by
    its length: the same cases on every run with one seed."""
    if isinstance(case.body, dict) and _meant_valid(case, ParameterLocation.BODY):
        case.body = {**case.body, **_account_for(case.body)}
    elif _meant_valid(case, ParameterLocation.QUERY):
        case.query = {**case.query, **_account_for(case.query)}


def _account_for(values: dict[str, Any]) -> dict[str, str]:
    username = values.get("username")
    if not isinstance(username, str) or not username:
        return {}
    choice = len(username) % (len(USERNAMES) + 1)
    return {"username": USERNAMES[choice]} if choice < len(USERNAMES) else {}


# How many values each (operation, parameter) has been given: the next takes the next id.
_turns: Counter[tuple[str, str]] = Counter()
_turns_lock = threading.Lock()


def _name_things_that_exist(case: Any, pool: list[str]) -> None:
    label = case.operation.label
    if isinstance(case.body, dict) and _meant_valid(case, ParameterLocation.BODY):
        case.body = _with_ids(label, case.operation.path, case.body, pool)
    if _meant_valid(case, ParameterLocation.QUERY):
        case.query = _with_ids(label, case.operation.path, case.query, pool)


def _with_ids(label: str, path: str, values: dict[str, Any], pool: list[str]) -> dict[str, Any]:
    def pick(name: str, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        kind = KIND_OF_PARAMETER.get(name) or next(
            (kind for pattern, kind in KIND_OF_OPERATION if pattern.search(path)), None
        )
        candidates = [item for item in pool if kind is None or item.startswith(f"{kind}-")]
        with _turns_lock:
            turn = _turns[(label, name)]
            _turns[(label, name)] += 1
        choice = turn % (len(candidates) + 1)
        return candidates[choice] if choice < len(candidates) else value

    return {
        name: (
            ([pick(name, item) for item in value] if isinstance(value, list) else pick(name, value))
            if ID_PARAMETER.fullmatch(name)
            else value
        )
        for name, value in values.items()
    }


class SubsonicRefusal(Failure):
    """A Subsonic answer that breaks the rules of the protocol (see the checks above)."""

    kind_title = "Subsonic answer breaks the protocol"

    def __init__(self, *, operation: str, title: str, message: str, case_id: str | None = None):
        super().__init__(operation=operation, title=title, message=message, case_id=case_id)

    @property
    def _unique_key(self) -> str:
        return self.title


# A count above the schema's `maximum` is taken as the maximum ("max 500" in the prose), as
# Subsonic itself does and clients rely on (subsonic/params.py `integer`): per operation, the
# parameters so read (docs/SUBSONIC.md, "Our rules").
CLAMPED: dict[str, frozenset[str]] = {
    "/rest/getAlbumList": frozenset({"size"}),
    "/rest/getAlbumList2": frozenset({"size"}),
    "/rest/getRandomSongs": frozenset({"size"}),
}


def _only_above_a_clamped_maximum(case: Any) -> bool:
    """The case's one flaw is a CLAMPED parameter above its maximum (the coverage phase says
    which parameter it changed, and how)."""
    data = case.meta.phase.data if case.meta is not None else None
    if not isinstance(data, CoveragePhaseData):
        return False
    # A query parameter is named; a form body's property by its place in the body's schema
    # ("/properties/size/maximum"), the "parameter" being the body's media type.
    name = data.parameter
    if data.parameter_location is ParameterLocation.BODY:
        found = re.match(r"/properties/([^/]+)/", data.location or "")
        name = found[1] if found else None
    return data.scenario is CoverageScenario.VALUE_ABOVE_MAXIMUM and name in CLAMPED.get(
        case.operation.path, frozenset()
    )


@schemathesis.check
def subsonic_negative_data_rejection(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-violating data is refused: a failed envelope, a CLAMPED count taken as its
    maximum, or what the built-in accepts."""
    if _is_negative(case) and error_code(envelope(response)) is not None:
        return None
    if _is_negative(case) and _only_above_a_clamped_maximum(case):
        return None
    return negative_data_rejection(ctx, response, case)


# The files, by operation: the family of content type each comes in (the song's audio, the
# picture), where the specification's BinaryResponse says `application/binary`, no media type
# a file is ever served as, and a refusal `text/xml`, though `f=json` asks for JSON.
BINARY_CONTENT_TYPES = {
    "/rest/stream": "audio/",
    "/rest/download": "audio/",
    "/rest/getCoverArt": "image/",
}


@schemathesis.check
def subsonic_content_type_conformance(ctx: Any, response: Any, case: Any) -> bool | None:
    """A file comes as its own kind, a refusal as JSON (BINARY_CONTENT_TYPES); every other
    answer is checked against the specification by the built-in check."""
    family = BINARY_CONTENT_TYPES.get(case.operation.path)
    if family is None:
        return content_type_conformance(ctx, response, case)
    received = (response_content_type(response) or "").split(";")[0].strip().lower()
    refused = error_code(envelope(response)) is not None
    expected = "application/json" if refused else f"{family}*"
    if received == expected or (not refused and received.startswith(family)):
        return None
    raise UndefinedContentType(
        operation=case.operation.label,
        message=f"Received: {received or 'none'}\nExpected: {expected}",
        content_type=received,
        defined_content_types=[expected],
    )


@schemathesis.check
def subsonic_positive_data_acceptance(ctx: Any, response: Any, case: Any) -> bool | None:
    """Schema-valid data is not refused for its data (error 50 and 70 are about the world)."""
    answer = envelope(response)
    code = error_code(answer)
    signed_in = bool(API_KEY) or case.operation.path in PUBLIC_PATHS
    if (
        signed_in
        and case.meta is not None
        and case.meta.generation.mode.is_positive
        and code is not None
        and code not in STATE_REFUSALS
        and not _empty_is_missing(case, code, answer)
        and not _spec_gap(case, code, answer)
    ):
        raise RejectedPositiveData(
            operation=case.operation.label,
            message=(
                "Valid data should have been accepted\n"
                f"Expected: status ok, or failed with error {sorted(STATE_REFUSALS)}\n"
                f"Got: error {code}: {(answer or {}).get('error', {}).get('message')}"
            ),
            status_code=response.status_code,
            allowed_statuses=["200 ok", *(f"200 error {c}" for c in sorted(STATE_REFUSALS))],
        )
    return positive_data_acceptance(ctx, response, case)


def _sent(case: Any) -> dict[str, Any]:
    """The parameters as the server reads them: the query's, then the form body's."""
    body = case.body if isinstance(case.body, dict) else {}
    return {**(case.query or {}), **body}


def _numbers(value: Any) -> list[int]:
    items = value if isinstance(value, list) else [value]
    numbers = []
    for item in items:
        with contextlib.suppress(TypeError, ValueError):
            numbers.append(int(item))
    return numbers


# The largest position the server keeps (library/models.py MAX_POSITION_MS, 24.8 days).
MAX_POSITION_MS = 2**31 - 1


def _position_out_of_range(sent: dict[str, Any], code: int, message: str) -> bool:
    """`position` (createBookmark, savePlayQueue) has no maximum in the schema, and
    createBookmark's not even `minimum: 0` (savePlayQueue's has); the server keeps 0 to
    MAX_POSITION_MS milliseconds (our limit: a 32-bit column)."""
    positions = _numbers(sent.get("position"))
    return code == 0 and any(not 0 <= position <= MAX_POSITION_MS for position in positions)


def _create_playlist_names_neither(sent: dict[str, Any], code: int, message: str) -> bool:
    """createPlaylist takes `name` (to create) or `playlistId` (to update), one of them
    (docs/Endpoints/createplaylist.md); the schema makes both optional."""
    return code == MISSING_PARAMETER and not sent.get("name") and not sent.get("playlistId")


def _current_not_in_queue(sent: dict[str, Any], code: int, message: str) -> bool:
    """savePlayQueue's `current` is the song playing, one of the `id`s; the schema cannot
    say so."""
    queue = sent.get("id")
    queue = queue if isinstance(queue, list) else [queue]
    return code == 0 and bool(sent.get("current")) and sent.get("current") not in queue


def _index_to_remove_out_of_range(sent: dict[str, Any], code: int, message: str) -> bool:
    """updatePlaylist's `songIndexToRemove` has no `minimum` in the schema, and no schema can
    know how many songs a playlist holds: a negative index, or one past the end, is error 0."""
    about_an_index = message.startswith("songIndexToRemove") or "position" in message
    return code == 0 and about_an_index and bool(_numbers(sent.get("songIndexToRemove")))


def _list_type_needs_more(sent: dict[str, Any], code: int, message: str) -> bool:
    """getAlbumList(2)'s `fromYear` and `toYear` are "required if type is `byYear`" and
    `genre` "required if type is `byGenre`" in the prose; the schema makes them optional."""
    needed = {"byYear": ("fromYear", "toYear"), "byGenre": ("genre",)}.get(sent.get("type"), ())
    missing = MISSING_NAMED.fullmatch(message)
    return (
        code == MISSING_PARAMETER
        and missing is not None
        and missing["name"] in needed
        and not sent.get(missing["name"])
    )


def _top_songs_without_artist(sent: dict[str, Any], code: int, message: str) -> bool:
    """getTopSongs' `artist` is optional in the schema, "required unless the artist `id` is
    provided", which takes the topSongsByArtistId extension (not advertised here)."""
    return code == MISSING_PARAMETER and not sent.get("artist")


def _star_names_nothing(sent: dict[str, Any], code: int, message: str) -> bool:
    """star and unstar take `id`, `albumId` or `artistId`, each optional in the schema; with
    none of them there is nothing to star (the prose: "the ID of the file (song) or folder
    (album/artist) to star", one of the three)."""
    values = [sent.get(name) for name in ("id", "albumId", "artistId")]
    named = any(
        item for value in values for item in (value if isinstance(value, list) else [value])
    )
    return code == MISSING_PARAMETER and not named


# A whole-number parameter is 0 or more and at most 18 digits (subsonic/params.py); the
# specification's integers have no such bounds (a negative size or year, a 21-digit offset).
WHOLE_NUMBER_REFUSED = re.compile(
    r"(?P<name>[A-Za-z]+) must be a whole number of at most 18 digits\."
)
MAX_WHOLE_NUMBER = 10**18 - 1


def _whole_number_out_of_range(sent: dict[str, Any], code: int, message: str) -> bool:
    refused = WHOLE_NUMBER_REFUSED.fullmatch(message)
    if code != 0 or refused is None:
        return False
    return any(
        not 0 <= number <= MAX_WHOLE_NUMBER for number in _numbers(sent.get(refused["name"]))
    )


# scrobble's `time` in milliseconds is a date from 1970 to the end of year 9999 (a datetime's
# range); the schema's integer has no bounds.
TIME_REFUSED = "time must be milliseconds since 1 January 1970 (a number, not negative)."
LAST_MILLISECOND = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


def _time_out_of_range(sent: dict[str, Any], code: int, message: str) -> bool:
    times = _numbers(sent.get("time"))
    return (
        code == 0
        and message == TIME_REFUSED
        and any(not 0 <= time <= LAST_MILLISECOND for time in times)
    )


# Refusals of schema-valid data that the specification's own prose makes, or that its schema
# leaves open for our rules (docs/SUBSONIC.md, "Known deviations" and "Our rules"): each
# allowed for its operation only, and only when the request holds the data it is about.
SPEC_GAPS: dict[str, tuple[Callable[[dict[str, Any], int, str], bool], ...]] = {
    "/rest/createBookmark": (_position_out_of_range,),
    "/rest/savePlayQueue": (_position_out_of_range, _current_not_in_queue),
    "/rest/createPlaylist": (_create_playlist_names_neither,),
    "/rest/updatePlaylist": (_index_to_remove_out_of_range,),
    "/rest/getAlbumList": (_list_type_needs_more, _whole_number_out_of_range),
    "/rest/getAlbumList2": (_list_type_needs_more, _whole_number_out_of_range),
    "/rest/getRandomSongs": (_whole_number_out_of_range,),
    "/rest/getTopSongs": (_top_songs_without_artist, _whole_number_out_of_range),
    "/rest/search3": (_whole_number_out_of_range,),
    "/rest/getIndexes": (_whole_number_out_of_range,),
    "/rest/star": (_star_names_nothing,),
    "/rest/unstar": (_star_names_nothing,),
    "/rest/scrobble": (_time_out_of_range,),
    "/rest/getCoverArt": (_whole_number_out_of_range,),
    "/rest/stream": (_whole_number_out_of_range,),
}
# The project's rule for free text (core/text.py: names, comments), which the specification's
# string parameters do not state: no control or invisible characters, not blank where
# required, at most so long. Error 0 with its sentence, behind the field's name or not.
TEXT_RULE_SENTENCES = (
    "This field may not",  # BLANK, CONTROL_CHARACTERS, INVISIBLE_CHARACTER
    "This field is not valid Unicode text.",  # NOT_TEXT
    "String should have at most",  # the length
)
TEXT_RULE = re.compile(
    r"(?:[A-Za-z]+: )?(?:" + "|".join(re.escape(s) for s in TEXT_RULE_SENTENCES) + ")"
)


def _spec_gap(case: Any, code: int, answer: dict[str, Any] | None) -> bool:
    message = str((answer or {}).get("error", {}).get("message", ""))
    if code == 0 and TEXT_RULE.match(message):
        return True
    sent = _sent(case)
    return any(allowed(sent, code, message) for allowed in SPEC_GAPS.get(case.operation.path, ()))


def _empty_is_missing(case: Any, code: int, answer: dict[str, Any] | None) -> bool:
    """Error 10 for a parameter sent empty (`username=`): an empty value is a missing one
    (subsonic/params.py, as Navidrome does); the specification's schemas never say
    `minLength: 1`, so positive data can send one (docs/SUBSONIC.md)."""
    if code != MISSING_PARAMETER or answer is None:
        return False
    found = MISSING_NAMED.fullmatch(str(answer["error"].get("message", "")))
    if found is None:
        return False
    name = found["name"]
    sent = [case.query or {}, case.body if isinstance(case.body, dict) else {}]
    return any(values.get(name) == "" for values in sent)


@schemathesis.check
def subsonic_no_server_error(ctx: Any, response: Any, case: Any) -> bool | None:
    answer = envelope(response)
    if error_code(answer) is not None and answer["error"].get("message") == SERVER_ERROR:
        raise SubsonicRefusal(
            operation=case.operation.label,
            title="Server error (in a Subsonic envelope)",
            message=f"The server failed on this request (error 0: {SERVER_ERROR!r}); see its log.",
        )
    return None


_auth_probed: set[str] = set()
_auth_lock = threading.Lock()


def _probe(case: Any, credentials: dict[str, str]) -> tuple[int | None, str]:
    """The error code (None when `ok`) of `case` sent again with only `credentials`."""
    probe = case.derive(
        query={
            **{k: v for k, v in case.query.items() if k not in CREDENTIAL_NAMES},
            **credentials,
        }
    )
    # Sent as it is, not through `before_call` (which would sign it in again).
    kwargs = probe.as_transport_kwargs(base_url=BASE_URL or None)
    kwargs.pop("auth", None)
    reply = requests.request(**kwargs, timeout=30)
    query = "&".join(f"{name}=..." for name in credentials) or "no credentials"
    return error_code(envelope(reply)), f"{case.method} {case.path} with {query}"


@schemathesis.check
def subsonic_auth_enforced(ctx: Any, response: Any, case: Any) -> bool | None:
    if case.operation.path in PUBLIC_PATHS:
        return None
    answered_ok = succeeded(response)
    if not API_KEY:
        if answered_ok:
            raise SubsonicRefusal(
                operation=case.operation.label,
                title="Answered without sign-in",
                message="An anonymous request got `status: ok`; only the public endpoints may.",
            )
        return None
    with _auth_lock:
        if not answered_ok or case.operation.label in _auth_probed:
            return None
        _auth_probed.add(case.operation.label)
    for credentials, expected in (
        ({}, MISSING_PARAMETER),
        ({"apiKey": "x" + API_KEY}, INVALID_API_KEY),
    ):
        code, sent = _probe(case, credentials)
        if code != expected:
            raise SubsonicRefusal(
                operation=case.operation.label,
                title="Credentials not enforced",
                message=f"{sent}: expected error {expected}, got "
                + ("`status: ok`" if code is None else f"error {code}"),
            )
    return None


@schemathesis.check
class SubsonicCoverage:
    """Counts the test cases per operation, and how many succeeded, into SUBSONIC_CASES_FILE
    (subsonic.sh fails an operation that succeeded in neither signed-in run)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.counts: Counter[tuple[str, str]] = Counter()

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        label = case.operation.label
        with self.lock:
            self.counts[(label, "negative" if _is_negative(case) else "positive")] += 1
            if succeeded(response):
                self.counts[(label, "succeeded")] += 1
        return None

    def after_run(self, ctx: Any) -> None:
        if not CASES_FILE:
            return
        labels = sorted({label for label, _ in self.counts})
        kinds = ("positive", "negative", "succeeded")
        counts = {label: {kind: self.counts[(label, kind)] for kind in kinds} for label in labels}
        with open(CASES_FILE, "w", encoding="utf-8") as file:
            json.dump(counts, file, indent=2)
