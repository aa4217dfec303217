"""A PostgreSQL cluster of a test's own, to stop and start at will (a restart, an outage),
and copies of the test database on it: `private_postgres` (one per module) and
`copy_database` (a pytest plugin the root conftest.py registers)."""

import os
import pwd
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from django.db import connection

from tests.ports import free_port

DEADLINE_SECONDS = 30


def _postgres_bin() -> Path | None:
    """The PostgreSQL server programs (initdb, pg_ctl) of this machine, newest first."""
    found = shutil.which("pg_config")
    if found:
        bindir = subprocess.run(
            [found, "--bindir"], capture_output=True, text=True, check=False
        ).stdout.strip()
        if bindir and (Path(bindir) / "initdb").exists():
            return Path(bindir)
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    return versions[0].parent if versions else None


class PrivatePostgres:
    """A PostgreSQL cluster in a temporary folder, on a free port of 127.0.0.1."""

    def __init__(self, bindir: Path, directory: Path) -> None:
        self.bindir = bindir
        self.directory = directory
        self.data = directory / "data"
        self.port = free_port()
        # PostgreSQL refuses to run as root: then it runs as the `postgres` account.
        self.as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def _run(self, program: str, *args: str) -> None:
        subprocess.run(
            [*self.as_owner, str(self.bindir / program), *args],
            check=True,
            capture_output=True,
            timeout=60,
        )

    def init(self) -> None:
        self._run(
            "initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "-N"
        )

    def start(self) -> None:
        options = f"-p {self.port} -k {self.directory} -c listen_addresses=127.0.0.1"
        log = str(self.directory / "postgres.log")
        self._run("pg_ctl", "-D", str(self.data), "-o", options, "-l", log, "-w", "start")
        self.wait_ready()

    def stop(self) -> None:
        """`-m fast`: open sessions are cut and their transactions rolled back."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def is_running(self) -> bool:
        status = subprocess.run(
            [*self.as_owner, str(self.bindir / "pg_ctl"), "-D", str(self.data), "status"],
            capture_output=True,
            check=False,
        )
        return status.returncode == 0

    def ready(self) -> bool:
        probe = subprocess.run(
            [str(self.bindir / "pg_isready"), "-q", "-h", "127.0.0.1", "-p", str(self.port)],
            check=False,
        )
        return probe.returncode == 0

    def wait_ready(self) -> None:
        deadline = time.monotonic() + DEADLINE_SECONDS
        while not self.ready():
            if time.monotonic() > deadline:
                pytest.fail(f"the private PostgreSQL on {self.port} is not ready")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def private_postgres() -> Iterator[PrivatePostgres]:
    bindir = _postgres_bin()
    if bindir is None:
        pytest.skip("PostgreSQL's server programs (initdb) are not installed")
    # Not under pytest's own temporary folder, which the `postgres` account cannot enter.
    directory = Path(tempfile.mkdtemp(prefix="music-faults-pg-"))
    if os.geteuid() == 0:
        account = pwd.getpwnam("postgres")
        os.chown(directory, account.pw_uid, account.pw_gid)
    cluster = PrivatePostgres(bindir, directory)
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        if cluster.is_running():
            cluster.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def copy_database(private_postgres: PrivatePostgres, transactional_db) -> Iterator[Any]:
    """`copy_database()`: a new database on the private cluster holding a copy of the test
    database as it is now (schema and rows: make the users first); returns its URL."""
    names: list[str] = []

    def copy() -> str:
        name = f"faults_{len(names)}"
        with psycopg.connect(private_postgres.url("postgres"), autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        names.append(name)
        source = connection.settings_dict
        dump = subprocess.run(
            [
                str(private_postgres.bindir / "pg_dump"),
                "--no-owner",
                "--no-privileges",
                "-h",
                source.get("HOST") or "127.0.0.1",
                "-p",
                str(source.get("PORT") or 5432),
                "-U",
                source.get("USER") or "postgres",
                source["NAME"],
            ],
            capture_output=True,
            check=True,
            env={**os.environ, "PGPASSWORD": source.get("PASSWORD") or ""},
            timeout=60,
        )
        subprocess.run(
            [
                str(private_postgres.bindir / "psql"),
                "-q",
                "-v",
                "ON_ERROR_STOP=1",
                private_postgres.url(name),
            ],
            input=dump.stdout,
            capture_output=True,
            check=True,
            timeout=60,
        )
        return private_postgres.url(name)

    yield copy
    if not private_postgres.is_running():
        private_postgres.start()
    with psycopg.connect(private_postgres.url("postgres"), autocommit=True) as admin:
        for name in names:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
