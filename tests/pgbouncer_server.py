"""PgBouncer in transaction pooling mode in front of the test database, on a free loopback port:
for tests of what runs through it in production (docs/operations.md, "Scaling out"). Debian's
`pgbouncer` package; .ci/run installs it. Never skips: a missing pgbouncer is a failure that
says how to install it."""

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

from tests.gunicorn_server import HOST, free_port


@contextlib.contextmanager
def running_pgbouncer():
    """Yield a DATABASE_URL that reaches the test database through PgBouncer
    (pool_mode = transaction)."""
    executable = shutil.which("pgbouncer") or "/usr/sbin/pgbouncer"
    if not os.path.exists(executable):
        pytest.fail("pgbouncer is not installed: apt-get install pgbouncer (.ci/run does)")
    db = connection.settings_dict
    user, password = db["USER"] or "postgres", db["PASSWORD"] or ""
    port = free_port()
    # pgbouncer refuses to run as root: as root it runs as the postgres user, which must be
    # able to read its files.
    as_root = os.geteuid() == 0
    directory = Path(tempfile.mkdtemp(prefix="anonmsg-pgbouncer-"))
    try:
        directory.chmod(0o755)
        (directory / "userlist.txt").write_text(f'"{user}" "{password}"\n')
        server = f"host={db['HOST'] or HOST} port={db['PORT'] or 5432} user={user}"
        if password:
            server += f" password={password}"
        (directory / "pgbouncer.ini").write_text(
            "[databases]\n"
            f"{db['NAME']} = {server}\n"
            "[pgbouncer]\n"
            f"listen_addr = {HOST}\n"
            f"listen_port = {port}\n"
            "unix_socket_dir =\n"
            "auth_type = trust\n"
            f"auth_file = {directory / 'userlist.txt'}\n"
            "pool_mode = transaction\n"
            "default_pool_size = 8\n"
            "max_client_conn = 200\n"
        )
        for file in directory.iterdir():
            file.chmod(0o644)
        process = subprocess.Popen(
            [executable, *(["-u", "postgres"] if as_root else []), "pgbouncer.ini"],
            cwd=directory,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            _wait_until_listening(process, port)
            yield (
                f"postgres://{quote(user, safe='')}:{quote(password, safe='')}@{HOST}:{port}"
                f"/{quote(db['NAME'], safe='')}"
            )
        finally:
            process.terminate()
            process.wait(timeout=10)
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def _wait_until_listening(process: subprocess.Popen, port: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"pgbouncer exited:\n{process.stdout.read()}")
        with contextlib.suppress(OSError), socket.create_connection((HOST, port), timeout=1):
            return
        time.sleep(0.1)
    pytest.fail("pgbouncer did not start listening")
