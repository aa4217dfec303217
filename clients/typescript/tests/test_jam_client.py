"""The Jam timing client, src/jam.ts (docs/API.md section 8, "Jam"): its Node tests
(tests/jam/*.test.mjs: the clock's arithmetic, scheduling, seq order, drift, reports,
joining mid-song, with a fake clock, socket and player) run against the built module;
`tsc --strict` on the package and on a player app's code; and ClockSync and JamPlayer
against a live server.

The module is built into a scratch folder (beside a link to this folder's node_modules), so
this test never empties the package's own dist/ under another test's feet.

Skipped when Node.js is missing, or clients/typescript/node_modules is not installed
(`make install-dev` runs `npm ci` there).
"""

import json
import re
import shutil
import subprocess
from http import HTTPStatus
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from jams.models import Jam
from tests.helpers import json_lines
from tests.live_servers import EVENT_TIMEOUT_SECONDS, access_token
from tests.node_scripts import run_in, succeeded

PACKAGE_DIR = Path(__file__).resolve().parents[1]
JAM_TESTS_DIR = Path(__file__).resolve().parent / "jam"
TIMEOUT = 120
# Node and the server share this machine's clock: the measured offset is the error alone.
SAME_MACHINE_OFFSET_MS = 10


def _run(command: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return run_in(command, cwd, timeout)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    """src/ compiled into a scratch dist/, with the Jam tests beside it and the package's
    node_modules linked, as the tests' `../../dist/jam.js` expects."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("Node.js is needed for the TypeScript client's Jam tests")
    tsc = PACKAGE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    if not tsc.exists() or not (PACKAGE_DIR / "node_modules" / "socket.io-client").exists():
        pytest.skip("clients/typescript/node_modules is not installed: run make install-dev")

    root = tmp_path_factory.mktemp("ts-jam")
    (root / "node_modules").symlink_to(PACKAGE_DIR / "node_modules")
    (root / "package.json").write_text('{"private": true, "type": "module"}')
    shutil.copytree(JAM_TESTS_DIR, root / "tests" / "jam")
    build = [node, str(tsc), "-p", str(PACKAGE_DIR / "tsconfig.build.json")]
    succeeded(_run([*build, "--outDir", str(root / "dist")], PACKAGE_DIR))
    return SimpleNamespace(root=root, node=node, tsc=str(tsc))


# --- Node's tests of the timing -------------------------------------------------------------


def test_the_node_tests_of_the_timing_pass(built):
    files = sorted(path.name for path in (built.root / "tests" / "jam").glob("*.test.mjs"))
    assert {"clock.test.mjs", "player.test.mjs"} <= set(files)

    result = _run([built.node, "--test", *files], built.root / "tests" / "jam")

    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    passed = int(re.search(r"^# pass (\d+)$", result.stdout, re.M)[1])
    assert passed >= 20, output
    assert re.search(r"^# fail 0$", result.stdout, re.M), output


def test_the_built_module_exports_the_documented_api(built):
    script = (
        'const jam = await import("./dist/jam.js");'
        "console.log(JSON.stringify(Object.keys(jam).sort()));"
    )
    output = succeeded(_run([built.node, "--input-type=module", "-e", script], built.root))

    assert set(json.loads(output)) >= {
        "ClockSync",
        "JamPlayer",
        "connectJam",
        "clockSample",
        "bestSample",
        "expectedPositionMs",
        "startDelayMs",
        "driftMs",
        "shouldSeek",
        "isNewer",
        "DRIFT_LIMIT_MS",
    }


# --- tsc --strict ---------------------------------------------------------------------------


def test_the_package_compiles_under_tsc_strict_with_jam_ts(built):
    config = json.loads((PACKAGE_DIR / "tsconfig.json").read_text())
    assert "src/**/*.ts" in config["include"]

    result = _run([built.node, built.tsc, "--strict", "--noEmit", "-p", "."], PACKAGE_DIR)

    assert result.returncode == 0, result.stdout + result.stderr


# The marked lines of jam/typed.ts, each made wrong, and what tsc must say about it.
WRONG_LINES = {
    "command-field": ("command.at_server_ms", "command.at_server", "'at_server' does not exist"),
    "emit-action": ('action: "seek"', 'action: "rewind"', '"rewind"'),
    "seek-needs-position": (
        'jam.command("seek", { position_ms: 1000 })',
        'jam.command("seek")',
        "No overload matches this call",
    ),
    "closed-reason": ('reason === "host_left"', 'reason === "left"', "no overlap"),
}


def test_a_player_apps_code_compiles_and_a_wrong_line_does_not(built, tmp_path):
    typed = JAM_TESTS_DIR / "typed.ts"
    right = _run([built.node, built.tsc, "-p", str(JAM_TESTS_DIR / "tsconfig.json")], PACKAGE_DIR)
    assert right.returncode == 0, right.stdout + right.stderr

    lines = typed.read_text().replace("../../src/", f"{PACKAGE_DIR}/src/").splitlines()
    wrong_at: dict[int, str] = {}
    for case, (good, bad, _) in WRONG_LINES.items():
        (number,) = [i for i, line in enumerate(lines) if line.endswith(f"// case: {case}")]
        assert good in lines[number], case
        lines[number] = lines[number].replace(good, bad)
        wrong_at[number + 1] = case
    (tmp_path / "wrong.ts").write_text("\n".join(lines) + "\n")
    config = {"extends": str(PACKAGE_DIR / "tsconfig.json"), "files": ["wrong.ts"], "include": []}
    (tmp_path / "tsconfig.json").write_text(json.dumps(config))

    result = _run([built.node, built.tsc, "-p", "tsconfig.json"], tmp_path)

    assert result.returncode != 0
    errors: dict[int, str] = {}
    for match in re.finditer(r"^wrong\.ts\((\d+),\d+\): error (.*)$", result.stdout, re.M):
        errors[int(match[1])] = errors.get(int(match[1]), "") + match[2]
    assert set(errors) == set(wrong_at), result.stdout
    for number, case in wrong_at.items():
        assert WRONG_LINES[case][2] in errors[number], (case, errors[number])


# --- Against a live server ------------------------------------------------------------------


def test_clock_sync_and_a_command_round_trip_with_a_live_server(
    built, uvicorn_server, make_user, make_song
):
    user = make_user()
    songs = [make_song(title="Halo"), make_song(title="So What")]
    created = httpx.post(
        f"{uvicorn_server.url}/api/jams/",
        json={"song_ids": [song.pk for song in songs]},
        headers={"Authorization": f"Bearer {access_token(user)}"},
        timeout=10,
    )
    assert created.status_code == HTTPStatus.CREATED, created.text
    jam = created.json()

    result = _run(
        [built.node, "live.mjs", uvicorn_server.url, access_token(user), str(jam["id"])],
        built.root / "tests" / "jam",
        timeout=EVENT_TIMEOUT_SECONDS * 3,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    events = {event["event"]: event["data"] for event in json_lines(result.stdout)}
    clock = events["clock"]
    assert clock["samples"] == 5
    assert abs(clock["offset_ms"]) < SAME_MACHINE_OFFSET_MS, clock
    assert 0 <= clock["rtt_ms"] < 1000, clock
    first_item = jam["queue"][0]
    assert events["joined"] == {
        "ok": True,
        "seq": jam["now"]["seq"],
        "loaded": [[first_item["id"], songs[0].pk]],
    }

    ack = events["ack"]
    assert ack["ok"] is True, ack
    command = ack["command"]
    assert command["action"] == "play"
    assert command["by"] == user.pk
    assert command["playing"] is True
    assert command["item_id"] == first_item["id"]
    assert command["seq"] == jam["now"]["seq"] + 1
    # The event the room got is the ack's command, and the player applied it.
    assert events["command"] == command
    assert events["now"] == {
        key: command[key] for key in ("item_id", "position_ms", "playing", "at_server_ms", "seq")
    }
    # Played once, at the command's moment (never before it), from its position.
    (played,) = events["played"]
    # (A timer may fire a millisecond early; a late one starts that much further in.)
    late_ms = played["server_ms"] - command["at_server_ms"]
    assert -2 <= late_ms < 500, played
    assert command["position_ms"] == 0
    assert 0 <= played["position_ms"] <= max(0, late_ms) + 1, played
    stored = Jam.objects.get(pk=jam["id"])
    assert (stored.playing, stored.seq, stored.at_server_ms) == (
        True,
        command["seq"],
        command["at_server_ms"],
    )


def test_the_typed_jam_events_are_the_servers():
    """jam.ts's two event maps name exactly what jams/ sends and handles."""
    source = (PACKAGE_DIR / "src" / "jam.ts").read_text()
    jams_dir = PACKAGE_DIR.parents[1] / "jams"
    server = "\n".join((jams_dir / name).read_text() for name in ("events.py", "push.py"))
    sent = set(re.findall(r"\bemit\(\s*\"(\w+)\"", server))
    for pushes in re.findall(r"\bemit_together\(\s*\[(.*?)\]\s*\)", server, re.S):
        sent |= set(re.findall(r"\(\s*\"(\w+)\",", pushes))
    handled = set(re.findall(r"@_jam_event\(\w+\)\nasync def (\w+)", server))
    handled |= set(re.findall(r"@sio\.on\(\"(\w+)\"", server))

    def members(name: str) -> set[str]:
        body = re.search(rf"interface {name} \{{(.*?)\n\}}", source, re.S)[1]
        return set(re.findall(r"^  (\w+): \(", body, re.M))

    assert members("JamServerToClientEvents") == sent
    assert members("JamClientToServerEvents") == handled
