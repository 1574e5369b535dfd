"""The events table's partitions on PostgreSQL: one per UTC day of `received_at`.

Why `received_at` (the server's clock) and not the event's `timestamp`:
- every insert lands in today's partition, so the partitions are known in advance and created
  ahead by a task; a client's timestamp may be years in the past (clock skew correction, late
  mobile batches, imports), which would scatter inserts over old partitions or the default one;
- a retry that comes later with a new sentAt has another corrected timestamp: deduplication
  cannot rely on partitions anyway (delivery/tracking/message_ids.py);
- retention ages by when the server got the data, and a partition past it has only old rows;
- `timestamp` is never later than `received_at` (parsing.corrected_timestamp), so a query with
  a lower bound on `timestamp` (attribution windows, a date-filtered activity log) may add the
  same bound on `received_at` and PostgreSQL skips every older partition.
Days, because retention is counted in days and a day of events is a partition small enough
to rewrite when retention compacts it.

Layout (delivery/migrations/0005): `delivery_event_YYYYMMDD` for each day; the table that held
the events before partitioning became `delivery_event_upto_YYYYMMDD` (everything received
before that day); `delivery_event_default` takes any row no partition covers, so a missing
partition never loses an event (`ensure_event_partitions` moves such rows into the day's
partition when it creates it). Retention rewrites a partition past the retention period with
only the rows it keeps and renames it `…_kept` (delivery/retention.py).

SQLite: a plain table; every function here does nothing there.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction
from django.utils import timezone

from delivery.models import Event

DAYS_AHEAD = 7
# DDL on the parent waits at most this long for running inserts, rather than stalling them.
LOCK_TIMEOUT = "5s"
KEPT_SUFFIX = "_kept"
# pg_advisory_xact_lock key taken by whatever creates, rewrites or drops partitions.
MAINTENANCE_LOCK = 7_214_005
_BOUND = re.compile(r"FROM \((?:'([^']+)'|MINVALUE)\) TO \((?:'([^']+)'|MAXVALUE)\)")


@dataclass(frozen=True)
class Partition:
    name: str
    lower: datetime | None  # None: MINVALUE
    upper: datetime | None  # None: MAXVALUE

    @property
    def kept(self) -> bool:
        """Rewritten by retention: holds only what retention keeps."""
        return self.name.endswith(KEPT_SUFFIX)


def is_partitioned() -> bool:
    """Whether the events table is partitioned (PostgreSQL, migrated past delivery 0005)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT relkind FROM pg_class WHERE oid = to_regclass(%s)", [event_table()])
        row = cursor.fetchone()
    return row is not None and row[0] == "p"


def event_table() -> str:
    return Event._meta.db_table


def day_partition_name(day: date) -> str:
    return f"{event_table()}_{day:%Y%m%d}"


def day_start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def days_to_create(*, today: date, existing: list[Partition], ahead: int) -> list[date]:
    """The days from `today` to `today + ahead` that no partition covers yet (pure)."""
    missing = []
    for offset in range(ahead + 1):
        day = today + timedelta(days=offset)
        start, end = day_start(day), day_start(day + timedelta(days=1))
        if not any(_overlaps(partition, start, end) for partition in existing):
            missing.append(day)
    return missing


def _overlaps(partition: Partition, start: datetime, end: datetime) -> bool:
    return (partition.lower is None or partition.lower < end) and (
        partition.upper is None or start < partition.upper
    )


def event_partitions() -> list[Partition]:
    """The range partitions of the events table, oldest first (the default one left out)."""
    if not is_partitioned():
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = %s::regclass",
            [event_table()],
        )
        rows = cursor.fetchall()
    partitions = []
    for name, bound in rows:
        match = _BOUND.search(bound)
        if match:
            lower, upper = (
                datetime.fromisoformat(value).astimezone(UTC) if value else None
                for value in match.groups()
            )
            partitions.append(Partition(name, lower, upper))
    return sorted(partitions, key=lambda p: p.lower or datetime.min.replace(tzinfo=UTC))


def ensure_event_partitions(*, now: datetime | None = None, ahead: int = DAYS_AHEAD) -> list[str]:
    """Create the partitions of today and the next `ahead` days that are missing, and of any
    past day whose events wait in the default partition; returns their names.

    Idempotent, and safe while events arrive and on several nodes at once (one at a time, by
    an advisory lock). A partition is created as a table and attached, which does not block
    inserts; rows of its day waiting in the default partition are moved into it on the way."""
    if not is_partitioned():
        return []
    today = (now or timezone.now()).astimezone(UTC).date()
    created = []
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MAINTENANCE_LOCK])
        existing = event_partitions()
        days = days_to_create(today=today, existing=existing, ahead=ahead)
        for day in _days_waiting_in_default():
            uncovered = days_to_create(today=day, existing=existing, ahead=0) == [day]
            if uncovered and day not in days:
                days.append(day)
        for day in sorted(days):
            create_day_partition(day)
            created.append(day_partition_name(day))
    return created


def _days_waiting_in_default() -> list[date]:
    """The UTC days of the rows in the default partition (normally none: a cheap scan)."""
    default = connection.ops.quote_name(f"{event_table()}_default")
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT (received_at AT TIME ZONE 'UTC')::date FROM {default} ORDER BY 1"
        )
        return [row[0] for row in cursor.fetchall()]


def create_day_partition(day: date) -> None:
    quote = connection.ops.quote_name
    parent, name = quote(event_table()), quote(day_partition_name(day))
    default = quote(f"{event_table()}_default")
    start, end = day_start(day), day_start(day + timedelta(days=1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            f"CREATE TABLE {name} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
        )
        # Lets ATTACH skip scanning the new table.
        cursor.execute(
            f"ALTER TABLE {name} ADD CONSTRAINT {quote(day_partition_name(day) + '_range')} "
            "CHECK (received_at >= %s AND received_at < %s)",
            [start, end],
        )
        cursor.execute(
            f"SELECT 1 FROM {default} WHERE received_at >= %s AND received_at < %s LIMIT 1",
            [start, end],
        )
        if cursor.fetchone():
            # The task did not run in time and the day's first events went to the default
            # partition: move them, or ATTACH would refuse.
            cursor.execute(f"LOCK TABLE {default} IN EXCLUSIVE MODE")
            cursor.execute(
                f"WITH moved AS (DELETE FROM {default} WHERE received_at >= %s "
                f"AND received_at < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved",
                [start, end],
            )
        cursor.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {name} FOR VALUES FROM (%s) TO (%s)",
            [start, end],
        )


def rewrite_partition(partition: Partition, *, keep_sql: str, params: list) -> int:
    """Replace `partition` by a copy holding only the rows `keep_sql` (a condition on the
    alias `e`) selects, renamed `…_kept`, or drop it when it keeps none (its range is then
    uncovered: nothing is received in the past); returns how many rows were dropped.

    The copy is built, indexed and constrained before the old partition is dropped, so the
    lock that blocks inserts on the parent lasts only for the DROP and the ATTACH."""
    quote = connection.ops.quote_name
    parent = quote(event_table())
    base = partition.name.removesuffix(KEPT_SUFFIX)
    new_name = base + KEPT_SUFFIX
    building = quote(f"{base}_rewrite")
    lower = "MINVALUE" if partition.lower is None else "%s"
    upper = "MAXVALUE" if partition.upper is None else "%s"
    bounds = [value for value in (partition.lower, partition.upper) if value is not None]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [MAINTENANCE_LOCK])
        cursor.execute(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
        cursor.execute(
            "SELECT 1 FROM pg_class WHERE oid = to_regclass(%s)", [quote(partition.name)]
        )
        if cursor.fetchone() is None:
            return 0  # another node rewrote it meanwhile
        cursor.execute(f"CREATE TABLE {building} (LIKE {parent} INCLUDING ALL)")
        columns = ", ".join(quote(field.column) for field in Event._meta.concrete_fields)
        cursor.execute(
            f"INSERT INTO {building} ({columns}) SELECT {columns} FROM {quote(partition.name)} e "
            f"WHERE {keep_sql}",
            params,
        )
        kept = cursor.rowcount
        cursor.execute(f"SELECT count(*) FROM {quote(partition.name)}")
        before = cursor.fetchone()[0]
        if kept == 0:
            cursor.execute(f"DROP TABLE {building}")
            cursor.execute(f"DROP TABLE {quote(partition.name)}")
            return before
        conditions = []
        if partition.lower is not None:
            conditions.append("received_at >= %s")
        if partition.upper is not None:
            conditions.append("received_at < %s")
        cursor.execute(
            f"ALTER TABLE {building} ADD CONSTRAINT {quote(base + '_range')} "
            f"CHECK ({' AND '.join(conditions) or 'true'})",
            bounds,
        )
        cursor.execute(f"DROP TABLE {quote(partition.name)}")
        cursor.execute(f"ALTER TABLE {building} RENAME TO {quote(new_name)}")
        cursor.execute(
            f"ALTER TABLE {parent} ATTACH PARTITION {quote(new_name)} "
            f"FOR VALUES FROM ({lower}) TO ({upper})",
            bounds,
        )
    return before - kept


def count_rows(partition: Partition, *, where_sql: str = "true", params: list = ()) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FROM {connection.ops.quote_name(partition.name)} e WHERE {where_sql}",
            list(params),
        )
        return cursor.fetchone()[0]
