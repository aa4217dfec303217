# The catalog's factories, for the dashboard and admin pages that show songs and albums.
from catalog.tests.conftest import make_album, make_song  # noqa: F401
