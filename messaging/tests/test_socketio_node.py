"""The real `socket.io-client` npm package (what the Node frontend uses) against a live server.

`make install-dev` installs the package with `npm ci` into messaging/tests/node/ from the
committed package.json and package-lock.json (node_modules/ is git-ignored), so the test runs
offline; without Node.js or that install it is skipped and says why.
"""

import asyncio
import shutil
import subprocess
from pathlib import Path

import pytest

from messaging.models import Message
from messaging.realtime.events import CONNECTION_REFUSED
from messaging.realtime.push import message_payload
from tests.helpers import json_lines
from tests.live_servers import EVENT_TIMEOUT_SECONDS, access_token

NODE_DIR = Path(__file__).parent / "node"
SCRIPT = NODE_DIR / "chat.mjs"


NO_NODE = "Node.js is not installed (apt install nodejs npm, then make install-dev)"
NO_SOCKET_IO_CLIENT = (
    "socket.io-client is not installed in messaging/tests/node: run make install-dev (npm ci)"
)


def node_client_missing(node: str | None, node_dir: Path) -> str | None:
    """Why the Node client cannot run, or None when it can."""
    if node is None:
        return NO_NODE
    if not (node_dir / "node_modules" / "socket.io-client" / "package.json").exists():
        return NO_SOCKET_IO_CLIENT
    return None


@pytest.fixture(scope="module")
def node_client() -> Path:
    """The node binary, with socket.io-client installed by make install-dev."""
    node = shutil.which("node")
    if reason := node_client_missing(node, NODE_DIR):
        pytest.skip(reason)
    return Path(node)


def test_socket_io_client_chats_with_a_python_client(
    node_client, uvicorn_server, sockets, make_user
):
    node_user, python_user = make_user(), make_user()
    python_tab = sockets.open(uvicorn_server, python_user, "python")

    async def scenario() -> tuple[int, str, str]:
        node = await asyncio.create_subprocess_exec(
            str(node_client),
            str(SCRIPT),
            uvicorn_server.url,
            access_token(node_user),
            str(python_user.pk),
            "Hello from socket.io-client",
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        try:
            # Reply once the Node client's message has arrived.
            await python_tab.next("receive_message")
            await python_tab.emit(
                "send_message", {"receiver_id": node_user.pk, "content": "Hello from Python"}
            )
            out, err = await asyncio.wait_for(node.communicate(), EVENT_TIMEOUT_SECONDS * 2)
        finally:
            if node.returncode is None:
                node.kill()
                await node.wait()
        return node.returncode, out.decode(), err.decode()

    returncode, out, err = sockets.run(scenario())

    assert returncode == 0, f"{out}\n{err}"
    sent, received = Message.objects.order_by("id")
    assert (sent.sender, sent.receiver, sent.content) == (
        node_user,
        python_user,
        "Hello from socket.io-client",
    )
    assert (received.sender, received.receiver) == (python_user, node_user)
    events = {event["event"]: event["data"] for event in json_lines(out)}
    assert events["users_online"] == sorted([node_user.pk, python_user.pk])
    assert events["message_sent"] == message_payload(sent)
    assert events["receive_message"] == message_payload(received)
    assert "message_error" not in events


def test_socket_io_client_is_refused_without_a_token(node_client, uvicorn_server, make_user):
    peer = make_user()

    result = subprocess.run(
        [str(node_client), str(SCRIPT), uvicorn_server.url, "-", str(peer.pk), "Hi"],
        capture_output=True,
        text=True,
        timeout=EVENT_TIMEOUT_SECONDS * 2,
        check=False,
    )

    assert result.returncode == 1, result.stdout + result.stderr
    assert json_lines(result.stdout) == [{"event": "connect_error", "data": CONNECTION_REFUSED}]
    assert not Message.objects.exists()


def test_without_node_or_its_packages_the_node_tests_skip_and_say_why(tmp_path):
    # Nothing is installed during the run (the npm registry may be out of reach): a missing
    # install is a skip that names the command that installs it.
    assert node_client_missing(None, NODE_DIR) == NO_NODE
    assert node_client_missing("/usr/bin/node", tmp_path) == NO_SOCKET_IO_CLIENT
    installed = tmp_path / "node_modules" / "socket.io-client"
    installed.mkdir(parents=True)
    (installed / "package.json").write_text("{}")
    assert node_client_missing("/usr/bin/node", tmp_path) is None
