"""Group commit (delivery/tracking/group_commit.py): concurrent requests share one transaction
and keep the promises of one transaction each."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.request import Request as HttpRequest
from urllib.request import urlopen

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from delivery.models import Event, Visitor, VisitorMessageState
from delivery.tracking import parsing
from delivery.tracking.group_commit import GroupCommit, Request, record_group
from tests.delivery.tracking_helpers import basic_auth
from tests.factories import AnonymousMessageFactory, WorkspaceFactory

pytestmark = pytest.mark.django_db(transaction=True)


def incoming(body: dict, *, route: str = "track", received_at=None) -> list:
    return parsing.parse_events(body, route_type=route, received_at=received_at or timezone.now())


def view_of(message, *, message_id: str, anonymous_id: str = "anon-1") -> dict:
    return {
        "anonymousId": anonymous_id,
        "event": "Report Content Event",
        "messageId": message_id,
        "properties": {"actionType": "viewed_content", "contentId": message.pk},
    }


def test_a_messageid_sent_by_two_requests_of_a_group_is_recorded_and_counted_once():
    message = AnonymousMessageFactory(launched=True)
    workspace_id = message.workspace_id
    first, second = timezone.now(), timezone.now() + timedelta(milliseconds=5)
    requests = [
        Request(workspace_id, incoming(view_of(message, message_id="m-1")), first),
        Request(workspace_id, incoming(view_of(message, message_id="m-1")), second),
        Request(workspace_id, incoming(view_of(message, message_id="m-2")), second),
    ]

    record_group(requests)

    assert [r.error for r in requests] == [None, None, None]
    assert all(r.recorded is not None for r in requests)
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["m-1", "m-2"]
    assert VisitorMessageState.objects.get().views == 2
    # Received when the last request of the group arrived: never before an event's timestamp.
    assert set(Event.objects.values_list("received_at", flat=True)) == {second}


def test_one_request_the_database_refuses_does_not_fail_the_others_of_its_group():
    message = AnonymousMessageFactory(launched=True)
    good = message.workspace_id
    gone = WorkspaceFactory()
    gone_id = gone.pk
    gone.delete()  # its write key was still cached: the foreign key fails at commit
    requests = [
        Request(good, incoming(view_of(message, message_id="a")), timezone.now()),
        Request(gone_id, incoming({"anonymousId": "x", "event": "E"}), timezone.now()),
        Request(
            good, incoming({"anonymousId": "y", "event": "E", "messageId": "b"}), timezone.now()
        ),
    ]

    record_group(requests)

    assert requests[0].error is None and requests[2].error is None
    assert isinstance(requests[1].error, IntegrityError)
    assert requests[1].recorded is None
    assert sorted(Event.objects.values_list("message_id", flat=True)) == ["a", "b"]
    assert VisitorMessageState.objects.get().views == 1
    assert set(Visitor.objects.values_list("anonymous_id", flat=True)) == {"anon-1", "y"}


def test_a_lone_request_gets_the_databases_error_and_nothing_is_recorded():
    gone = WorkspaceFactory()
    gone_id = gone.pk
    gone.delete()

    with pytest.raises(IntegrityError):
        GroupCommit().record(
            workspace_id=gone_id,
            events=incoming({"anonymousId": "x", "event": "E"}),
            received_at=timezone.now(),
        )
    assert Event.objects.count() == 0


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="needs concurrent connections and transaction ids"
)
def test_requests_arriving_during_a_commit_are_recorded_together_in_the_next_transaction():
    workspace = WorkspaceFactory()
    Visitor.objects.create(
        workspace=workspace,
        anonymous_id="anon-locked",
        first_seen_at=timezone.now() - timedelta(days=1),
        last_seen_at=timezone.now() - timedelta(days=1),
    )
    committer = GroupCommit()
    outcomes = []

    def send(number: int, anonymous_id: str):
        events = incoming({"anonymousId": anonymous_id, "event": "E", "messageId": f"m-{number}"})
        try:
            committer.record(workspace_id=workspace.pk, events=events, received_at=timezone.now())
            outcomes.append("ok")
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            outcomes.append(exc)
        finally:
            connection.close()

    with transaction.atomic():
        # The first request's visitor upsert waits for this row lock: its transaction stays
        # open while eight more requests arrive.
        Visitor.objects.select_for_update().get(anonymous_id="anon-locked")
        leader = threading.Thread(target=send, args=(0, "anon-locked"))
        leader.start()
        followers = [threading.Thread(target=send, args=(n, f"anon-{n}")) for n in range(1, 9)]
        for thread in followers:
            thread.start()
        deadline = time.monotonic() + 20
        while committer.waiting() < 8 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert committer.waiting() == 8
        assert Event.objects.count() == 0  # nothing acknowledged, nothing visible yet
    for thread in [leader, *followers]:
        thread.join(timeout=30)

    assert outcomes == ["ok"] * 9
    assert Event.objects.count() == 9
    # Two transactions: the first request alone, then the eight that waited, together.
    assert len(set(Event.objects.values_list("transaction_id", flat=True))) == 2


def test_concurrent_single_calls_over_http_are_each_stored_and_counted_once(live_server):
    message = AnonymousMessageFactory(launched=True)
    workspace = message.workspace
    # 12 distinct events, each sent 3 times (an SDK retrying), from 6 threads at once.
    calls = [
        view_of(message, message_id=f"view-{n % 12}", anonymous_id=f"anon-{n % 3}")
        for n in range(36)
    ]

    def send(body: dict) -> int:
        request = HttpRequest(
            live_server.url + "/v1/track",
            data=json.dumps(body).encode(),
            headers={
                "Content-Type": "application/json",
                "Authorization": basic_auth(workspace.write_key),
            },
        )
        with urlopen(request, timeout=30) as response:
            return response.status

    # With SQLite's in-memory test database the live server's threads share one connection
    # (Django's live server design), which cannot be used concurrently.
    concurrency = 6 if connection.vendor == "postgresql" else 1
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        statuses = list(pool.map(send, calls))

    assert statuses == [200] * 36
    assert Event.objects.count() == 12
    assert sorted(VisitorMessageState.objects.values_list("views", flat=True)) == [4, 4, 4]
