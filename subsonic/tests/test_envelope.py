"""The one serializer behind every answer: the same structure as XML and as JSON."""

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from xml.etree import ElementTree

from django.http import QueryDict
from django.test import Client

from subsonic.envelope import INVALID_CALLBACK, envelope, render, server_identity, to_json, to_xml
from subsonic.params import Params
from subsonic.spec import API_VERSION, XML_NAMESPACE
from subsonic.tests.calls import api_key, call, error_of

NS = {"s": XML_NAMESPACE}


def xml_of(body: dict) -> ElementTree.Element:
    return ElementTree.fromstring(to_xml(envelope(body)))  # noqa: S314 (our own output)


def json_of(body: dict) -> dict:
    return json.loads(to_json(envelope(body)))["subsonic-response"]


@dataclass
class Genre:
    """Named as the specification names its fields."""

    songCount: int
    albumCount: int
    value: str


def test_the_envelope_names_the_server():
    name, version = server_identity()

    root = xml_of({})

    assert name == "music-streaming-backend"
    assert version
    assert root.tag == f"{{{XML_NAMESPACE}}}subsonic-response"
    assert root.attrib == {
        "status": "ok",
        "version": API_VERSION,
        "type": name,
        "serverVersion": version,
        "openSubsonic": "true",
    }
    assert json_of({}) == {
        "status": "ok",
        "version": API_VERSION,
        "type": name,
        "serverVersion": version,
        "openSubsonic": True,
    }


def test_scalars_are_attributes_and_objects_are_children():
    body = {"scanStatus": {"scanning": False, "count": 3, "ratio": 0.5, "name": "Music"}}

    element = xml_of(body).find("s:scanStatus", NS)

    assert element.attrib == {"scanning": "false", "count": "3", "ratio": "0.5", "name": "Music"}
    assert list(element) == []
    assert json_of(body)["scanStatus"] == {
        "scanning": False,
        "count": 3,
        "ratio": 0.5,
        "name": "Music",
    }


def test_value_is_the_text_alone_and_an_attribute_beside_children():
    body = {
        "lyricsList": {
            "cueLine": [{"index": 0, "value": "Un rire", "cue": [{"start": 5, "value": "Un"}]}],
            "line": [{"start": 5, "value": "Un rire"}],
        }
    }

    cue_line = xml_of(body).find("s:lyricsList/s:cueLine", NS)
    line = xml_of(body).find("s:lyricsList/s:line", NS)

    assert cue_line.attrib == {"index": "0", "value": "Un rire"}
    assert (cue_line.text or "").strip() == ""
    assert [(cue.get("start"), cue.text) for cue in cue_line] == [("5", "Un")]
    assert (line.attrib, line.text) == ({"start": "5"}, "Un rire")


def test_a_list_repeats_the_element_and_scalars_in_a_list_are_text():
    body = {
        "openSubsonicExtensions": [
            {"name": "formPost", "versions": [1]},
            {"name": "template", "versions": [1, 2]},
        ]
    }

    elements = xml_of(body).findall("s:openSubsonicExtensions", NS)

    assert [element.get("name") for element in elements] == ["formPost", "template"]
    assert [version.text for version in elements[1].findall("s:versions", NS)] == ["1", "2"]
    assert json_of(body)["openSubsonicExtensions"][1] == {"name": "template", "versions": [1, 2]}


def test_an_empty_list_is_no_element_and_an_empty_array():
    body = {"musicFolders": {"musicFolder": []}}

    assert list(xml_of(body).find("s:musicFolders", NS)) == []
    assert json_of(body)["musicFolders"] == {"musicFolder": []}


def test_value_is_the_elements_text_and_dataclasses_serialize_alike():
    body = {"genres": {"genre": [Genre(songCount=2, albumCount=1, value="Bebop & Hard Bop")]}}

    (genre,) = xml_of(body).find("s:genres", NS)

    assert genre.attrib == {"songCount": "2", "albumCount": "1"}
    assert genre.text == "Bebop & Hard Bop"
    assert json_of(body)["genres"]["genre"] == [
        {"songCount": 2, "albumCount": 1, "value": "Bebop & Hard Bop"}
    ]


def test_none_is_left_out_everywhere():
    body = {"user": {"username": "ada", "maxBitRate": None, "folder": [1, None]}, "x": None}

    user = xml_of(body).find("s:user", NS)

    assert user.attrib == {"username": "ada"}
    assert [folder.text for folder in user] == ["1"]
    assert json_of(body)["user"] == {"username": "ada", "folder": [1]}
    assert "x" not in json_of(body)


def test_dates_are_iso_8601_in_utc_with_milliseconds():
    moment = datetime(2017, 4, 11, 12, 42, 50, 842_999, tzinfo=timezone(timedelta(hours=2)))
    body = {"license": {"valid": True, "licenseExpires": moment, "day": date(2017, 4, 11)}}

    license_ = xml_of(body).find("s:license", NS)

    assert license_.get("licenseExpires") == "2017-04-11T10:42:50.842Z"
    assert license_.get("day") == "2017-04-11"
    assert json_of(body)["license"]["licenseExpires"] == "2017-04-11T10:42:50.842Z"
    naive_utc = datetime(2017, 4, 11, 10, 42, 50, tzinfo=UTC).replace(tzinfo=None)
    assert json_of({"t": {"at": naive_utc}})["t"]["at"] == "2017-04-11T10:42:50.000Z"


def test_text_is_escaped_and_what_xml_cannot_carry_is_dropped():
    title = 'A "quoted" <b>&</b>\ttab\nline\x00\x07\ufffe end'
    body = {"song": {"title": title, "lyrics": {"value": "1 < 2 & 3\r\n"}}}

    raw = to_xml(envelope(body))
    song = xml_of(body).find("s:song", NS)

    assert b"\x00" not in raw
    assert b"\x07" not in raw
    assert song.get("title") == 'A "quoted" <b>&</b>\ttab\nline end'
    assert song.find("s:lyrics", NS).text == "1 < 2 & 3\r\n"
    assert json_of(body)["song"]["title"] == title


def test_jsonp_wraps_the_json_in_the_callback(client: Client, db):
    response = client.get("/rest/getOpenSubsonicExtensions", {"f": "jsonp", "callback": "app.cb"})

    assert response.status_code == 200
    assert response["Content-Type"] == "application/javascript; charset=utf-8"
    assert response["X-Content-Type-Options"] == "nosniff"
    script = response.content.decode()
    assert script.startswith("/**/app.cb(")
    assert script.endswith(");")
    payload = json.loads(script.removeprefix("/**/app.cb(").removesuffix(");"))
    assert payload["subsonic-response"]["status"] == "ok"


def test_jsonp_without_a_callback_that_is_a_name_answers_a_json_error(client: Client, db):
    missing = client.get("/rest/getOpenSubsonicExtensions", {"f": "jsonp"})
    code = client.get(
        "/rest/getOpenSubsonicExtensions", {"f": "jsonp", "callback": "alert(document.cookie)"}
    )

    assert error_of(missing) == {"code": 10, "message": "Required parameter is missing: callback."}
    assert error_of(code) == {"code": 0, "message": INVALID_CALLBACK}


def test_an_unknown_format_answers_xml(client: Client, secret: str):
    response = call(client, "ping", api_key(secret), f="yaml")

    assert response["Content-Type"] == "text/xml; charset=utf-8"


def test_a_failed_answer_says_so_in_both_formats():
    params = Params(QueryDict("f=json"))
    error = {"error": {"code": 70, "message": "The requested data was not found."}}

    answer = json.loads(render(params, error, failed=True).content)["subsonic-response"]
    root = ElementTree.fromstring(render(Params(QueryDict()), error, failed=True).content)  # noqa: S314

    assert answer["status"] == "failed"
    assert answer["error"] == error["error"]
    assert root.get("status") == "failed"
    assert root.find("s:error", NS).attrib == {
        "code": "70",
        "message": "The requested data was not found.",
    }
