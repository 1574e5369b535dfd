"""Adds new message events to the experiment tables, inside the rollup job's chunk
transaction (metrics/rollups.py reads each event exactly once, so each is added once), and
rebuilds them from raw events (`rebuild_experiments`, for metrics.rollups.rebuild_rollups).

- ExperimentExposure: a visitor's first exposure (earliest tagged view or `held_out` report,
  whatever order the events arrive in: an earlier one replaces a later one), by the rule
  delivery's VisitorMessageState.arm keeps too (delivery.first_exposure).
- ExperimentArmHour: views, clicks (per action) and dismissals per (message, arm, UTC hour).

Only events of the message's own workspace count, as in the rollups.
"""

from collections import defaultdict
from datetime import UTC, datetime

import orjson
from django.db import connection
from django.db.models import OuterRef, Subquery

from campaigns.models import AnonymousMessage
from delivery import first_exposure
from delivery.models import Visitor
from metrics.message_events import CLICKED, DISMISSED, HELD_OUT, VIEWED
from metrics.models import ExperimentArmHour, ExperimentExposure

VARIANT_KEYS = ("A", "B", "C", "D")
HOLDOUT = "holdout"
TAGGED_ACTIONS = (VIEWED, CLICKED, DISMISSED)
MAX_ACTIONS = 50  # distinct action names kept per row, as in the rollups


def arm_of(action_type: str, variant) -> str | None:
    """The arm an event belongs to, or None (an untagged or unknown-tagged event)."""
    if action_type == HELD_OUT:
        return HOLDOUT
    if action_type in TAGGED_ACTIONS and variant in VARIANT_KEYS:
        return variant
    return None


def add_to_experiments(events: list[tuple], *, count_before_hour: int | None = None) -> set[int]:
    """Add event rows (hour number, workspace id, message id, action type, action name, visitor
    id, timestamp, variant) to the experiment tables. Returns the messages whose rows changed.
    Events from hour number `count_before_hour` on add exposures only, no counts."""
    tagged = [
        (hour, workspace_id, message_id, action_type, action_name, visitor_id, at, arm)
        for hour, workspace_id, message_id, action_type, action_name, visitor_id, at, variant
        in events
        if (arm := arm_of(action_type, variant)) is not None
    ]  # fmt: skip
    if not tagged:
        return set()
    workspace_of = dict(
        AnonymousMessage.objects.filter(pk__in={row[2] for row in tagged}).values_list(
            "pk", "workspace_id"
        )
    )
    first = {}  # (message id, visitor id) -> (time, arm)
    counts = defaultdict(lambda: {"views": 0, "clicks": 0, "dismissals": 0, "by_action": {}})
    for hour, workspace_id, message_id, action_type, action_name, visitor_id, at, arm in tagged:
        if workspace_of.get(message_id) != workspace_id:
            continue
        at = _aware(at)
        if action_type in (VIEWED, HELD_OUT) and visitor_id is not None:
            key = (message_id, visitor_id)
            first[key] = first_exposure.earlier(first.get(key), (at, arm))
        if action_type == HELD_OUT or (count_before_hour is not None and hour >= count_before_hour):
            continue
        delta = counts[message_id, arm, hour]
        if action_type == VIEWED:
            delta["views"] += 1
        elif action_type == CLICKED:
            delta["clicks"] += 1
            delta["by_action"][action_name] = delta["by_action"].get(action_name, 0) + 1
        else:
            delta["dismissals"] += 1
    _upsert_exposures(first)
    _add_counts(counts)
    return {message_id for message_id, _ in first} | {key[0] for key in counts}


def rebuild_experiments(
    events: list[tuple], *, message_ids, start: datetime, end: datetime
) -> set[int]:
    """Replace these messages' experiment rows by those `events` give: `events` are every
    counted message event of theirs timestamped from `start` on (add_to_experiments' shape).

    Arm hours of [start, end) are recounted. Exposures from `start` on are found again from
    all of `events` (a visitor's first exposure may come after `end`); one before `start`
    stays, and stays first (delivery.first_exposure). Returns the messages whose rows changed.
    """
    message_ids = list(message_ids)
    arm_hours = ExperimentArmHour.objects.filter(
        message_id__in=message_ids, hour__gte=start, hour__lt=end
    )
    exposures = ExperimentExposure.objects.filter(message_id__in=message_ids, exposed_at__gte=start)
    before = _snapshot(arm_hours, exposures)
    arm_hours.delete()
    exposures.delete()
    add_to_experiments(events, count_before_hour=int(end.timestamp()) // 3600)
    after = _snapshot(arm_hours, exposures)
    return {key[0] for key in before ^ after}


def _snapshot(arm_hours, exposures) -> set[tuple]:
    """The rows as comparable tuples, message id first (to tell which messages changed)."""
    columns = ("message_id", "arm", "hour", "views", "clicks", "dismissals", "clicks_by_action")
    return {
        (*row[:-1], orjson.dumps(row[-1], option=orjson.OPT_SORT_KEYS))
        for row in arm_hours.values_list(*columns)
    } | set(exposures.values_list("message_id", "visitor_id", "arm", "exposed_at", "identified_at"))


def _aware(at) -> datetime:
    if isinstance(at, str):  # SQLite hands timestamps back as text in raw queries
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def _upsert_exposures(first: dict) -> None:
    if not first:
        return
    table = ExperimentExposure._meta.db_table
    rows = [
        (message_id, visitor_id, arm, at) for (message_id, visitor_id), (at, arm) in first.items()
    ]
    # The earliest exposure wins, whichever arrives first (late mobile batches, clock skew).
    upsert = (
        "ON CONFLICT (message_id, visitor_id) DO UPDATE SET arm = excluded.arm, "
        f"exposed_at = excluded.exposed_at WHERE {first_exposure.replaces(table)}"
    )
    columns = f"INSERT INTO {table} (message_id, visitor_id, arm, exposed_at, identified_at)"
    # A visitor identified before the job counted their exposure: copy it now.
    identified = f"(SELECT identified_at FROM {Visitor._meta.db_table} WHERE id = %s)"
    rows.sort()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement per chunk, its rows as one JSON text: a statement per row was 8×
            # the rest of the job's time, and adapting Python arrays still 2×.
            cursor.execute(
                f"{columns} SELECT r.m, r.v, r.a, r.t, v.identified_at "
                "FROM json_to_recordset(%s::json) AS r(m bigint, v bigint, a text, t timestamptz) "
                f"LEFT JOIN {Visitor._meta.db_table} v ON v.id = r.v {upsert}",
                [orjson.dumps([{"m": m, "v": v, "a": a, "t": t} for m, v, a, t in rows]).decode()],
            )
        else:
            cursor.executemany(
                f"{columns} VALUES (%s, %s, %s, %s, {identified}) {upsert}",
                [(*row, row[1]) for row in rows],
            )


def record_identifications(*, workspace_id: int, profile_ids) -> int:
    """Copy these profiles' visitors' identification onto their exposures (run with
    conversion attribution, after identify). A visitor is identified once (merge_visitor never
    changes it), so only exposures without one change. Returns how many did."""
    visitors = Visitor.objects.filter(
        workspace_id=workspace_id, profile_id__in=list(profile_ids), identified_at__isnull=False
    )
    return ExperimentExposure.objects.filter(
        identified_at__isnull=True, visitor_id__in=visitors.values("pk")
    ).update(
        identified_at=Subquery(
            Visitor.objects.filter(pk=OuterRef("visitor_id")).values("identified_at")[:1]
        )
    )


def _add_counts(counts: dict) -> None:
    if not counts:
        return
    hours = {key: datetime.fromtimestamp(key[2] * 3600, UTC) for key in counts}
    existing = {
        (row.message_id, row.arm, row.hour): row
        for row in ExperimentArmHour.objects.filter(
            message_id__in={key[0] for key in counts}, hour__in=set(hours.values())
        )
    }
    rows = []
    for key, delta in sorted(counts.items()):
        message_id, arm, _ = key
        row = existing.get((message_id, arm, hours[key])) or ExperimentArmHour(
            message_id=message_id, arm=arm, hour=hours[key]
        )
        row.views += delta["views"]
        row.clicks += delta["clicks"]
        row.dismissals += delta["dismissals"]
        if delta["by_action"]:
            merged = dict(row.clicks_by_action or {})
            for name, count in delta["by_action"].items():
                if name in merged or len(merged) < MAX_ACTIONS:
                    merged[name] = merged.get(name, 0) + count
                else:
                    merged["(other)"] = merged.get("(other)", 0) + count
            row.clicks_by_action = merged
        rows.append(row)
    ExperimentArmHour.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["message", "arm", "hour"],
        update_fields=["views", "clicks", "clicks_by_action", "dismissals"],
    )
