"""Django alone: the floor's reads (../shared/bench/floor.py) as bare Django views.

No middleware, no installed app, no ninja, no schema: one module with Django's URL resolver,
request and response, the database wrapper with the project's pool, and orjson. What it
serves is the most any Django project can serve on this machine with these queries, so it
tells how much of the floor's lead is Django's own and how much is this project's.

    DATABASE_URL=postgres://... gunicorn bench.django_floor:application -c deploy/gunicorn.conf.py

bench/serving.sh runs it as the `django` column (OPTIONS="... django").
"""

import os

import environ
import orjson
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.urls import path

COLUMNS = "id, title, artist, album_id, duration, image, audio, created_at, updated_at"

database = environ.Env.db_url_config(os.environ["DATABASE_URL"])
database["ENGINE"] = "core.db.postgresql"  # the project's backend and pool
database["OPTIONS"] = {"pool": {"min_size": 1, "max_size": 10, "timeout": 2.0}}
settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    SECRET_KEY=os.environ.get("SECRET_KEY", "django-floor-" + "x" * 40),
    USE_TZ=True,
    DATABASES={"default": database},
)


def rows(sql: str, params: list[object]) -> list[dict[str, object]]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [column.name for column in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def json(data: object, status: int = 200) -> HttpResponse:
    return HttpResponse(orjson.dumps(data), content_type="application/json", status=status)


def song(request: HttpRequest, song_id: int) -> HttpResponse:
    found = rows(f"SELECT {COLUMNS} FROM catalog_song WHERE id = %s", [song_id])
    return json(found[0]) if found else json({"detail": "Not found."}, 404)


def album(request: HttpRequest, album_id: int) -> HttpResponse:
    found = rows("SELECT * FROM catalog_album WHERE id = %s", [album_id])
    if not found:
        return json({"detail": "Not found."}, 404)
    songs = rows(f"SELECT {COLUMNS} FROM catalog_song WHERE album_id = %s ORDER BY id", [album_id])
    return json({**found[0], "songs": songs})


def featured(request: HttpRequest) -> HttpResponse:
    return json(rows(f"SELECT {COLUMNS} FROM catalog_song TABLESAMPLE SYSTEM_ROWS(6)", []))


def health(request: HttpRequest) -> HttpResponse:
    return json({"status": "ok"})


urlpatterns = [
    path("api/health/", health),
    path("api/songs/featured/", featured),
    path("api/songs/<int:song_id>/", song),
    path("api/albums/<int:album_id>/", album),
]

application = get_wsgi_application()
