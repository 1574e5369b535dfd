"""The ids SDKs send (anonymousId, userId, messageId) take the "C" collation on PostgreSQL
(delivery/identifier_field.py): their B-trees compare bytes instead of calling strcoll.

PostgreSQL: no row is rewritten, but every index on these columns is rebuilt under an
exclusive lock on its table, and tracking calls wait for it: about a second per million
events (docs/operations.md, "Upgrading to delivery/0011"), so on a large installation run
this upgrade's `migrate` in a quiet hour.

SQLite changes nothing (its default collation, BINARY, compares bytes already): only the
state changes there, because an AlterField would remake the SQLite events table from the
state, which lacks its unique (workspace, message_id) constraint (migration 0005).
"""

from django.db import migrations

from delivery.identifier_field import IdentifierField

COLUMNS = [
    ("event", "anonymous_id", True),
    ("event", "message_id", False),
    ("event", "user_id", True),
    ("eventmessageid", "message_id", False),
    ("profile", "user_id", False),
    ("visitor", "anonymous_id", False),
]


def _collate(collation: str):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        quote = schema_editor.quote_name
        for model_name, column, _ in COLUMNS:
            table = apps.get_model("delivery", model_name)._meta.db_table
            # On a partitioned table (events, messageIds) this reaches every partition.
            schema_editor.execute(
                f"ALTER TABLE {quote(table)} ALTER COLUMN {quote(column)} "
                f"TYPE varchar(255) COLLATE {quote(collation)}"
            )

    return run


class Migration(migrations.Migration):
    dependencies = [("delivery", "0010_visitor_last_seen_index_anonymous_only")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name=model_name,
                    name=column,
                    field=IdentifierField(blank=blank, max_length=255),
                )
                for model_name, column, blank in COLUMNS
            ],
            database_operations=[
                migrations.RunPython(_collate("C"), _collate("default")),
            ],
        ),
    ]
