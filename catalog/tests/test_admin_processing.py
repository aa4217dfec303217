"""The songs' admin shows what the media pipeline made of each song (state, loudness, the
formats it streams as, a waveform picture) and can ask for it again."""

import json
import re
from http import HTTPStatus

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from catalog import services
from catalog.models import ProcessingState, Song
from catalog.renditions import StreamFormat
from catalog.signals import audio_changed
from tests.admin_pages import shot, sign_in
from tests.helpers import BROWSER_TEST
from tests.media_samples import wav_bytes

pytestmark = pytest.mark.django_db

# A waveform that rises to full scale and back: 8 points of min, max.
PEAKS = [-10, 10, -40, 40, -90, 90, -127, 127, -127, 127, -90, 90, -40, 40, -10, 10]


def store_outputs(song: Song, *, loudness=-16.25, true_peak=-0.5) -> None:
    stored = services.song_outputs_store(
        song_id=song.pk,
        outputs=services.PipelineOutputs(
            made_from=song.audio.name,
            renditions={
                StreamFormat.OPUS: ContentFile(b"OggS"),
                StreamFormat.MP3: ContentFile(b"ID3"),
            },
            waveform=ContentFile(
                json.dumps({"version": 2, "channels": 1, "bits": 8, "data": PEAKS}).encode()
            ),
            loudness=loudness,
            true_peak=true_peak,
        ),
    )
    assert stored


def change_page(staff_client, song: Song) -> str:
    response = staff_client.get(reverse("admin:catalog_song_change", args=[song.pk]))
    assert response.status_code == HTTPStatus.OK
    return response.content.decode()


def test_a_processed_song_shows_its_loudness_formats_and_waveform(staff_client, make_song):
    song = make_song("Sunrise", audio=wav_bytes(0.5))
    store_outputs(song)

    page = change_page(staff_client, song)

    assert "processed" in page
    assert "-16.2 LUFS, true peak -0.5 dBTP; ReplayGain track -1.75 dB, album -1.75 dB" in page
    assert "original, opus, mp3" in page
    polygon = re.search(
        r'<svg role="img" aria-label="Waveform of Sunrise".*?points="([^"]+)"', page
    )
    assert polygon is not None
    points = polygon.group(1).split()
    assert len(points) == len(PEAKS)  # the maxima along the top, the minima back
    assert points[3] == "3,0"  # full scale reaches the top edge


def test_a_pending_or_failed_song_says_so_without_a_waveform(staff_client, make_song):
    pending = make_song("Pending", audio=wav_bytes(0.5))
    failed = make_song("Broken", audio=wav_bytes(0.5))
    services.song_processing_failed(
        song_id=failed.pk, made_from=failed.audio.name, reason="ffmpeg could not decode it."
    )

    pending_page = change_page(staff_client, pending)
    failed_page = change_page(staff_client, failed)

    assert "waiting to be processed" in pending_page
    assert 'aria-label="Waveform' not in pending_page
    assert "ffmpeg could not decode it." in failed_page
    listing = staff_client.get(
        reverse("admin:catalog_song_changelist") + "?processing_state=failed"
    )
    assert "Broken" in listing.content.decode()
    assert "Pending" not in listing.content.decode()


def test_process_again_makes_the_songs_pending_and_announces_them(staff_client, make_song):
    songs = [make_song(f"Song {n}", audio=wav_bytes(0.5)) for n in range(2)]
    store_outputs(songs[0])
    announced = []

    def heard(sender, *, song_id, **kwargs):
        announced.append(song_id)

    audio_changed.connect(heard)
    try:
        response = staff_client.post(
            reverse("admin:catalog_song_changelist"),
            {"action": "process_again", "_selected_action": [song.pk for song in songs]},
        )
    finally:
        audio_changed.disconnect(heard)

    assert response.status_code == HTTPStatus.FOUND
    assert sorted(announced) == sorted(song.pk for song in songs)
    states = set(Song.objects.values_list("processing_state", flat=True))
    assert states == {ProcessingState.PENDING}
    # What was made keeps streaming until the new outputs replace it.
    assert Song.objects.get(pk=songs[0].pk).opus_file


@pytest.mark.parametrize("_", [None], ids=["chromium"])
@BROWSER_TEST[0]
@BROWSER_TEST[1]
@pytest.mark.django_db(transaction=True)
def test_an_admin_sees_the_waveform_and_loudness_in_chromium(
    _, live_server, browser_page, admin_user, make_song
):
    song = make_song("Sunrise", audio=wav_bytes(0.5))
    store_outputs(song)
    page = browser_page

    sign_in(page, live_server.url, admin_user)
    page.goto(f"{live_server.url}/admin/catalog/song/{song.pk}/change/")
    waveform = page.locator('svg[aria-label="Waveform of Sunrise"]')
    waveform.scroll_into_view_if_needed()
    shot(page, "song-processing")

    box = waveform.bounding_box()
    assert box is not None
    assert (round(box["width"]), round(box["height"])) == (480, 64)
    assert page.get_by_text("-16.2 LUFS, true peak -0.5 dBTP").is_visible()
    assert page.get_by_text("processed", exact=True).first.is_visible()
