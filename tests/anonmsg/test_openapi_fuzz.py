"""Fuzzing the public APIs against the OpenAPI document they serve (issue 10, findings 9 and 12).

Schemathesis reads GET /api/v1/openapi.json from gunicorn, run as the Procfile runs it, on the
test database (real HTTP, real PostgreSQL; Django's live_server was four times slower), and
generates requests for every operation (tracking, delivery, the App API, metrics) from the
document, valid and invalid, and checks every answer: never a 5xx, a documented status code and
content type, a body that matches the documented schema, invalid input refused, methods the
document does not list refused with 405.

The suite runs a short, seeded pass (a minute or two on 2 cores). `make fuzz` runs a long one
with a random seed (docs/operations.md); FUZZ_MAX_EXAMPLES, FUZZ_MAX_TIME and FUZZ_SEED tune it.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

from tests.factories import (
    AnonymousMessageFactory,
    PageRuleFactory,
    SegmentFactory,
    WorkspaceFactory,
)
from tests.gunicorn_server import running_gunicorn

ROOT = Path(settings.BASE_DIR)
SCHEMATHESIS = Path(sys.executable).parent / "st"
GUNICORN = Path(sys.executable).parent / "gunicorn"
CHECKS = [
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "unsupported_method",
]
REFUSALS = ["400", "401", "403", "404", "405", "406", "409", "413", "414", "415", "422", "429"]
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "10"))
MAX_TIME = os.environ.get("FUZZ_MAX_TIME", "")  # seconds; empty: stop after MAX_EXAMPLES
SEED = os.environ.get("FUZZ_SEED", "20261205")  # "random": a new seed each run

pytestmark = pytest.mark.timeout(int(MAX_TIME or 0) + 600)


@pytest.fixture
def fuzzed_workspace(transactional_db):
    """A premium workspace east of UTC (date arithmetic must hold there), with messages in
    every state and a segment, so that generated ids and references sometimes exist."""
    workspace = WorkspaceFactory(name="Fuzz", time_zone="Europe/Berlin")
    for status in ("draft", "launched", "paused", "ended"):
        message = AnonymousMessageFactory(workspace=workspace, status=status)
        PageRuleFactory(message=message)
    SegmentFactory(workspace=workspace)
    return workspace, workspace.rotate_api_key()


@pytest.fixture
def server(fuzzed_workspace, tmp_path):
    """gunicorn (gthread, as in the Procfile) on a free loopback port, on the test database.

    Yields its base URL and its log, where Django writes "Internal Server Error" for any 500."""
    log = tmp_path / "gunicorn.log"
    env = {
        "LOG_LEVEL": "ERROR",
        # The fuzzer tests the app, not the limiter (its random keys would spend the
        # failed-authentication budget at once); tests/anonmsg/test_rate_limits.py covers 429s.
        "RATE_LIMITS": "0",
    }
    # gunicorn refuses long request lines (8,190 bytes in the Procfile) with a 414 before
    # Django sees the method (documented in the OpenAPI document); the fuzzer tests the app.
    args = ("--workers", "2", "--threads", "4", "--limit-request-line", "0")
    with log.open("w") as output, running_gunicorn(env=env, args=args, output=output) as url:
        yield url, log


def write_config(path: Path, *, write_key: str, api_key: str) -> Path:
    path.write_text(
        "\n".join(
            [
                "[auth.openapi.appApiKey]",
                f'bearer = "{api_key}"',
                "[auth.openapi.writeKeyBasic]",
                f'username = "{write_key}"',
                'password = ""',
                "[auth.openapi.writeKeyQuery]",
                f'api_key = "{write_key}"',
                # 413 and 414 refuse too: a body or a URL over the documented limits.
                "[checks.negative_data_rejection]",
                "expected-statuses = [" + ", ".join(f'"{code}"' for code in REFUSALS) + "]",
            ]
        )
        + "\n"
    )
    return path


def count_responses(cassette: Path) -> tuple[int, int]:
    """(responses recorded, those with a status of 500 or more) in schemathesis' VCR cassette."""
    codes = [int(code) for code in re.findall(r"^\s+code: '?(\d{3})", cassette.read_text(), re.M)]
    return len(codes), sum(code >= 500 for code in codes)


def test_the_apis_agree_with_their_openapi_document_under_fuzzing(
    server, fuzzed_workspace, tmp_path
):
    base_url, server_log = server
    workspace, api_key = fuzzed_workspace
    config = write_config(
        tmp_path / "schemathesis.toml", write_key=workspace.write_key, api_key=api_key
    )
    command = [
        str(SCHEMATHESIS),
        "--config-file", str(config),
        "run", f"{base_url}/api/v1/openapi.json",
        "--checks", ",".join(CHECKS),
        "--max-examples", str(MAX_EXAMPLES),
        "--workers", "2",
        "--request-timeout", "30",
        "--report", "json,vcr",
        "--report-dir", str(tmp_path / "report"),
        "--output-truncate", "false",
    ]  # fmt: skip
    if SEED != "random":
        command += ["--seed", SEED]
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]

    run = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)

    report = json.loads(next((tmp_path / "report").glob("json-*.json")).read_text())
    responses, at_least_500 = count_responses(next((tmp_path / "report").glob("vcr-*.yaml")))
    summary = (
        f"schemathesis: {report['test_cases']['generated']} test cases, {responses} responses, "
        f"{at_least_500} with a status >= 500, {len(report['failures'])} kinds of failure, "
        f"seed {report['seed']}"
    )
    print(summary)
    assert run.returncode == 0, f"{summary}\n{run.stdout[-20000:]}\n{run.stderr[-5000:]}"
    assert report["failures"] == [] and report["errors"] == []
    assert at_least_500 == 0
    assert "Internal Server Error" not in server_log.read_text()
    assert report["operations"]["tested"] == report["operations"]["total"] >= 25
