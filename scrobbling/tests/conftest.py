from collections.abc import Iterator

import pytest

from scrobbling.tests.fakes import FakeLastFm, FakeListenBrainz, fake_lastfm, fake_listenbrainz


@pytest.fixture
def listenbrainz(settings) -> Iterator[FakeListenBrainz]:
    """The fake, and the app pointed at it; quick retries."""
    with fake_listenbrainz() as fake:
        settings.LISTENBRAINZ_API_URL = fake.url
        settings.SCROBBLING_TIMEOUT_SECONDS = 5
        settings.JOBS_RETRY_BASE_SECONDS = 0.1
        yield fake


LASTFM_API_KEY = "0123456789abcdef0123456789abcdef"
LASTFM_API_SECRET = "fedcba9876543210fedcba9876543210"


@pytest.fixture
def lastfm(settings, tmp_path) -> Iterator[FakeLastFm]:
    """The Last.fm fake over HTTPS, this server configured for it; quick retries."""
    with fake_lastfm(tmp_path, api_key=LASTFM_API_KEY, api_secret=LASTFM_API_SECRET) as fake:
        settings.LASTFM_API_KEY = LASTFM_API_KEY
        settings.LASTFM_API_SECRET = LASTFM_API_SECRET
        settings.LASTFM_API_URL = fake.url
        settings.LASTFM_CA_FILE = fake.ca_file
        settings.JOBS_RETRY_BASE_SECONDS = 0.1
        # The frontend the tests' Last.fm callbacks go back to.
        settings.CORS_ALLOWED_ORIGINS = ["https://music.example.com"]
        yield fake
