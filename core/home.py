"""GET / : a small page that says what this server is and where its parts are."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe


@require_safe  # GET and HEAD; anything else is a 405
def home(request: HttpRequest) -> HttpResponse:
    links = [
        (reverse("api:openapi-view"), "API docs", "Swagger UI: every endpoint, tried in place."),
        (
            reverse("api:openapi-json"),
            "OpenAPI schema",
            "The contract as JSON, for client generators.",
        ),
        (reverse("jam"), "Jam", "Listen together: a demo player that opens or joins a Jam."),
        (reverse("admin:index"), "Admin", "The catalog, listeners and messages (staff only)."),
        (
            reverse("api:health"),
            "Health check",
            "Database and Redis status, for monitors.",
        ),
    ]
    return render(request, "core/home.html", {"links": links})
