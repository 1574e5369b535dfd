"""Visitors' (workspace, last seen) index only for anonymous visitors (`profile_id IS NULL`).

Its readers all ask for anonymous visitors (the debugger's latest visitors, the slot
checker's example pages, retention). Made partial, it can no longer serve the tracking
statement's visitor lookup (one_statement.py `changed`), which names no profile: when the
planner thought the table tiny (a new install before its first ANALYZE, or a generic plan
for a workspace much bigger than the average), it preferred this index with the workspace
alone, and read the workspace's every visitor for each call of a batch.

On PostgreSQL built CONCURRENTLY, then the old index dropped CONCURRENTLY: visitors take
writes all the time. Not atomic (CREATE INDEX CONCURRENTLY cannot run in a transaction); run
again, it picks up where it stopped (an invalid leftover of a failed build is dropped first).
"""

from django.db import migrations, models

OLD = "visitor_ws_last_seen"
NEW = "anon_visitor_ws_last_seen"


def _index(name: str, *, partial: bool) -> models.Index:
    return models.Index(
        fields=["workspace", "last_seen_at"],
        name=name,
        condition=models.Q(profile__isnull=True) if partial else None,
    )


def _swap(apps, schema_editor, *, add: models.Index, remove: models.Index) -> None:
    Visitor = apps.get_model("delivery", "Visitor")
    if schema_editor.connection.vendor != "postgresql":
        schema_editor.remove_index(Visitor, remove)
        schema_editor.add_index(Visitor, add)
        return
    quote = schema_editor.quote_name
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT NOT x.indisvalid FROM pg_index x WHERE x.indexrelid = to_regclass(%s)",
            [add.name],
        )
        invalid = cursor.fetchone()
    if invalid and invalid[0]:
        schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(add.name)}")
    sql = str(add.create_sql(Visitor, schema_editor, concurrently=True))
    schema_editor.execute(
        sql.replace("CREATE INDEX CONCURRENTLY", "CREATE INDEX CONCURRENTLY IF NOT EXISTS", 1)
    )
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {quote(remove.name)}")


def forwards(apps, schema_editor):
    _swap(apps, schema_editor, add=_index(NEW, partial=True), remove=_index(OLD, partial=False))


def backwards(apps, schema_editor):
    _swap(apps, schema_editor, add=_index(OLD, partial=False), remove=_index(NEW, partial=True))


class Migration(migrations.Migration):
    atomic = False

    dependencies = [
        ("delivery", "0009_event_user_index_partial_visitor_workspace_index"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="visitor", name=OLD),
                migrations.AddIndex(model_name="visitor", index=_index(NEW, partial=True)),
            ],
            database_operations=[migrations.RunPython(forwards, backwards)],
        ),
    ]
