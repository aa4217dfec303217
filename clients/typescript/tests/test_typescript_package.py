"""clients/typescript as another project uses it: `npm pack`'s tarball installed (offline,
from npm's cache) into a scratch project, compiled against with `tsc --strict`, run by Node
(plain and bundled by esbuild) against a stub server, and its typed Socket.IO wrapper
chatting with a live server.

Skipped when Node.js or npm is missing, or clients/typescript/node_modules is not installed
(`make install-dev` runs `npm ci` there).
"""

import json
import re
import shutil
import subprocess
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher, make_password

from messaging.models import Message
from messaging.realtime.events import CONNECTION_REFUSED, RESYNC_DELIVERY_INTERRUPTED
from messaging.realtime.push import RESYNC_PUSH_FAILED, message_payload
from messaging.schemas import ActivityIn, MessageIn
from tests.helpers import json_lines, serving
from tests.live_servers import EVENT_TIMEOUT_SECONDS
from tests.node_scripts import run_in, succeeded

PACKAGE_DIR = Path(__file__).resolve().parents[1]
REALTIME_SERVER_DIR = Path(__file__).resolve().parents[3] / "messaging" / "realtime"
CONSUMER_DIR = Path(__file__).resolve().parent / "consumer"
PACKAGE_NAME = "@music-streaming/api-client"
TIMEOUT = 300


def _run(command: list[str], cwd: Path, timeout: float = TIMEOUT) -> subprocess.CompletedProcess:
    return run_in(command, cwd, timeout)


def _scratch_lock(registry: str, tarball: str) -> tuple[dict, dict]:
    """package.json and package-lock.json of a project depending on the tarball alone, with
    the package's run-time dependencies at the versions of clients/typescript's lock file.
    The lock names each tarball's URL, so `npm ci --offline` takes it from npm's cache by its
    integrity without asking the registry anything (this machine's npm leaves `resolved` out
    of lock files, and then even `npm ci` wants each package's metadata)."""
    lock = json.loads((PACKAGE_DIR / "package-lock.json").read_text())
    manifest = json.loads((PACKAGE_DIR / "package.json").read_text())
    dependencies = {PACKAGE_NAME: f"file:{tarball}"}
    packages: dict[str, dict] = {
        "": {"name": "scratch", "dependencies": dependencies},
        f"node_modules/{PACKAGE_NAME}": {
            "version": manifest["version"],
            "resolved": f"file:{tarball}",
            "dependencies": manifest["dependencies"],
        },
    }
    for path, entry in lock["packages"].items():
        if not path or entry.get("dev") or entry.get("link"):
            continue
        name = path.rsplit("node_modules/", 1)[1]
        basename = name.rsplit("/", 1)[-1]
        packages[path] = {
            "resolved": f"{registry.rstrip('/')}/{name}/-/{basename}-{entry['version']}.tgz",
            **entry,
        }
    package_json = {
        "name": "scratch",
        "private": True,
        "type": "module",
        "dependencies": dependencies,
    }
    return package_json, {
        "name": "scratch",
        "lockfileVersion": 3,
        "requires": True,
        "packages": packages,
    }


@pytest.fixture(scope="module")
def consumer(tmp_path_factory) -> SimpleNamespace:
    """A scratch project with the packed client installed, and the tools to work on it."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.skip("Node.js and npm are needed for the TypeScript client's package tests")
    tsc = PACKAGE_DIR / "node_modules" / "typescript" / "bin" / "tsc"
    esbuild = PACKAGE_DIR / "node_modules" / "esbuild" / "bin" / "esbuild"
    if not tsc.exists() or not esbuild.exists():
        pytest.skip("clients/typescript/node_modules is not installed: run make install-dev")

    root = tmp_path_factory.mktemp("ts-consumer")
    # Builds dist/ (the `prepare` script) and packs what `files` names.
    packed = json.loads(
        succeeded(_run([npm, "pack", "--json", "--pack-destination", str(root)], PACKAGE_DIR))
    )
    tarball = packed[0]["filename"]
    registry = succeeded(_run([npm, "config", "get", "registry"], root)).strip()
    package_json, lock = _scratch_lock(registry, tarball)
    (root / "package.json").write_text(json.dumps(package_json, indent=2))
    (root / "package-lock.json").write_text(json.dumps(lock, indent=2))
    succeeded(_run([npm, "ci", "--offline", "--no-audit", "--no-fund", "--loglevel=error"], root))
    for source in CONSUMER_DIR.iterdir():
        shutil.copy(source, root / source.name)
    return SimpleNamespace(
        root=root, tarball=root / tarball, node=node, tsc=str(tsc), esbuild=str(esbuild)
    )


# --- The tarball ------------------------------------------------------------------------


def test_the_tarball_ships_javascript_declarations_and_the_schema(consumer):
    with tarfile.open(consumer.tarball) as archive:
        names = {name.removeprefix("package/") for name in archive.getnames()}
        manifest = json.load(archive.extractfile("package/package.json"))

    for built in ("client.js", "client.d.ts", "realtime.js", "realtime.d.ts", "jam.js", "jam.d.ts"):
        assert f"dist/{built}" in names
    assert "schema.d.ts" in names
    assert not any(name.startswith(("node_modules/", "tests/", "examples/")) for name in names)
    # Every entry point names a file the tarball holds.
    targets = [manifest["main"], manifest["types"]]
    for entry in manifest["exports"].values():
        targets += [entry] if isinstance(entry, str) else list(entry.values())
    assert {target.removeprefix("./") for target in targets} <= names
    assert manifest["exports"]["."]["default"] == "./dist/client.js"
    assert manifest["exports"]["./realtime"]["types"] == "./dist/realtime.d.ts"
    assert set(manifest["dependencies"]) == {"openapi-fetch", "socket.io-client"}
    installed = consumer.root / "node_modules" / PACKAGE_NAME
    assert (installed / "dist" / "client.js").is_file()


def test_installing_by_path_links_the_built_folder(consumer, stub_server, tmp_path):
    """`npm install <path to clients/typescript>` links the folder: its dist/ (built by `npm
    ci` there, or by the fixture's `npm pack`) and node_modules serve the app."""
    (tmp_path / "package.json").write_text('{"name": "by-path", "private": true}')
    (tmp_path / "main.mjs").write_text(
        f'import {{ createApiClient }} from "{PACKAGE_NAME}";\n'
        f'import {{ connectRealtime }} from "{PACKAGE_NAME}/realtime";\n'
        "const api = createApiClient({ baseUrl: process.argv[2] });\n"
        'const { data } = await api.client.GET("/api/health/");\n'
        'const socket = connectRealtime(process.argv[2], { token: "t", autoConnect: false });\n'
        "console.log(JSON.stringify({ data, connected: socket.connected }));\n"
    )
    npm = shutil.which("npm")
    install = [npm, "install", "--offline", "--no-audit", "--no-fund", "--loglevel=error"]
    succeeded(_run([*install, str(PACKAGE_DIR)], tmp_path))

    installed = tmp_path / "node_modules" / PACKAGE_NAME
    assert installed.is_symlink()
    assert installed.resolve() == PACKAGE_DIR
    output = succeeded(_run([consumer.node, "main.mjs", stub_server.url], tmp_path, timeout=60))
    assert json.loads(output) == {"data": HEALTH, "connected": False}


# --- tsc --strict on a consumer's code ----------------------------------------------------

# The marked lines of consumer/typed.ts, each made wrong, and what tsc must say about it.
WRONG_LINES = {
    "response-field": ("health?.status", "health?.state", "Property 'state' does not exist"),
    "query-param": ("limit: 100, cursor", "limt: 100, cursor", "'limt' does not exist"),
    "listener-payload": ("message.content", "message.text", "Property 'text' does not exist"),
    "emit-payload": ("receiver_id: 2,", "receiverId: 2,", "'receiverId' does not exist"),
    "event-name": ('"update_activity"', '"update_activty"', '"update_activty"'),
    "presence-payload": ("online, offline }", "online, gone }", "Property 'gone' does not exist"),
}


def _tsc(consumer: SimpleNamespace, *options: str) -> subprocess.CompletedProcess:
    return _run([consumer.node, consumer.tsc, "-p", "tsconfig.json", *options], consumer.root)


@pytest.mark.parametrize(
    "resolution",
    [
        pytest.param(("--module", "ESNext", "--moduleResolution", "Bundler"), id="bundler"),
        pytest.param(("--module", "NodeNext", "--moduleResolution", "NodeNext"), id="nodenext"),
    ],
)
def test_a_consumer_compiles_under_tsc_strict(consumer, resolution):
    result = _tsc(consumer, *resolution)

    assert result.returncode == 0, result.stdout + result.stderr


def test_a_wrong_field_or_event_does_not_compile(consumer):
    lines = (consumer.root / "typed.ts").read_text().splitlines()
    wrong_at: dict[int, str] = {}
    for case, (right, wrong, _) in WRONG_LINES.items():
        (number,) = [i for i, line in enumerate(lines) if line.endswith(f"// case: {case}")]
        assert right in lines[number], case
        lines[number] = lines[number].replace(right, wrong)
        wrong_at[number + 1] = case
    (consumer.root / "wrong.ts").write_text("\n".join(lines) + "\n")

    config = json.loads((consumer.root / "tsconfig.json").read_text())
    (consumer.root / "tsconfig.wrong.json").write_text(
        json.dumps({**config, "files": ["wrong.ts"]})
    )

    result = _run([consumer.node, consumer.tsc, "-p", "tsconfig.wrong.json"], consumer.root)

    assert result.returncode != 0
    errors: dict[int, str] = {}
    for match in re.finditer(r"^wrong\.ts\((\d+),\d+\): error (.*)$", result.stdout, re.M):
        errors[int(match[1])] = errors.get(int(match[1]), "") + match[2]
    assert set(errors) == set(wrong_at), result.stdout
    for number, case in wrong_at.items():
        assert WRONG_LINES[case][2] in errors[number], (case, errors[number])


# --- Node, plain and bundled, against a stub server --------------------------------------

SONGS = [{"id": n, "title": f"Blue {n}"} for n in (1, 2, 3)]
HEALTH = {"status": "ok", "database": "ok", "redis": "off"}
DATABASE_DOWN = "The database is unreachable."


@dataclass
class StubServer:
    """The documented answers of GET /api/health/ and GET /api/songs/ (pages of 2 with an
    opaque `next`; a search for "missing" gets the 503 of a database away)."""

    url: str = ""
    queries: list[dict[str, list[str]]] = field(default_factory=list)


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    stub = StubServer()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlsplit(self.path)
            query = parse_qs(url.query)
            if url.path == "/api/health/":
                self._answer(200, HEALTH)
            elif url.path == "/api/songs/":
                stub.queries.append(query)
                if query.get("search") == ["missing"]:
                    self._answer(503, {"detail": DATABASE_DOWN})
                    return
                start = {None: 0, "page-2": 2}[query.get("cursor", [None])[0]]
                limit = int(query["limit"][0])
                items = SONGS[start : start + limit]
                more = start + limit < len(SONGS)
                self._answer(
                    200, {"items": items, "count": len(SONGS), "next": "page-2" if more else None}
                )
            else:
                self._answer(404, {"detail": "Not Found"})

        def _answer(self, status: int, body: dict) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            self.end_headers()
            self.wfile.write(raw)

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    stub.url = f"http://127.0.0.1:{server.server_address[1]}"
    with serving(server):
        yield stub


def _assert_app_output(output: str, stub: StubServer) -> None:
    assert json.loads(output) == {
        "health": {"status": 200, "body": HEALTH},
        "titles": ["Blue 1", "Blue 2", "Blue 3"],
        "missing": {"status": 503, "message": DATABASE_DOWN},
        "tokens": None,
        "socket": {"connected": False, "hasEmit": True},
    }
    # The first page without a cursor (null is not sent), the next one with the cursor and
    # the query again, never an offset.
    assert stub.queries == [
        {"search": ["blue"], "limit": ["2"]},
        {"search": ["blue"], "limit": ["2"], "cursor": ["page-2"]},
        {"search": ["missing"]},
    ]


def test_node_runs_the_installed_package(consumer, stub_server):
    output = succeeded(_run([consumer.node, "app.mjs", stub_server.url], consumer.root, timeout=60))

    _assert_app_output(output, stub_server)


def test_esbuild_bundles_the_installed_package(consumer, stub_server, tmp_path):
    # For Node: socket.io-client's dependencies are CommonJS modules that require Node's
    # built-ins, which an ES module bundle does with a `require` of its own.
    banner = (
        "import { createRequire } from 'node:module';"
        " const require = createRequire(import.meta.url);"
    )
    succeeded(
        _run(
            [
                consumer.esbuild,
                "app.mjs",
                "--bundle",
                "--platform=node",
                "--format=esm",
                f"--banner:js={banner}",
                f"--outfile={tmp_path / 'node.mjs'}",
                "--log-level=error",
            ],
            consumer.root,
        )
    )
    # For browsers: the same code, with socket.io-client's browser build.
    succeeded(
        _run(
            [
                consumer.esbuild,
                "app.mjs",
                "--bundle",
                "--platform=browser",
                "--format=esm",
                f"--outfile={tmp_path / 'browser.js'}",
                "--log-level=error",
            ],
            consumer.root,
        )
    )

    # The bundle runs away from any node_modules.
    output = succeeded(_run([consumer.node, "node.mjs", stub_server.url], tmp_path, timeout=60))
    _assert_app_output(output, stub_server)
    browser = (tmp_path / "browser.js").read_text()
    for module in ("dist/client.js", "dist/realtime.js"):
        assert f"// node_modules/{PACKAGE_NAME}/{module}" in browser
    # socket.io-client's browser build: no Node WebSocket or XMLHttpRequest emulation.
    assert "xmlhttprequest-ssl" not in browser
    assert "node_modules/ws/" not in browser


# --- The typed Socket.IO wrapper against a live server ------------------------------------

PASSWORD = "correct horse battery staple"


def _chat(consumer: SimpleNamespace, *args: str) -> subprocess.CompletedProcess:
    return _run(
        [consumer.node, "chat.mjs", *args], consumer.root, timeout=EVENT_TIMEOUT_SECONDS * 3
    )


def test_the_realtime_wrapper_chats_with_a_live_server(consumer, uvicorn_server, make_user):
    user, peer = make_user(), make_user()
    # A password the live server can check (the tests' own hasher is MD5, which it lacks).
    user.password = make_password(PASSWORD, hasher=PBKDF2PasswordHasher())
    user.save(update_fields=["password"])
    activity = "Playing So What by Miles Davis"

    result = _chat(
        consumer, uvicorn_server.url, user.email, PASSWORD, str(peer.pk), "Hello from TS"
    )

    assert result.returncode == 0, result.stdout + result.stderr
    message = Message.objects.get()
    assert (message.sender, message.receiver, message.content) == (user, peer, "Hello from TS")
    events = {event["event"]: event["data"] for event in json_lines(result.stdout)}
    assert events["signed_in"] == user.pk
    assert events["tokens"] == {"access": "string", "refresh": "string"}
    assert events["users_online"] == [user.pk]
    assert events["activity_updated"] == {"user_id": user.pk, "activity": activity}
    assert events["message_sent"] == message_payload(message)
    assert "message_error" not in events


def test_the_realtime_wrapper_is_refused_without_a_token(consumer, uvicorn_server, make_user):
    peer = make_user()

    result = _chat(consumer, uvicorn_server.url, "-", "-", str(peer.pk), "Hi")

    assert result.returncode == 1, result.stdout + result.stderr
    assert json_lines(result.stdout) == [{"event": "connect_error", "data": CONNECTION_REFUSED}]
    assert not Message.objects.exists()


# --- src/realtime.ts names the server's events --------------------------------------------


def _interface(source: str, name: str) -> dict[str, str]:
    """The members of a TypeScript interface: event name -> its listener's type."""
    body = re.search(rf"interface {name} \{{(.*?)\n\}}", source, re.S)[1]
    return dict(re.findall(r"^  (\w+): (\(.*\) => void);$", body, re.M))


def test_the_typed_events_are_the_servers():
    source = (PACKAGE_DIR / "src" / "realtime.ts").read_text()
    server = "\n".join(path.read_text() for path in REALTIME_SERVER_DIR.glob("*.py"))
    sent = set(re.findall(r"(?:\bemit|_announce)\(\s*\"(\w+)\"", server))
    # Pushes handed over together: emit_together([("event", data, room), ...]).
    for pushes in re.findall(r"\bemit_together\(\s*\[(.*?)\]\s*\)", server, re.S):
        sent |= set(re.findall(r"\(\s*\"(\w+)\",", pushes))
    handled = set(re.findall(r"@sio\.event\n(?:@\w+\n)*async def (\w+)", server))

    to_client = _interface(source, "ServerToClientEvents")
    to_server = _interface(source, "ClientToServerEvents")

    assert set(to_client) == sent
    assert set(to_server) == handled - {"connect", "disconnect"}
    # The payloads' fields are the server's schemas'.
    for event, schema in (("send_message", MessageIn), ("update_activity", ActivityIn)):
        fields = re.search(r"\{(.*)\}", to_server[event])[1]
        assert set(re.findall(r"(\w+):", fields)) == set(schema.model_fields), event
    assert "Message" in to_client["receive_message"]
    assert re.search(r'export type Message = components\["schemas"\]\["MessageOut"\]', source)
    assert "{ user_id: number; activity: string }" in to_client["activity_updated"]
    assert "{ detail: string }" in to_client["message_error"]
    reasons = re.search(r"export type ResyncReason = (.*);", source)[1]
    assert set(re.findall(r'"(\w+)"', reasons)) == {RESYNC_DELIVERY_INTERRUPTED, RESYNC_PUSH_FAILED}
