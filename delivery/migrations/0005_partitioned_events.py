"""Events partitioned by day of `received_at` on PostgreSQL; messageId dedup in its own table.

PostgreSQL (see delivery/partitions.py for the why):
- the existing table keeps its rows and becomes one partition, `delivery_event_upto_YYYYMMDD`,
  holding everything received before tomorrow (UTC): no row is copied (a fresh install, whose
  table is empty, drops it instead and starts with day partitions only). Its id column loses its
  identity to a sequence owned by the new parent (a partitioned table cannot have one in
  PostgreSQL 15), its primary key becomes (id, received_at) (a partitioned table's unique keys
  must contain the partition key; building it reads the table once), and its indexes are
  renamed and attached to the parent's;
- `delivery_event_default` takes any row no day partition covers;
- the day partitions themselves are created by `ensure_event_partitions`, after every migrate
  (delivery/apps.py) and daily by the "Maintain event partitions" task (0006);
- `delivery_eventmessageid` is partitioned by generation (delivery/tracking/message_ids.py) and
  seeded with the messageIds of the last 14 days, so that a retry is still recognised after
  the upgrade.

The events' foreign key to the workspace (a per-row check on the hot insert path) and its
index go on both databases. The unique key on (workspace, message_id) leaves the model: on
PostgreSQL dedup moves to EventMessageId; SQLite keeps the constraint in its table (a future
migration that remakes the SQLite table must add it back) and a plain table otherwise.

Reversible: on PostgreSQL the rows are copied back into a plain table.
"""

from datetime import UTC, datetime, time, timedelta

import django.db.models.deletion
from django.db import migrations, models

GENERATIONS = 3
WEEK = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _tomorrow() -> datetime:
    return datetime.combine(datetime.now(UTC).date() + timedelta(days=1), time.min, tzinfo=UTC)


def partition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Event = apps.get_model("delivery", "Event")
    EventMessageId = apps.get_model("delivery", "EventMessageId")
    quote = schema_editor.quote_name
    table = Event._meta.db_table
    tomorrow = _tomorrow()
    legacy = f"{table}_upto_{tomorrow:%Y%m%d}"
    run = schema_editor.execute

    # The existing table, renamed, with what a partition may not have.
    run(f"ALTER TABLE {quote(table)} DROP CONSTRAINT IF EXISTS unique_event_message_id")
    run(f"ALTER TABLE {quote(table)} RENAME TO {quote(legacy)}")
    run(f"ALTER TABLE {quote(legacy)} ALTER COLUMN id DROP IDENTITY IF EXISTS")
    run(f"ALTER TABLE {quote(legacy)} DROP CONSTRAINT IF EXISTS {quote(table + '_pkey')}")
    for index in Event._meta.indexes:
        run(f"ALTER INDEX IF EXISTS {quote(index.name)} RENAME TO {quote(index.name + '_upto')}")

    # The partitioned parent, with the same columns in the same order.
    sequence = f"{table}_id_seq"
    run(
        f"CREATE TABLE {quote(table)} (LIKE {quote(legacy)} INCLUDING DEFAULTS) "
        "PARTITION BY RANGE (received_at)"
    )
    run(f"CREATE SEQUENCE {quote(sequence)} OWNED BY {quote(table)}.id")
    run(
        f"SELECT setval('{sequence}', (SELECT coalesce(max(id), 0) + 1 FROM {quote(legacy)}), "
        "false)"
    )
    run(f"ALTER TABLE {quote(table)} ALTER COLUMN id SET DEFAULT nextval('{sequence}')")
    run(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} PRIMARY KEY (id, received_at)")
    for index in Event._meta.indexes:
        schema_editor.add_index(Event, index)
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {quote(legacy)})")
        has_rows = cursor.fetchone()[0]
    if has_rows:
        run(
            f"ALTER TABLE {quote(table)} ATTACH PARTITION {quote(legacy)} "
            "FOR VALUES FROM (MINVALUE) TO (%s)",
            [tomorrow],
        )
    run(f"CREATE TABLE {quote(table + '_default')} PARTITION OF {quote(table)} DEFAULT")

    # messageIds: one partition per generation, seeded with the recent ones.
    dedup = EventMessageId._meta.db_table
    run(f"DROP TABLE {quote(dedup)}")
    run(
        f"CREATE TABLE {quote(dedup)} (generation smallint NOT NULL CHECK (generation >= 0), "
        "workspace_id bigint NOT NULL, message_id varchar(255) NOT NULL, "
        "PRIMARY KEY (generation, workspace_id, message_id)) PARTITION BY LIST (generation)"
    )
    for generation in range(GENERATIONS):
        run(
            f"CREATE TABLE {quote(f'{dedup}_g{generation}')} PARTITION OF {quote(dedup)} "
            f"FOR VALUES IN ({generation})"
        )
    current = ((datetime.now(UTC) - EPOCH) // WEEK) % GENERATIONS
    run(
        f"INSERT INTO {quote(dedup)} (generation, workspace_id, message_id) "
        f"SELECT %s, workspace_id, message_id FROM {quote(legacy)} "
        "WHERE received_at >= now() - interval '14 days' ON CONFLICT DO NOTHING",
        [current],
    )
    if not has_rows:
        run(f"DROP TABLE {quote(legacy)}")


def unpartition_events(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    Event = apps.get_model("delivery", "Event")
    quote = schema_editor.quote_name
    table = Event._meta.db_table
    plain = f"{table}_plain"
    run = schema_editor.execute
    run(f"CREATE TABLE {quote(plain)} (LIKE {quote(table)})")
    run(f"INSERT INTO {quote(plain)} SELECT * FROM {quote(table)}")
    run(f"DROP TABLE {quote(table)} CASCADE")
    run(f"ALTER TABLE {quote(plain)} RENAME TO {quote(table)}")
    run(f"ALTER TABLE {quote(table)} ALTER COLUMN id ADD GENERATED BY DEFAULT AS IDENTITY")
    run(
        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        f"(SELECT coalesce(max(id), 0) + 1 FROM {quote(table)}), false)"
    )
    run(f"ALTER TABLE {quote(table)} ADD CONSTRAINT {quote(table + '_pkey')} PRIMARY KEY (id)")
    run(
        f"ALTER TABLE {quote(table)} ALTER COLUMN transaction_id "
        "SET DEFAULT (pg_current_xact_id()::text::bigint)"
    )
    for index in Event._meta.indexes:
        schema_editor.add_index(Event, index)
    run(
        f"ALTER TABLE {quote(table)} ADD CONSTRAINT unique_event_message_id "
        "UNIQUE (workspace_id, message_id)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("anonmsg", "0002_invitation"),
        ("delivery", "0004_event_transaction_id"),
    ]

    operations = [
        migrations.CreateModel(
            name="EventMessageId",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "generation",
                        "workspace",
                        "message_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("generation", models.PositiveSmallIntegerField()),
                (
                    "workspace",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="anonmsg.workspace",
                    ),
                ),
                ("message_id", models.CharField(max_length=255)),
            ],
        ),
        migrations.AlterField(
            model_name="event",
            name="workspace",
            field=models.ForeignKey(
                db_constraint=False,
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="events",
                to="anonmsg.workspace",
            ),
        ),
        # SQLite keeps the unique constraint (its dedup, delivery/tracking/message_ids.py);
        # PostgreSQL drops it in partition_events. After AlterField, which remakes the SQLite
        # table from the state that still has it.
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveConstraint(model_name="event", name="unique_event_message_id")
            ],
        ),
        migrations.RunPython(partition_events, unpartition_events),
    ]
