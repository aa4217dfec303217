"""The demo page /jam/ in two headless Chromium pages, one Jam, real audio (issue 24).

A live uvicorn server (the project's ASGI app: REST and Socket.IO) serves the page and the
songs: 30-second tones made by ffmpeg. Page A signs in and starts a Jam; page B signs in
through the Jam's join link. A presses Play, then goes to 12 s; each time both players'
`currentTime` must agree within 100 ms, sampled several times, while the time advances.

Each sample reads A's player then B's, each reading stamped with its page's clock
(`performance.timeOrigin + performance.now()`, the machine's clock in both pages): A's
position is carried forward to the moment B was read before they are compared.
"""

import itertools
import subprocess
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.test import Client

from tests.helpers import BROWSER_TEST, chromium

pytestmark = BROWSER_TEST

ARTIFACTS = Path(django_settings.BASE_DIR) / "test-artifacts" / "jam"
PASSWORD = "Blue-Train-1957-jam"
SONG_SECONDS = 30
SAMPLES = 5
SAMPLE_EVERY_MS = 300
SYNC_LIMIT_S = 0.100
# Each page against the room's target: the contract's drift limit.
DRIFT_LIMIT_MS = 250
WAIT_MS = 15_000


def tone_wav(folder: Path, frequency: int) -> bytes:
    """A real audio file long enough to seek in: a sine of `SONG_SECONDS` seconds (ffmpeg)."""
    path = folder / f"tone-{frequency}.wav"
    subprocess.run(
        [
            *("ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-f", "lavfi"),
            *("-i", f"sine=frequency={frequency}:sample_rate=22050:duration={SONG_SECONDS}"),
            *("-ac", "1", str(path)),
        ],
        check=True,
        timeout=60,
    )
    return path.read_bytes()


def listener(make_user, name: str):
    """A user whose password the live server can check: the test process hashes with MD5
    (conftest.py), which the server does not take; a cheap PBKDF2 hash it does take."""
    user = make_user(full_name=name)
    user.password = PBKDF2PasswordHasher().encode(PASSWORD, "jamdemosalt", iterations=1000)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def browser(monkeypatch):
    """Headless Chromium that plays sound without a click, as a person's click lets it play
    on the real page."""
    with chromium(
        monkeypatch,
        "--autoplay-policy=no-user-gesture-required",
        "--mute-audio",
        # Two pages play side by side: neither may be throttled as a background one.
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
        "--disable-backgrounding-occluded-windows",
    ) as launched:
        yield launched


def open_page(browser, errors: list[str], name: str):
    page = browser.new_context(viewport={"width": 1200, "height": 900}).new_page()
    page.set_default_timeout(WAIT_MS)

    def on_console(message) -> None:
        url = message.location.get("url", "")
        # Chromium logs every 4xx fetch; "not in a Jam" (404) is how the page, signing in,
        # learns it has no Jam to go back to.
        if message.type == "error" and "favicon" not in url and "/api/jams/current/" not in url:
            errors.append(f"{name} console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(f"{name} pageerror: {error}"))
    return page


def sign_in(page, url: str, user) -> None:
    page.goto(url)
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()


def wait_for(page, condition: str, what: str, arg=None) -> None:
    """Wait (bounded) until the expression `condition` holds on `page`."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_function(condition, arg=arg, timeout=WAIT_MS, polling=50)
    except PlaywrightTimeout:
        state = page.evaluate("() => [window.jamDebug.state, window.jamDebug.sample()]")
        error = page.locator("#error").inner_text()
        pytest.fail(f"not within {WAIT_MS} ms: {what}; page state {state}; error {error!r}")


def playing_from(page, seq: int, position: float) -> None:
    """Wait until the page plays the room's command `seq` (or a later one) past `position`."""
    wait_for(
        page,
        """([seq, position]) => {
            const {now} = window.jamDebug.state;
            const sample = window.jamDebug.sample();
            return now && now.seq >= seq && now.playing && !sample.paused
                && sample.currentTime > position;
        }""",
        f"playing command {seq} past {position} s",
        [seq, position],
    )


def sample_pair(a, b) -> dict:
    """Both players' positions at one moment: A's carried to when B was read."""
    read = "() => window.jamDebug.sample()"
    first = a.evaluate(read)
    second = b.evaluate(read)
    a_at_b = first["currentTime"] + (second["clientMs"] - first["clientMs"]) / 1000
    return {
        "a": round(first["currentTime"], 4),
        "b": round(second["currentTime"], 4),
        "read_gap_ms": round(second["clientMs"] - first["clientMs"], 2),
        "diff_s": round(a_at_b - second["currentTime"], 4),
        # Each against the room's target position, by its own clock.
        "a_off_ms": round(first["currentTime"] * 1000 - first["expectedMs"], 1),
        "b_off_ms": round(second["currentTime"] * 1000 - second["expectedMs"], 1),
    }


def assert_in_sync(a, b, *, start: float, label: str) -> list[dict]:
    samples = []
    for index in range(SAMPLES):
        if index:
            a.wait_for_timeout(SAMPLE_EVERY_MS)
        samples.append(sample_pair(a, b))
    print(f"{label}: {samples}")
    for sample in samples:
        assert abs(sample["diff_s"]) <= SYNC_LIMIT_S, (label, samples)
        assert abs(sample["a_off_ms"]) <= DRIFT_LIMIT_MS, (label, samples)
        assert abs(sample["b_off_ms"]) <= DRIFT_LIMIT_MS, (label, samples)
        assert sample["a"] >= start, (label, samples)
    # The time advances, at about the speed of the clock.
    positions = [sample["b"] for sample in samples]
    assert all(later > earlier for earlier, later in itertools.pairwise(positions)), samples
    elapsed = positions[-1] - positions[0]
    expected = (SAMPLES - 1) * SAMPLE_EVERY_MS / 1000
    assert expected * 0.8 <= elapsed <= expected * 1.6, (label, samples)
    return samples


def test_the_demo_page_is_served(client: Client) -> None:
    response = client.get("/jam/")
    assert response.status_code == 200
    page = response.content.decode()
    assert "<audio" in page
    assert "jams/jam.js" in page
    assert "jams/vendor/socket.io.min.js" in page
    assert client.post("/jam/").status_code == 405


@pytest.mark.django_db(transaction=True)
def test_two_pages_play_one_jam_in_sync(
    start_server, browser, make_user, make_song, settings, tmp_path
):
    from playwright.sync_api import expect

    songs = [
        make_song(
            title=f"Tone {frequency}", artist="Sine Waves", audio=tone_wav(tmp_path, frequency)
        )
        for frequency in (330, 440, 550)
    ]
    assert all(song.duration >= 20 for song in songs)
    host = listener(make_user, "Ada Host")
    guest = listener(make_user, "Grace Guest")
    latecomer = listener(make_user, "Lin Latecomer")
    # The live servers allow a frontend's origin too; the page's own is always allowed.
    server = start_server(env={"MEDIA_ROOT": str(settings.MEDIA_ROOT)})

    errors: list[str] = []
    a = open_page(browser, errors, "A")
    b = open_page(browser, errors, "B")

    # A signs in and starts a Jam from the catalog's first songs.
    sign_in(a, f"{server.url}/jam/", host)
    a.get_by_role("button", name="Start a Jam").click()
    wait_for(a, "() => window.jamDebug.state.joined", "A in the room")
    code = a.locator("#jam-code").inner_text()
    join_url = a.locator("#join-url").evaluate("link => link.href")
    assert join_url.endswith(f"/jam/?code={code}")

    # B opens the join link and signs in: it joins that Jam.
    sign_in(b, join_url, guest)
    for page, name in ((a, "A"), (b, "B")):
        wait_for(
            page,
            """() => {
                const s = window.jamDebug.state;
                return s.joined && s.members === 2 && s.clockSamples >= 2
                    && s.loadedItemId !== null;
            }""",
            f"{name} in the room with both members and a measured clock",
        )
    assert b.locator("#jam-code").inner_text() == code
    # A guest may not control playback (guests_can_control is off): B's buttons say so.
    expect(b.get_by_role("button", name="Play", exact=True)).to_be_disabled()
    expect(a.get_by_role("button", name="Play", exact=True)).to_be_enabled()
    expect(b.locator("#members li")).to_have_count(2)
    assert b.evaluate("window.jamDebug.state.jamId") == a.evaluate("window.jamDebug.state.jamId")

    # A presses Play: both start together.
    seq = a.evaluate("window.jamDebug.state.now.seq")
    a.get_by_role("button", name="Play", exact=True).click()
    for page in (a, b):
        playing_from(page, seq + 1, 0.5)
    played = assert_in_sync(a, b, start=0.5, label="after play")

    # A goes to 12 s: both jump there together.
    seq = a.evaluate("window.jamDebug.state.now.seq")
    a.get_by_label("Go to (seconds)").fill("12")
    a.get_by_role("button", name="Go").click()
    for page in (a, b):
        playing_from(page, seq + 1, 12.2)
        assert page.evaluate("window.jamDebug.lastCommand.action") == "seek"
    sought = assert_in_sync(a, b, start=12.0, label="after the seek")
    assert sought[-1]["b"] < 14.5

    # C joins mid-song: it starts where the room is, within the drift limit of its target.
    c = open_page(browser, errors, "C")
    sign_in(c, join_url, latecomer)
    playing_from(c, seq + 1, 13.0)
    c.wait_for_timeout(500)  # past a drift check, should its start have been far off
    joined_late = [sample_pair(a, c) for _ in range(3)]
    print(f"C joining mid-song, against A: {joined_late}")
    for sample in joined_late:
        assert abs(sample["b_off_ms"]) <= DRIFT_LIMIT_MS, joined_late
        assert abs(sample["diff_s"]) <= DRIFT_LIMIT_MS / 1000, joined_late

    corrections = [page.evaluate("window.jamDebug.state.corrections") for page in (a, b)]
    latencies = [round(page.evaluate("window.jamDebug.startLatencyMs"), 1) for page in (a, b, c)]
    print(
        f"drift corrections (A, B): {corrections}; start latencies learnt (ms, A B C): {latencies}"
    )
    print(
        f"max |A-B| s: play {max(abs(s['diff_s']) for s in played)}, "
        f"seek {max(abs(s['diff_s']) for s in sought)}"
    )
    assert errors == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for page, name in ((a, "host"), (b, "guest")):
        page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
