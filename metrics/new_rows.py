"""The rows of a table that the rollup job has not counted yet, each read exactly once.

The job adds new rows to their buckets rather than recomputing whole hours from raw data (which
re-read an hour's events on every run, too slow at thousands of events per second), so it must
read each row exactly once, including a row whose transaction commits late.

PostgreSQL: rows carry their inserting transaction (`transaction_id`, anonmsg/commit_order.py).
The job remembers the *snapshot* (`pg_current_snapshot()`) whose visible rows it has counted:
a run takes a new snapshot and reads the rows visible in it but not in the last one, which are
the rows of the transactions still running at the last snapshot (its `xip` list, a handful) and
those that started since (xids from its `xmax`): two index scans that never walk rows counted
before, even while an old transaction holds the server's xmin back. A transaction that commits
after a snapshot is in the next one's difference, however late. The rows of the job's own
transaction (only in tests, which write events and run the job in one transaction) are read
by id past the last one counted.

SQLite has one writer at a time, and the job's transaction (BEGIN IMMEDIATE) keeps the others
out: ids are assigned in commit order, so the next id to read is the whole state.

A run reads a chunk at a time, each in its own transaction with the rows it counts, and saves
where it got to (`progress`), so a crash or a concurrent run resumes exactly there.
"""

from dataclasses import dataclass

from django.db import connection


@dataclass(frozen=True)
class Source:
    key: str  # the entry in RollupState.progress
    position_field: str  # the RollupState field shown to operators (and SQLite's state)
    table: str
    hour_column: str  # read as the number of its UTC hour since 1970 (no datetime per row)
    select: str  # SQL select list, after the hour number
    joins: str = ""
    where: str = "TRUE"

    def columns(self) -> str:
        if connection.vendor == "postgresql":
            hour = f"floor(extract(epoch FROM e.{self.hour_column}) / 3600)::bigint"
        else:
            hour = f"CAST(strftime('%%s', e.{self.hour_column}) AS INTEGER) / 3600"
        return f"{hour}, {self.select}"


def read_new_rows(state, source: Source, *, chunk: int) -> tuple[list[tuple], bool]:
    """The next rows (the hour number, then the source's select list) not counted yet, and
    whether none are left.

    Updates `state` to count them: save it in the transaction that counts the rows.
    """
    if connection.vendor == "postgresql":
        return _read_postgresql(state, source, chunk)
    return _read_sqlite(state, source, chunk)


def counted_condition(state, source: Source, alias: str) -> tuple[str, list]:
    """SQL (and parameters) true for the rows of `alias` that `state` has counted: a recompute
    from raw data restricted to them agrees with the counts the job adds later."""
    if connection.vendor != "postgresql":
        return f"{alias}.id < %s", [getattr(state, source.position_field)]
    progress = state.progress.get(source.key) or {}
    own_xid, own_last = _own(progress)
    done = progress.get("done") or ""
    column = f"{alias}.transaction_id"
    own = f"({column} = %s AND {alias}.id <= %s)"
    if not done:
        return f"({column} IS NULL OR {column} < %s OR {own})", [
            getattr(state, source.position_field),
            own_xid,
            own_last,
        ]
    return (
        f"({column} IS NULL OR ({_visible(column)} AND {column} <> %s) OR {own})",
        [done, own_xid, own_xid, own_last],
    )


def is_legacy(state, source: Source) -> bool:
    """A state the previous job left (PostgreSQL): rows from its position on may already be
    counted in their buckets, so its first run recomputes their buckets rather than adding."""
    progress = state.progress.get(source.key) or {}
    return (
        connection.vendor == "postgresql"
        and not progress.get("done")
        and getattr(state, source.position_field) > 0
    )


def target_condition(state, source: Source, alias: str) -> tuple[str, list]:
    """SQL true for the rows visible in the snapshot a run is counting towards (legacy runs
    recompute buckets from exactly these)."""
    progress = state.progress.get(source.key) or {}
    column = f"{alias}.transaction_id"
    return (
        f"({column} IS NULL OR {_visible(column)} OR {column} = %s)",
        [progress["target"], _current_xid()],
    )


# --- PostgreSQL -------------------------------------------------------------------------------


def _visible(column: str) -> str:
    return f"pg_visible_in_snapshot({column}::text::xid8, %s::pg_snapshot)"


def _parse(snapshot: str) -> tuple[int, int, list[int]]:
    """'xmin:xmax:xip1,xip2' → (xmin, xmax, [xip…])."""
    xmin, xmax, xip = snapshot.split(":")
    return int(xmin), int(xmax), [int(x) for x in xip.split(",") if x]


def _current_xid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_xact_id()::text::bigint")
        return cursor.fetchone()[0]


def _own(progress: dict) -> tuple[int, int]:
    """(this transaction's id, the last id of its rows counted)."""
    own_xid = _current_xid()
    stored = progress.get("own")
    return own_xid, stored[1] if stored and stored[0] == own_xid else 0


def _read_postgresql(state, source: Source, chunk: int) -> tuple[list[tuple], bool]:
    progress = dict(state.progress.get(source.key) or {})
    if not progress.get("target"):
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_current_snapshot()::text")
            progress["target"] = cursor.fetchone()[0]
        progress["after"] = None
    target = progress["target"]
    if progress.get("done"):
        _, done_xmax, done_xip = _parse(progress["done"])
    else:  # nothing counted yet, or the previous job's position
        done_xmax, done_xip = getattr(state, source.position_field), []
    target_xmin, target_xmax, _ = _parse(target)
    own_xid, own_last = _own(progress)
    after = tuple(progress["after"]) if progress.get("after") else (-1, -1)

    visible = f"(e.transaction_id < %s OR {_visible('e.transaction_id')})"
    rows = []
    segments = []
    if done_xip and after[0] < done_xmax:
        segments.append(("e.transaction_id = ANY(%s)", [done_xip]))
    segments.append(("e.transaction_id >= %s AND e.transaction_id < %s", [done_xmax, target_xmax]))
    for condition, params in segments:
        if len(rows) >= chunk:
            break
        rows += _query(
            source,
            f"{condition} AND {visible} AND e.transaction_id <> %s "
            "AND (e.transaction_id, e.id) > (%s, %s)",
            [*params, target_xmin, target, own_xid, *after],
            order="e.transaction_id, e.id",
            limit=chunk - len(rows),
        )
    if rows:
        progress["after"] = list(rows[-1][:2])
    if len(rows) >= chunk:
        state.progress = {**state.progress, source.key: progress}
        return [row[2:] for row in rows], False
    own_rows = _query(
        source,
        "e.transaction_id = %s AND e.id > %s",
        [own_xid, own_last],
        order="e.id",
        limit=chunk - len(rows),
    )
    rows += own_rows
    if own_rows:
        progress["own"] = [own_xid, own_rows[-1][1]]
    finished = len(rows) < chunk
    if finished:
        progress.update(done=target, target=None, after=None)
        setattr(state, source.position_field, target_xmin)
    state.progress = {**state.progress, source.key: progress}
    return [row[2:] for row in rows], finished


def _query(source: Source, condition: str, params: list, *, order: str, limit: int) -> list:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.transaction_id, e.id, {source.columns()} FROM {source.table} e "
            f"{source.joins} "
            f"WHERE {source.where} AND {condition} ORDER BY {order} LIMIT %s",
            [*params, limit],
        )
        return cursor.fetchall()


# --- SQLite -----------------------------------------------------------------------------------


def _read_sqlite(state, source: Source, chunk: int) -> tuple[list[tuple], bool]:
    progress = dict(state.progress.get(source.key) or {})
    if not progress.get("target"):
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {source.table}")
            progress["target"] = cursor.fetchone()[0]
    position = getattr(state, source.position_field)
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.id, {source.columns()} FROM {source.table} e {source.joins} "
            f"WHERE {source.where} AND e.id >= %s AND e.id < %s ORDER BY e.id LIMIT %s",
            [position, progress["target"], chunk],
        )
        rows = cursor.fetchall()
    finished = len(rows) < chunk
    if finished:
        setattr(state, source.position_field, max(position, progress["target"]))
        progress["target"] = None
    else:
        setattr(state, source.position_field, rows[-1][0] + 1)
    state.progress = {**state.progress, source.key: progress}
    return [row[1:] for row in rows], finished
