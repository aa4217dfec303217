"""Every implemented endpoint's answer, in XML and JSON, against the one saved in
responses/ (as Gonic's tests do). After a deliberate change: `UPDATE_SAVED=1 pytest
subsonic/tests/test_saved_responses.py`, then review the diff of responses/."""

import pytest
from django.test import Client

from subsonic.registry import ENDPOINTS
from subsonic.tests.calls import LISTENER_EMAIL, api_key, assert_saved, call, xml_root

# Each implemented endpoint, with the parameters of its saved call.
CALLS = {
    "ping": {},
    "getLicense": {},
    "getOpenSubsonicExtensions": {},
    "getMusicFolders": {},
    "getScanStatus": {},
    "getUser": {"username": LISTENER_EMAIL},
    "tokenInfo": {},
}


def test_every_implemented_endpoint_has_a_saved_call():
    assert set(CALLS) == set(ENDPOINTS)


@pytest.mark.parametrize("form", ["xml", "json"])
@pytest.mark.parametrize("name", CALLS)
def test_the_answer_is_the_saved_one(client: Client, secret: str, make_song, name: str, form: str):
    make_song()
    make_song(title="Lazy Bird")

    response = call(client, name, api_key(secret), f=form, **CALLS[name])

    if form == "xml":
        assert xml_root(response).get("status") == "ok"
    assert_saved(response, name, form)


@pytest.mark.parametrize("form", ["xml", "json"])
def test_an_error_is_the_saved_one(client: Client, db, form: str):
    response = call(client, "ping", api_key("not-a-key"), f=form)

    if form == "xml":
        assert xml_root(response).get("status") == "failed"
    assert_saved(response, "error_invalid_api_key", form)
