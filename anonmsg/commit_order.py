"""Reading a table incrementally without skipping a row that commits late.

PostgreSQL hands out ids when rows are inserted, not when their transaction commits: a batch
that took id 100 and committed after the one that took 101 is invisible to a job that has
already seen 101, and a watermark "every id up to 101 is counted" skips it for good. Waiting a
fixed time before trusting an id only moves the problem to transactions that last longer.

So a row a job reads incrementally records the transaction that inserted it
(`transaction_id`, a column default: `pg_current_xact_id()`), and the job's watermark is a
*position*: the `xmin` of a snapshot (`pg_snapshot_xmin(pg_current_snapshot())`), the oldest
transaction still running anywhere on the server. Every transaction below it has ended, so
every row whose transaction id is below it is committed and visible (or was rolled back and
never will be). Rows at or above it are read again by the next run, so the job must be
idempotent. A transaction left open holds the position back, and runs read more until it ends,
but none misses a row. One indexed column and one function call per insert.

SQLite has one writer at a time, and a job's transaction (BEGIN IMMEDIATE, settings.py) keeps
the others out: ids are assigned in commit order there, and the row id is the position.
"""

from django.db import connection
from django.db.models import BigIntegerField, Expression, Max, Model


class CurrentTransactionId(Expression):
    """The inserting transaction's id on PostgreSQL (a column's `db_default`); NULL elsewhere."""

    output_field = BigIntegerField()
    allowed_default = True

    def as_sql(self, compiler, connection):
        if connection.vendor == "postgresql":
            return "(pg_current_xact_id()::text::bigint)", []
        return "NULL", []


def position_field() -> str:
    """The field that orders a table's rows by commit: see the module's docstring."""
    return "transaction_id" if connection.vendor == "postgresql" else "pk"


def horizon(model: type[Model]) -> int:
    """The position below which every row of `model` is committed. On SQLite, call it inside
    the transaction that reads the rows."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            return cursor.fetchone()[0]
    return (model.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
