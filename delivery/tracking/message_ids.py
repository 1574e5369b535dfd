"""Deduplication by (workspace, messageId): which ids of a request are new, exactly, for 7+ days.

The events table is partitioned by time on PostgreSQL, so it cannot hold a unique key on
(workspace, message_id), and a retry may land in another partition than the original anyway (it
arrives later, with a new sentAt and so another corrected timestamp). The ids live in their own
table, `EventMessageId`, in three weekly generations (weeks counted from the Unix epoch, so
Thursday 00:00 UTC):

- an id is *claimed* in the current week's generation (INSERT … ON CONFLICT DO NOTHING
  RETURNING: concurrent requests with the same id wait for each other, one of them wins), and
  is new only if the previous week's generation does not hold it either: every id is
  remembered for at least 7 days (at most 14);
- the third generation is idle and emptied in one statement (`prune_message_ids`, from the
  daily "Maintain event partitions" task): TRUNCATE of its partition, no row-by-row DELETE;
- during the first hour of a week a request claims its ids in both generations, so that a
  request still finishing last week's generation and one starting this week's cannot both
  take the same id (the unique index makes the second one wait for the first).

Claims happen in the caller's transaction, in the same statement as the events' insert: a
request that fails rolls its claims back with its events, and a retry is new again.

SQLite (one writer at a time, a plain table) keeps its unique index on the events table
(workspace_id, message_id) instead, which remembers ids for as long as the events are kept.
"""

from datetime import UTC, datetime, timedelta
from functools import cache

from django.db import connection

from delivery.models import Event, EventMessageId
from delivery.tracking.bulk_sql import column_arrays, column_rows, execute

GENERATIONS = 3
WEEK = timedelta(days=7)
# Longer than any tracking transaction and than the clocks of two web nodes can disagree.
OVERLAP = timedelta(hours=1)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def week_of(at: datetime) -> int:
    return (at - EPOCH) // WEEK


def generation_of_week(week: int) -> int:
    return week % GENERATIONS


def claim_generations(at: datetime) -> tuple[int, ...]:
    """The generations a request at `at` claims its ids in: this week's, plus last week's
    during the overlap after the boundary (pure)."""
    week = week_of(at)
    if at - (EPOCH + week * WEEK) < OVERLAP:
        return (generation_of_week(week - 1), generation_of_week(week))
    return (generation_of_week(week),)


def checked_generation(at: datetime) -> int:
    """The previous week's generation, which a request only reads (pure)."""
    return generation_of_week(week_of(at) - 1)


def idle_generation(at: datetime) -> int | None:
    """The generation nobody claims in or reads at `at`, or None within OVERLAP of a week's
    boundary, when a node whose clock is a little off might still use it (pure)."""
    week = week_of(at)
    into_week = at - (EPOCH + week * WEEK)
    if into_week < OVERLAP or WEEK - into_week < OVERLAP:
        return None
    return generation_of_week(week + 1)


def insert_new_events(
    *, workspace_id: int, columns: list[tuple[str, str]], rows: list[tuple], at: datetime
) -> list[tuple]:
    """PostgreSQL: claim the rows' messageIds (column `message_id`, distinct) and insert the
    rows whose id was new into the events table, in one statement; returns (id, message_id)
    of the inserted events. Call inside the transaction that records the request."""
    if not rows:
        return []
    claim_in = claim_generations(at)
    return execute(
        _insert_statement(tuple(columns), two_generations=len(claim_in) == 2),
        {**column_arrays(columns, rows), **claim_parameters(workspace_id, at)},
    )


@cache
def _insert_statement(columns: tuple[tuple[str, str], ...], *, two_generations: bool) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in columns)
    return (
        f"WITH u AS (SELECT * FROM {column_rows(list(columns))}), "
        f"{claim_cte(two_generations=two_generations)} "
        f"INSERT INTO {quote(Event._meta.db_table)} ({names}) "
        f"SELECT {names} FROM u JOIN claimed USING (message_id) RETURNING id, message_id"
    )


def claim_parameters(workspace_id: int, at: datetime) -> dict:
    """The named parameters of `claim_cte` for a request of `workspace_id` at `at`."""
    claim_in = claim_generations(at)
    return {
        "workspace_id": workspace_id,
        "claim_in": claim_in[-1],
        "checked": checked_generation(at) if len(claim_in) == 1 else claim_in[0],
    }


def claim_cte(*, two_generations: bool) -> str:
    """`claimed AS (…)`: the messageIds of the rows of `u` (a CTE with a `message_id` column)
    that are new, claimed in this week's generation; see the module's docstring. Named
    parameters: `claim_parameters`.

    Ids are claimed in sorted order, so that concurrent requests sharing ids take their index
    locks in the same order and cannot deadlock."""
    ids = connection.ops.quote_name(EventMessageId._meta.db_table)
    if not two_generations:
        # This week's generation, for what last week's does not hold. One index probe per id
        # (LATERAL … LIMIT 1): an anti-join could read the workspace's whole generation.
        return (
            f"claimed AS (INSERT INTO {ids} (generation, workspace_id, message_id) "
            "SELECT %(claim_in)s, %(workspace_id)s, u.message_id FROM u LEFT JOIN LATERAL "
            f"(SELECT true AS known FROM {ids} p WHERE p.generation = %(checked)s "
            "AND p.workspace_id = %(workspace_id)s AND p.message_id = u.message_id LIMIT 1) "
            "previous ON true WHERE previous.known IS NULL ORDER BY u.message_id "
            "ON CONFLICT DO NOTHING RETURNING message_id)"
        )
    # Within OVERLAP after a week's boundary: claimed in last week's generation (`checked`)
    # first, then in this week's.
    return (
        f"in_previous AS (INSERT INTO {ids} (generation, workspace_id, message_id) "
        "SELECT %(checked)s, %(workspace_id)s, u.message_id FROM u ORDER BY u.message_id "
        "ON CONFLICT DO NOTHING RETURNING message_id), "
        f"claimed AS (INSERT INTO {ids} (generation, workspace_id, message_id) "
        "SELECT %(claim_in)s, %(workspace_id)s, message_id FROM in_previous "
        "ORDER BY message_id ON CONFLICT DO NOTHING RETURNING message_id)"
    )


def prune_message_ids(*, now: datetime) -> int | None:
    """Empty the idle generation (its ids are 7+ days old); returns it, or None when `now` is
    too close to a week's boundary (the next daily run does it) or on SQLite."""
    generation = idle_generation(now)
    if generation is None or connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"TRUNCATE {connection.ops.quote_name(partition_of(generation))}")
    return generation


def partition_of(generation: int) -> str:
    """The PostgreSQL partition holding one generation (delivery/migrations/0005)."""
    return f"{EventMessageId._meta.db_table}_g{generation}"
