"""The Procfile's web process as honcho runs it, for tests of what only the real command shows
(its access log, its bind address, its gunicorn worker)."""

import os
import shlex
import signal
import socket
import sqlite3
import subprocess
import time
from contextlib import closing, contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def procfile_command(name: str) -> str:
    for line in (REPO / "Procfile").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == name:
            return command.strip()
    raise AssertionError(f"no {name} process in the Procfile")


def procfile_worker_class() -> str:
    """The gunicorn worker class the Procfile's web command names."""
    arguments = shlex.split(procfile_command("web"))
    return arguments[arguments.index("--worker-class") + 1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def procfile_web(tmp_path, **variables):
    """The Procfile's web process as honcho runs it (through sh), on a free loopback port,
    with these environment variables; yields (port, its output's path)."""
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "WEB_CONCURRENCY": "1",
        "WEB_THREADS": "2",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "SECRET_KEY_FILE": str(tmp_path / "secret_key"),
        "PYTHONWARNINGS": "ignore",
    }
    for name in ("HOST", "DEBUG", "ANONMSG_PRODUCTION", "SECRET_KEY", "ALLOWED_HOSTS"):
        env.pop(name, None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    env.pop("WEB_ACCESS_LOG", None)
    env.update(variables)
    # The database exists before the web process starts, as `make run` migrates first:
    # threads that open a new SQLite file together race to switch it to WAL, and a loser can
    # get "database is locked" at once (seen once in CI, a 503 from /healthz).
    with closing(sqlite3.connect(tmp_path / "db.sqlite3")) as database:
        database.execute("PRAGMA journal_mode=WAL")
    log = tmp_path / "web.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            ["sh", "-c", procfile_command("web")],
            cwd=REPO,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail("gunicorn did not start:\n" + log.read_text())
                time.sleep(0.2)
        yield port, log
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
