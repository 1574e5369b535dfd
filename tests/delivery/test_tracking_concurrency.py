"""Retries racing each other over real HTTP: stored once, counted once."""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.error import HTTPError
from urllib.request import Request, urlopen

import pytest
from django.db import connection

from delivery.models import Event, Visitor, VisitorMessageState
from tests.delivery.tracking_helpers import basic_auth
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_same_batch_sent_concurrently_is_stored_and_counted_once(live_server):
    workspace = WorkspaceFactory()
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    batch = [
        {
            "type": "track",
            "anonymousId": f"anon-{n % 3}",
            "event": "Report Content Event",
            "messageId": f"view-{n}",
            "properties": {"actionType": "viewed_content", "contentId": message.pk},
        }
        for n in range(30)
    ]
    body = json.dumps({"batch": batch}).encode()

    def send(_):
        # Like an SDK: a 503 means nothing was stored, so send the same batch again.
        for _attempt in range(200):
            request = Request(
                live_server.url + "/v1/batch",
                data=body,
                headers={
                    "Content-Type": "application/json",
                    "Authorization": basic_auth(workspace.write_key),
                },
            )
            try:
                with urlopen(request, timeout=30) as response:
                    return response.status
            except HTTPError as exc:
                if exc.code != 503:
                    return exc.code
                assert exc.headers["Retry-After"]
            time.sleep(0.05)
        return "gave up"

    # The live server answers each request in its own thread. With SQLite's in-memory test
    # database those threads share one connection (Django's live server design), which cannot
    # be used concurrently: there the retries go one after the other.
    concurrency = 6 if connection.vendor == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(send, range(12)))

    assert statuses == [200] * 12
    assert Event.objects.count() == 30
    assert Visitor.objects.count() == 3
    assert sorted(VisitorMessageState.objects.values_list("views", flat=True)) == [10, 10, 10]
