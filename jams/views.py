"""GET /jam/ : the demo page of Jams (docs/API.md, "Jam: listening together").

A plain page with an <audio> element: it signs in over the REST API (no session, no cookie),
opens or joins a Jam (its `?code=` is a Jam's `join_url`) and plays in sync over Socket.IO.
Its script is jams/static/jams/jam.js; the page itself needs no sign-in."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe


@require_safe  # GET and HEAD; anything else is a 405
def jam_page(request: HttpRequest) -> HttpResponse:
    return render(request, "jams/jam.html")
