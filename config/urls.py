from django.conf import settings
from django.contrib import admin
from django.http import HttpRequest, HttpResponseRedirect
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import path, re_path
from django.views.static import serve

from config.api import api
from core.home import home
from core.not_found import api_not_found
from jams.views import jam_page
from subsonic.views import rest
from users.admin import admin_login


def favicon(request: HttpRequest) -> HttpResponseRedirect:
    """Browsers ask for /favicon.ico on their own; the icon itself is a static file."""
    return redirect(static("core/favicon.svg"))


urlpatterns = [
    path("", home, name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("jam/", jam_page, name="jam"),
    # Before the admin's own URLs: its sign-in page, answering 429 while sign-in is locked.
    path("admin/login/", admin_login),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    # Last under /api/: whatever no route takes (a typo, a missing slash, `/songs/abc/`).
    re_path(r"^api(?:/(?P<rest>.*))?$", api_not_found),
    # The Subsonic API: `/rest/ping` and `/rest/ping.view` alike; everything under /rest/ gets
    # a Subsonic answer (an unknown name too), never a page.
    re_path(r"^rest(?:/(?P<path>.*))?$", rest, name="subsonic"),
]

if settings.SERVE_MEDIA:
    # Development only: in production the web server or object store serves /media/.
    media_prefix = settings.MEDIA_URL.lstrip("/")
    urlpatterns += [
        re_path(rf"^{media_prefix}(?P<path>.*)$", serve, {"document_root": settings.MEDIA_ROOT})
    ]
