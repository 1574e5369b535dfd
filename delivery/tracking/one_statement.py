"""Anonymous calls on PostgreSQL: everything a request writes, in one prepared statement.

Calls without a userId — page views, tracks and message events of anonymous visitors, most of
the traffic — change nothing but the events, the visitors and their message states. So one
statement writes it all, as data-modifying CTEs over the request's rows (`u`, one JSON
array per column: bulk_sql.column_rows):

    claimed   the messageIds not seen for 7+ days (message_ids.claim_cte)
    inserted  the events whose id was claimed, into today's partition
    fresh     the new rows of `u` (those `inserted`)
    seen      per anonymous id, from the new events only: first and last seen, the latest
              user agent and page (ties: the later call), as identity.upsert_visitors
    changed   the visitors whose stored row this changes (identity.visitor_changed; read in
              the statement's snapshot, so a visitor's two requests within the same
              milliseconds may each keep its own user agent), or all of them with message
              states (their ids are needed)
    visitors  the visitor upsert (identity.visitor_conflict_clause)
    states    with message events: views, dismissals and clicks per visitor and message,
              as recording._update_message_states

Run outside a transaction it is its own transaction: no BEGIN and COMMIT round trips, and its
rows come back only once it has committed (the server answers after the implicit COMMIT).
A duplicate has no effect at all, since `seen` and `states` read the new events only.
Prepared once per connection (bulk_sql.execute): a single event's statement costs a
third of what parsing and planning it anew did.
"""

from datetime import datetime
from functools import cache

from django.db import connection, transaction

from campaigns.assignment import HOLDOUT
from delivery import first_exposure
from delivery.models import Event, Visitor, VisitorMessageState
from delivery.tracking import message_ids
from delivery.tracking.bulk_sql import column_arrays, column_rows, execute, execute_reconnecting
from delivery.tracking.identity import EARLIER, LATER, visitor_changed, visitor_conflict_clause
from delivery.tracking.parsing import CLICKED, DISMISSED, HELD_OUT, VARIANT_KEYS, VIEWED

# The events' columns (recording.EVENT_COLUMNS) and what the visitor upsert reads besides.
VISITOR_EXTRAS = [("user_agent", "text"), ("page", "text"), ("position", "integer")]


def applies(events) -> bool:
    """Whether this statement can record `events`: PostgreSQL, and no call names a person
    (profiles, merges and traits take the transaction of recording.record_in_transaction)."""
    return connection.vendor == "postgresql" and not any(event.user_id for event in events)


def statement_and_parameters(
    *,
    workspace_id: int,
    event_columns: list[tuple[str, str]],
    rows: list[tuple],
    extras: list[tuple],
    with_states: bool,
    at: datetime,
) -> tuple[str, dict]:
    """The statement recording anonymous calls, and its parameters (for `run`): `rows` in
    `event_columns` order, `extras` (user agent, page, position) for each."""
    statement = _statement(
        tuple(event_columns),
        two_generations=len(message_ids.claim_generations(at)) == 2,
        with_states=with_states,
    )
    columns = [*event_columns, *VISITOR_EXTRAS]
    parameters = {
        **column_arrays(columns, [row + extra for row, extra in zip(rows, extras, strict=True)]),
        **message_ids.claim_parameters(workspace_id, at),
    }
    return statement, parameters


def run(statement: str, parameters: dict) -> list[tuple]:
    """Run what `statement_and_parameters` built. Returns (id, message_id) of the events that
    were new. Its own transaction, or a savepoint inside the caller's."""
    if not connection.get_autocommit():
        with transaction.atomic():  # inside the caller's transaction: fails alone
            return execute(statement, parameters)
    # Sent twice at most, and safe whatever the first attempt did: if it committed after all,
    # its messageIds are claimed and the second one stores nothing again (the request is
    # answered as duplicates).
    return execute_reconnecting(statement, parameters)


@cache
def _statement(
    event_columns: tuple[tuple[str, str], ...], *, two_generations: bool, with_states: bool
) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in event_columns)
    columns = [*event_columns, *VISITOR_EXTRAS]
    ts = quote("timestamp")
    latest = (
        "coalesce((array_agg({c} ORDER BY {ts} DESC, {position} DESC) FILTER (WHERE {c} <> ''))"
        "[1], '')"
    )
    visitor_table = quote(Visitor._meta.db_table)
    parts = [
        f"u AS (SELECT * FROM {column_rows(columns)})",
        message_ids.claim_cte(two_generations=two_generations),
        f"inserted AS (INSERT INTO {quote(Event._meta.db_table)} ({names}) "
        f"SELECT {names} FROM u JOIN claimed USING (message_id) RETURNING id, message_id)",
        "fresh AS (SELECT u.* FROM u JOIN claimed USING (message_id))",
        f"seen AS (SELECT anonymous_id, min({ts}) AS first_seen_at, max({ts}) AS last_seen_at, "
        f"{latest.format(c='user_agent', ts=ts, position=quote('position'))} AS user_agent, "
        f"{latest.format(c='page', ts=ts, position=quote('position'))} AS last_page "
        "FROM fresh WHERE anonymous_id <> '' GROUP BY anonymous_id)",
        # Without message states, only the visitors whose row would change go to the upsert:
        # ON CONFLICT would lock (and log) every row it then leaves alone. One probe of the
        # unique index per visitor (LATERAL … LIMIT 1, which the planner cannot flatten; the
        # last-seen index is for anonymous visitors only, migration 0010, so this lookup cannot
        # take it): as a plain join, a plan made while the table looked empty (a new install
        # before its first ANALYZE; prepared statements keep their plan) read the workspace's
        # every visitor for each one, 28 ms of a 33 ms batch of 150 calls.
        "changed AS (SELECT seen.* FROM seen"
        + (
            ""
            if with_states
            else f" LEFT JOIN LATERAL (SELECT * FROM {visitor_table} v "
            "WHERE v.workspace_id = %(workspace_id)s AND v.anonymous_id = seen.anonymous_id "
            "LIMIT 1) v ON true WHERE v.id IS NULL OR "
            + visitor_changed("postgresql", new="seen", old="v")
        )
        + ")",
        # Sorted, so that concurrent requests lock visitor rows in the same order.
        f"visitors AS (INSERT INTO {visitor_table} "
        "(workspace_id, anonymous_id, first_seen_at, last_seen_at, user_agent, last_page) "
        "SELECT %(workspace_id)s, anonymous_id, first_seen_at, last_seen_at, user_agent, "
        "last_page FROM changed ORDER BY anonymous_id "
        # Message states need every visitor's id: the row is then always written.
        + visitor_conflict_clause("postgresql", only_if_changed=not with_states)
        + (" RETURNING id, anonymous_id)" if with_states else ")"),
    ]
    if with_states:
        parts.append(_states_cte())
    return f"WITH {', '.join(parts)} SELECT id, message_id FROM inserted"


def _states_cte() -> str:
    ts = connection.ops.quote_name("timestamp")
    exposed = f"fresh.action_type IN ('{VIEWED}', '{HELD_OUT}')"
    # The arm of an exposure (recording._update_message_states): a held-out report stands
    # for the holdout, a view for the variant its properties name (A–D), if any.
    arm = (
        f"CASE WHEN fresh.action_type = '{HELD_OUT}' THEN '{HOLDOUT}' "
        "WHEN fresh.payload->'properties'->>'variant' IN ("
        + ", ".join(f"'{key}'" for key in sorted(VARIANT_KEYS))
        + ") THEN fresh.payload->'properties'->>'variant' ELSE '' END"
    )
    first_arm = f"{exposed} AND {arm} <> ''"

    def when(condition: str) -> str:
        return f"FILTER (WHERE {condition})"

    return (
        f"states AS (INSERT INTO {connection.ops.quote_name(VisitorMessageState._meta.db_table)} "
        "(visitor_id, message_id, views, first_viewed_at, last_viewed_at, dismissed_at, "
        "responded_at, arm, exposed_at) "
        # A held-out report counts as a view of nothing (frequency treats both arms alike).
        f"SELECT visitors.id, fresh.content_id, count(*) {when(exposed)}, "
        f"min(fresh.{ts}) {when(exposed)}, max(fresh.{ts}) {when(exposed)}, "
        f"max(fresh.{ts}) {when(f"fresh.action_type = '{DISMISSED}'")}, "
        f"max(fresh.{ts}) {when(f"fresh.action_type = '{CLICKED}'")}, "
        # The first exposure (delivery.first_exposure): the earliest; ties, the lower arm.
        f"coalesce((array_agg({arm} ORDER BY fresh.{ts}, {arm}) {when(first_arm)})"
        f"[1], ''), min(fresh.{ts}) {when(first_arm)} "
        "FROM fresh JOIN visitors USING (anonymous_id) WHERE fresh.content_id IS NOT NULL "
        "GROUP BY visitors.id, fresh.content_id ORDER BY visitors.id, fresh.content_id "
        f"{state_conflict_clause()})"
    )


@cache
def state_conflict_clause() -> str:
    """`ON CONFLICT … DO UPDATE` of a message state upsert: views add up, first viewed the
    earliest, the other times the latest, the arm the first exposure's."""
    table = connection.ops.quote_name(VisitorMessageState._meta.db_table)
    earlier = first_exposure.replaces(table)
    return (
        "ON CONFLICT (visitor_id, message_id) DO UPDATE SET "
        f"views = {table}.views + excluded.views, "
        f"first_viewed_at = {EARLIER.format(t=table, c='first_viewed_at')}, "
        f"last_viewed_at = {LATER.format(t=table, c='last_viewed_at')}, "
        f"dismissed_at = {LATER.format(t=table, c='dismissed_at')}, "
        f"responded_at = {LATER.format(t=table, c='responded_at')}, "
        # The first exposure's arm and time (a visitor's arm only moves if the split does).
        f"arm = CASE WHEN {earlier} THEN excluded.arm ELSE {table}.arm END, "
        f"exposed_at = CASE WHEN {earlier} THEN excluded.exposed_at ELSE {table}.exposed_at END"
    )
