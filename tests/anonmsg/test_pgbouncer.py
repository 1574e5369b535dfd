"""Behind PgBouncer in transaction pooling mode (docs/operations.md, "Scaling out"): why
DB_DISABLE_SERVER_SIDE_CURSORS=1 is part of the setup. The whole product through PgBouncer is
tests/anonmsg/test_two_nodes.py."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

from tests.factories import WorkspaceFactory
from tests.gunicorn_server import SERVER_SECRET_KEY
from tests.pgbouncer_server import running_pgbouncer

pytestmark = pytest.mark.django_db(transaction=True)

REPO = Path(__file__).resolve().parent.parent.parent
# QuerySet.iterator(), as the rollup job and conversion reconciliation use it, while another
# client runs a transaction: PgBouncer gives that client the server connection the iterator's
# cursor was declared on, and the iterator's next fetch lands on another one.
STREAM = """
import psycopg
from anonmsg.models import Workspace
other = psycopg.connect({url!r}, autocommit=False)
read = 0
try:
    for workspace in Workspace.objects.order_by("pk").iterator(chunk_size=1):
        read += 1
        if read == 1:
            other.execute("SELECT 1")
    print("read", read)
except Exception as exc:
    print("failed:", type(exc).__name__)
"""


@pytest.mark.parametrize(
    ("disable_server_side_cursors", "outcome"),
    [("1", "read 3"), ("0", "failed: InvalidCursorName")],
)
def test_querysets_stream_through_transaction_pooling_only_without_server_side_cursors(
    disable_server_side_cursors, outcome
):
    if connection.vendor != "postgresql":
        pytest.skip("PgBouncer pools PostgreSQL connections")
    WorkspaceFactory.create_batch(3)
    with running_pgbouncer() as url:
        environment = {
            **os.environ,
            "DATABASE_URL": url,
            "DB_DISABLE_SERVER_SIDE_CURSORS": disable_server_side_cursors,
            "SECRET_KEY": SERVER_SECRET_KEY,
            "DJANGO_SETTINGS_MODULE": "anonmsg.settings",
        }
        environment.pop("REDIS_URL", None)
        result = subprocess.run(
            [sys.executable, "manage.py", "shell", "--no-imports", "-c", STREAM.format(url=url)],
            cwd=REPO,
            env=environment,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == outcome, result.stdout + result.stderr
