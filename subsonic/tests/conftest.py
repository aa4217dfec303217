"""Accounts with app passwords for the Subsonic tests."""

import pytest

from subsonic.tests.calls import LISTENER_EMAIL
from subsonic.tests.sample_catalog import SampleCatalog, build
from tests.live_servers import LiveServer
from users import services
from users.models import User
from users.services import NewAppPassword


@pytest.fixture
def listener(make_user) -> User:
    return make_user(email=LISTENER_EMAIL, full_name="Ada Listener")


@pytest.fixture
def app_password(listener: User) -> NewAppPassword:
    return services.app_password_create(user=listener, name="Phone")


@pytest.fixture
def secret(app_password: NewAppPassword) -> str:
    return app_password.secret


@pytest.fixture
def sample(make_song, make_album) -> SampleCatalog:
    """The sample catalog of subsonic/tests/sample_catalog.py."""
    return build(make_song, make_album)


@pytest.fixture
def server_of_the_files(start_server, settings) -> LiveServer:
    """A live server that reads the files this test stored (its MEDIA_ROOT)."""
    return start_server(env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)})
