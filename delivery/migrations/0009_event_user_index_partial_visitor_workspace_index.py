"""Less to write per event: `event_ws_user_time` only for events with a userId, and visitors
without their own workspace index (the two composite indexes start with workspace_id).

Anonymous events — most of the traffic — are never looked up by userId: every query on the
index names one (activity filter, a person's timeline, goal events), and PostgreSQL proves
`user_id = 'x'` (or `IN` a list of them) implies `user_id <> ''`.

On PostgreSQL the events table is partitioned and takes inserts all the time, so the partial
index is built without blocking them: created ON ONLY the parent (invalid until every
partition has its own), then CONCURRENTLY on each partition and attached; only then is the
full index dropped (a brief lock) and the new one renamed. A partition attached meanwhile gets
its index from the parent. Not atomic (CREATE INDEX CONCURRENTLY cannot run in a transaction);
run again, it picks up where it stopped. SQLite: a plain DROP and CREATE INDEX.
"""

import django.db.models.deletion
from django.db import migrations, models

NAME = "event_ws_user_time"
BUILDING = "event_ws_user_time_building"
COLUMNS = '(workspace_id, user_id, "timestamp" DESC)'
PARTIAL = "WHERE user_id <> ''"


def _partitions_without(cursor, index: str) -> list[str]:
    """The events' partitions with no index attached to `index` yet."""
    cursor.execute(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = 'delivery_event'::regclass AND NOT EXISTS ("
        "  SELECT 1 FROM pg_inherits ii JOIN pg_index x ON x.indexrelid = ii.inhrelid "
        "  WHERE ii.inhparent = to_regclass(%s) AND x.indrelid = c.oid) ORDER BY 1",
        [index],
    )
    return [name for (name,) in cursor.fetchall()]


def _rebuild(schema_editor, *, where: str) -> None:
    """Replace event_ws_user_time by the same columns `where` (empty: the full index)."""
    connection = schema_editor.connection
    quote = schema_editor.quote_name
    run = schema_editor.execute
    run(f"DROP INDEX IF EXISTS {quote(BUILDING)}")
    run(f"CREATE INDEX {quote(BUILDING)} ON ONLY delivery_event {COLUMNS} {where}")
    with connection.cursor() as cursor:
        while missing := _partitions_without(cursor, BUILDING):
            for partition in missing:
                # Another name than the children of the index being replaced.
                child = quote(f"{partition}_user_time{'_p' if where else ''}")
                run(f"DROP INDEX CONCURRENTLY IF EXISTS {child}")  # a failed earlier build
                run(f"CREATE INDEX CONCURRENTLY {child} ON {quote(partition)} {COLUMNS} {where}")
                run(f"ALTER INDEX {quote(BUILDING)} ATTACH PARTITION {child}")
    run("SET lock_timeout = '10s'")
    run(f"DROP INDEX IF EXISTS {quote(NAME)}")
    run(f"ALTER INDEX {quote(BUILDING)} RENAME TO {quote(NAME)}")
    run("RESET lock_timeout")


def _index(partial: bool) -> models.Index:
    return models.Index(
        fields=["workspace", "user_id", "-timestamp"],
        name=NAME,
        condition=~models.Q(user_id="") if partial else None,
    )


def make_partial(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, where=PARTIAL)
    else:
        Event = apps.get_model("delivery", "Event")
        schema_editor.remove_index(Event, _index(partial=False))
        schema_editor.add_index(Event, _index(partial=True))


def make_full(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        _rebuild(schema_editor, where="")
    else:
        Event = apps.get_model("delivery", "Event")
        schema_editor.remove_index(Event, _index(partial=True))
        schema_editor.add_index(Event, _index(partial=False))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("anonmsg", "0003_secret_key_fingerprint"),
        ("delivery", "0008_visitor_message_state_exposed_at"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="event", name=NAME),
                migrations.AddIndex(model_name="event", index=_index(partial=True)),
            ],
            database_operations=[migrations.RunPython(make_partial, make_full)],
        ),
        migrations.AlterField(
            model_name="visitor",
            name="workspace",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="visitors",
                to="anonmsg.workspace",
            ),
        ),
    ]
