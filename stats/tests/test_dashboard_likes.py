"""The dashboard's "Most liked this week" card (stats/dashboard.py), through the admin's index."""

import html
import re

import pytest
from django.test import Client
from django.urls import reverse

from catalog import services
from catalog.models import Song
from tests.helpers import like

pytestmark = pytest.mark.django_db


def add_song(artist_name: str, title: str) -> Song:
    """A song row made directly (no file), credited to `artist_name`."""
    artist = services.artist_named(artist_name)
    return Song.objects.create(
        title=title, artist=artist, artist_name=artist.name, duration=60, audio="songs/x.wav"
    )


def most_liked(page: str) -> list[list[str]]:
    """The rows of the dashboard's "Most liked this week" table, cell texts."""
    block = re.search(r"<div data-most-liked>(.*?)</table>", page, re.S)
    assert block, "no Most liked table"
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", block.group(1), re.S)
    table = [
        [html.unescape(re.sub(r"<[^>]+>", "", cell)).strip() for cell in cells_]
        for row in rows
        if (cells_ := re.findall(r"<td[^>]*>(.*?)</td>", row, re.S))
    ]
    return table


def test_the_dashboard_shows_the_most_liked_songs_of_the_week(staff_client: Client, listeners):
    week_top, second, old_hit = (
        add_song("Miles Davis", "So What"),
        add_song("Nina Simone", "Feeling Good"),
        add_song("Nina Simone", "Sinnerman"),
    )
    add_song("Miles Davis", "Unliked")
    like(week_top, listeners[:3], days_ago=1)
    like(second, listeners[:2], days_ago=6)
    like(second, listeners[2:6], days_ago=8)  # would make it first if counted
    like(old_hit, listeners, days_ago=10)

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "Most liked this week" in page
    assert "No likes this week yet." not in page
    assert most_liked(page) == [
        ["1", "So What", "Miles Davis", "3"],
        ["2", "Feeling Good", "Nina Simone", "2"],
    ]


def test_the_dashboard_says_when_nothing_was_liked_this_week(staff_client: Client, listeners):
    like(add_song("Nina Simone", "Sinnerman"), listeners, days_ago=8)

    page = staff_client.get(reverse("admin:index")).content.decode()

    assert "Most liked this week" in page
    assert "No likes this week yet." in page
    assert "data-most-liked" not in page
