"""What each query on events and visitors reads on PostgreSQL, now that `event_ws_user_time`
holds only events with a userId, visitors have no workspace-only index (delivery/migrations
/0009) and their last-seen index holds anonymous visitors only (0010): every lookup still goes
through an index, and the partial ones are provably usable."""

import re
from datetime import UTC

import pytest
from django.db import connection
from django.utils import timezone

from anonmsg.tenancy import scoped
from delivery.models import Event, Profile, Visitor
from delivery.people.activity import filter_events, person_events
from delivery.retention import _events_of
from delivery.tracking import one_statement, parsing
from delivery.tracking.bulk_sql import positional
from delivery.tracking.recording import EVENT_COLUMNS, record_events
from delivery.troubleshooting.debugger import recent_visitors
from delivery.troubleshooting.slots import recent_pages
from tests.factories import WorkspaceFactory

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite: no partitions"),
    pytest.mark.django_db,
]

# The partial index on the parent, or its copy on a partition (named by ATTACH or 0008).
USER_INDEX = re.compile(r"event_ws_user_time|user_id_timestamp_idx|_user_time_p\b")
ANONYMOUS_INDEX = re.compile(r"event_ws_anon_time|anonymous_id_timestamp_idx")


def record(workspace, calls: list[dict]) -> None:
    received_at = timezone.now()
    events = parsing.parse_events({"batch": calls}, route_type="batch", received_at=received_at)
    record_events(workspace_id=workspace.pk, events=events, received_at=received_at)


@pytest.fixture
def workspace():
    """Mostly anonymous traffic, a few identified people; statistics up to date, and
    sequential scans priced out so that a plan shows which index a query *can* use."""
    workspace = WorkspaceFactory()
    for start in range(0, 2_000, 500):
        record(
            workspace,
            [
                {"type": "track", "event": "Viewed", "anonymousId": f"anon-{n % 300}"}
                for n in range(start, start + 500)
            ],
        )
    record(
        workspace,
        [
            {"type": "track", "event": "Bought", "userId": f"user-{n}", "anonymousId": f"anon-{n}"}
            for n in range(20)
        ],
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE delivery_event")
        cursor.execute("ANALYZE delivery_visitor")
        cursor.execute("SET LOCAL enable_seqscan = off")
    return workspace


def test_only_events_with_a_user_id_are_in_the_user_index(workspace):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_get_indexdef(indexrelid) FROM pg_index "
            "WHERE indexrelid = 'event_ws_user_time'::regclass"
        )
        assert cursor.fetchone()[0].endswith("WHERE ((user_id)::text <> ''::text)")
    assert Event.objects.filter(workspace=workspace).exclude(user_id="").count() == 20


def test_the_activity_log_filtered_by_user_id_reads_the_partial_index(workspace):
    events = filter_events(scoped(Event, workspace), {"user_id": " user-3 "}, tz=UTC)
    plan = events.order_by("-timestamp", "-id").explain()
    assert USER_INDEX.search(plan), plan
    assert [event.user_id for event in events] == ["user-3"]


def test_a_persons_timeline_reads_both_indexes(workspace):
    profile = Profile.objects.get(workspace=workspace, user_id="user-4")
    events = person_events(profile)
    plan = events.explain()
    assert USER_INDEX.search(plan) and ANONYMOUS_INDEX.search(plan), plan
    assert {(event.user_id, event.anonymous_id) for event in events} == {("user-4", "anon-4")} | {
        ("", "anon-4")
    }


def test_goal_events_of_many_people_read_the_partial_index(workspace):
    # As metrics/conversions.py asks: several userIds at once.
    user_ids = [f"user-{n}" for n in range(15)]
    events = Event.objects.filter(
        workspace_id=workspace.pk, type="track", name__in=["Bought"], user_id__in=user_ids
    )
    assert USER_INDEX.search(events.explain()), events.explain()
    assert events.count() == 15


def test_retention_reads_the_anonymous_index(workspace):
    events = _events_of(workspace.pk, ["anon-1", "anon-2"])
    assert ANONYMOUS_INDEX.search(events.explain()), events.explain()


def test_a_visitor_is_looked_up_by_its_unique_index(workspace):
    visitors = Visitor.objects.filter(workspace=workspace, anonymous_id="anon-7")
    plan = visitors.explain()
    assert "unique_visitor_anonymous_id" in plan, plan
    assert visitors.count() == 1
    assert "Seq Scan" not in Visitor.objects.filter(workspace=workspace).explain()


def test_the_anonymous_statement_probes_one_visitor_per_call_even_planned_on_an_empty_table():
    """A prepared statement keeps its plan: one made while the visitors' table looked empty (a
    new install before its first ANALYZE) must still look each visitor up by its unique index
    instead of reading the workspace's every visitor for each one (one_statement `changed`)."""
    workspace = WorkspaceFactory()
    at = timezone.now()

    def call(n: int, visitor: str) -> tuple[tuple, tuple]:
        row = (workspace.pk, f"m-{n}", "track", "Viewed", visitor, "", at, at, None, "", "", {})
        return row, ("Mozilla/5.0", "/pricing", n)

    def statement(calls: list[tuple[tuple, tuple]]) -> tuple[str, list]:
        sql, parameters = one_statement.statement_and_parameters(
            workspace_id=workspace.pk,
            event_columns=EVENT_COLUMNS,
            rows=[row for row, _ in calls],
            extras=[extra for _, extra in calls],
            with_states=False,
            at=at,
        )
        text, keys = positional(sql)
        return text, [parameters[key] for key in keys]

    text, _ = statement([call(0, "anon-0")])
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE delivery_visitor")  # what this transaction sees: no visitor
        cursor.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        cursor.execute(f"PREPARE anonymous_calls AS {text}")
    # The workspace then gets 400 visitors, and 40 of them come back.
    for start in range(0, 400, 200):
        record(workspace, [{"type": "track", "event": "Seen", "anonymousId": f"anon-{n}"}
                           for n in range(start, start + 200)])  # fmt: skip
    _, values = statement([call(n, f"anon-{n * 7}") for n in range(1, 41)])
    with connection.cursor() as cursor:
        placeholders = ", ".join(["%s"] * len(values))
        cursor.execute(
            f"EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE anonymous_calls({placeholders})", values
        )
        plan = cursor.fetchone()[0]
        cursor.execute("DEALLOCATE anonymous_calls")
    scans = [node for node in _nodes(plan[0]["Plan"]) if node.get("Relation Name") == "delivery_visitor"
             and node.get("Alias") == "v"]  # fmt: skip
    assert scans, plan
    for scan in scans:
        assert scan.get("Index Name") == "unique_visitor_anonymous_id", scan
        assert "anonymous_id" in scan.get("Index Cond", ""), scan
        assert scan["Actual Rows"] <= 1, scan  # per probe: the visitor or nothing


def _nodes(node: dict):
    yield node
    for child in node.get("Plans", []):
        yield from _nodes(child)


def test_the_latest_anonymous_visitors_read_the_partial_last_seen_index(workspace):
    # Identified visitors are left out by the query, as the partial index does (0010).
    for visitors in (recent_visitors(workspace), None):
        query = Visitor.objects.filter(workspace=workspace, profile=None).order_by("-last_seen_at")
        assert "anon_visitor_ws_last_seen" in query[:20].explain(), query[:20].explain()
        if visitors is not None:
            assert visitors and all(visitor.profile_id is None for visitor in visitors)
    assert recent_pages(workspace) == []  # these visitors were on no page
