"""Multi-row INSERT … ON CONFLICT statements, for the tracking hot path.

PostgreSQL gets the rows as one JSON parameter (`INSERT … SELECT … FROM
jsonb_to_recordset(%s::jsonb) AS u(column type, …)`): the statement text is the same for 1 row
or 2,500, the driver quotes a single string, and the whole document (events' payloads
included) is encoded by one call of the C JSON encoder. SQLite gets a plain `VALUES (…), (…)`
list, in chunks under its parameter limit. The `suffix` (ON CONFLICT … RETURNING …) is written
in the syntax both accept.
"""

import json
from datetime import datetime

import orjson
from django.db import connection

# Rows per statement on SQLite (at most 32,766 bound parameters).
SQLITE_CHUNK = 1_000


def _sql_value(value):
    """A value as SQLite takes it (datetimes as Django stores them, JSON as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


def recordset(columns: list[tuple[str, str]]) -> str:
    """`jsonb_to_recordset(%s::jsonb) AS u(…)`: the rows of a `json_document` as a relation."""
    quote = connection.ops.quote_name
    record = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
    return f"jsonb_to_recordset(%s::jsonb) AS u({record})"


def json_document(columns: list[tuple[str, str]], rows: list[tuple]) -> str:
    """`rows` as the JSON array of objects that `recordset(columns)` reads."""
    keys = [name for name, _ in columns]
    records = [dict(zip(keys, row, strict=True)) for row in rows]
    try:
        return orjson.dumps(records).decode()
    except orjson.JSONEncodeError:
        return json.dumps(
            records, ensure_ascii=False, separators=(",", ":"), default=datetime.isoformat
        )


def insert_rows(
    table: str, columns: list[tuple[str, str]], rows: list[tuple], suffix: str
) -> list[tuple]:
    """Insert `rows` (tuples in `columns` order) into `table`; returns what RETURNING gives.

    `columns` are (name, PostgreSQL type) pairs; a `jsonb` column takes a dict.
    """
    if not rows:
        return []
    quote = connection.ops.quote_name
    table = quote(table)
    names = ", ".join(quote(name) for name, _ in columns)
    returned = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT {names} FROM {recordset(columns)} {suffix}",
                [json_document(columns, rows)],
            )
            returned = cursor.fetchall() if "RETURNING" in suffix else []
        else:
            row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
            for start in range(0, len(rows), SQLITE_CHUNK):
                chunk = rows[start : start + SQLITE_CHUNK]
                params = [_sql_value(value) for row in chunk for value in row]
                cursor.execute(
                    f"INSERT INTO {table} ({names}) VALUES {', '.join([row_sql] * len(chunk))} "
                    f"{suffix}",
                    params,
                )
                if "RETURNING" in suffix:
                    returned += cursor.fetchall()
    return returned
