"""The admin dashboard (Unfold's DASHBOARD_CALLBACK), built on the stats API's selectors."""

import json
from typing import Any

from django.http import HttpRequest
from django.urls import reverse

from core.admin_format import minutes_and_seconds
from stats import selectors

# Chart.js options for the plays chart. Unfold's chart component uses these instead of its
# defaults (static/unfold/js/app.js, DEFAULT_CHART_OPTIONS), so this is their look in JSON
# (their functions dropped) plus whole-number ticks on the y axis: plays are a count.
_TICKS = {"color": "#9ca3af"}
_AXIS_BORDER = {"dash": [5, 5], "width": 0}
PLAYS_CHART_OPTIONS = {
    "animation": False,
    "barPercentage": 1,
    "base": 0,
    "grouped": False,
    "maxBarThickness": 12,
    "responsive": True,
    "maintainAspectRatio": False,
    "datasets": {"bar": {"borderRadius": 4, "borderSkipped": "bottom"}},
    "plugins": {"legend": {"display": False}, "tooltip": {"enabled": True}},
    "scales": {
        "x": {
            "border": _AXIS_BORDER,
            "grid": {"display": False},
            "ticks": {**_TICKS, "maxTicksLimit": 10},
        },
        "y": {
            "beginAtZero": True,
            "border": _AXIS_BORDER,
            "grid": {"tickWidth": 0},
            "ticks": {**_TICKS, "precision": 0, "maxTicksLimit": 6},
        },
    },
}


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    totals = selectors.platform_totals()
    daily = selectors.plays_per_day(days=30)
    top = list(selectors.top_songs(days=7, limit=10))
    most_liked = list(selectors.most_liked_songs(days=7, limit=5))
    newest = list(selectors.newest_songs(limit=8))

    context.update(
        {
            "kpis": [
                {"title": "Songs", "value": totals.total_songs, "icon": "music_note"},
                {"title": "Albums", "value": totals.total_albums, "icon": "album"},
                {"title": "Artists", "value": totals.total_artists, "icon": "mic"},
                # Listeners only: the admins who read this page are not counted.
                {"title": "Listeners", "value": selectors.listener_count(), "icon": "person"},
            ],
            "plays_total": sum(plays for _, plays in daily),
            "plays_chart": json.dumps(
                {
                    "labels": [day.strftime("%b %d") for day, _ in daily],
                    "datasets": [
                        {
                            "label": "Plays",
                            "data": [plays for _, plays in daily],
                            "backgroundColor": "var(--color-primary-600)",
                        }
                    ],
                }
            ),
            "plays_chart_options": json.dumps(PLAYS_CHART_OPTIONS),
            "top_songs": {
                "headers": ["#", "Song", "Artist", "Plays"],
                "rows": [
                    [rank, song.title, song.artist_name, song.plays_count]
                    for rank, song in enumerate(top, start=1)
                ],
            },
            "most_liked_songs": {
                "headers": ["#", "Song", "Artist", "Likes"],
                "rows": [
                    [rank, song.title, song.artist_name, song.likes_count]
                    for rank, song in enumerate(most_liked, start=1)
                ],
            },
            "newest_songs": {
                "headers": ["Song", "Artist", "Length", "Added"],
                "rows": [
                    [
                        song.title,
                        song.artist_name,
                        minutes_and_seconds(song.duration),
                        f"{song.created_at:%Y-%m-%d}",
                    ]
                    for song in newest
                ],
            },
            "songs_url": reverse("admin:catalog_song_changelist"),
        }
    )
    return context
