"""Multi-row INSERT … ON CONFLICT statements, for the tracking hot path.

The events' statements (one_statement.py, message_ids.py) get their rows as one JSON array
per column and the payloads one per line (`column_rows`, `column_arrays`): PostgreSQL then
only lexes the small values and parses each payload once, as jsonb, about half the CPU of
building one jsonb document of the rows and reading each row's fields out of it
(docs/tracking-api.md, "Storage cost per event").

PostgreSQL gets the rows as one JSON parameter (`INSERT … SELECT … FROM
jsonb_to_recordset(%s::jsonb) AS u(column type, …)`): the statement text is the same for 1 row
or 2,500, the driver quotes a single string, and the whole document (events' payloads
included) is encoded by one call of the C JSON encoder. SQLite gets a plain `VALUES (…), (…)`
list, in chunks under its parameter limit. The `suffix` (ON CONFLICT … RETURNING …) is written
in the syntax both accept. Statement texts are built once per process (`functools.cache`).

`execute` runs a hot statement on PostgreSQL as a prepared statement (DB_PREPARED_STATEMENTS):
parsed and planned once per connection, then only bound and executed; its placeholders are
turned into PostgreSQL's own `$n` once per process, so psycopg parses nothing either.
"""

import json
import re
from datetime import datetime
from functools import cache

import orjson
import psycopg
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connection, connections

# Rows per statement on SQLite (at most 32,766 bound parameters).
SQLITE_CHUNK = 1_000
# psycopg's prepare_threshold: never reached, so only `prepare=True` prepares.
ONLY_WHEN_ASKED = 2**31


def _sql_value(value):
    """A value as SQLite takes it (datetimes as Django stores them, JSON as text)."""
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return value


class _PreparingCursor(psycopg.RawCursor):
    """Binds parameters on the server and prepares every statement it executes (psycopg keeps
    the prepared statements of each connection, by statement text and parameter types).
    Takes PostgreSQL's own `$n` placeholders (`positional`)."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=True)


class _UnpreparedCursor(psycopg.RawCursor):
    """The same, never prepared: unnamed statements, which PgBouncer's transaction pooling
    passes through."""

    def execute(self, query, params=None, **kwargs):
        return super().execute(query, params, prepare=False)


_PLACEHOLDER = re.compile(r"%\((\w+)\)s|%s|%%")


@cache
def positional(sql: str) -> tuple[str, tuple]:
    """`sql` with its `%(name)s` and `%s` placeholders as `$1`, `$2`… (one per name), and the
    parameters' keys (names, or positions) in that order. psycopg then has nothing to parse:
    it re-parses a statement over 4 KB on every execution (its own cache skips them), 0.7 ms
    of the web process's CPU for the one-statement with message states."""
    numbers: dict = {}
    unnamed = iter(range(len(sql)))

    def placeholder(match: re.Match) -> str:
        token = match.group(0)
        if token == "%%":
            return "%"
        key = match.group(1) if match.group(1) else next(unnamed)
        return f"${numbers.setdefault(key, len(numbers) + 1)}"

    return _PLACEHOLDER.sub(placeholder, sql), tuple(numbers)


def execute(
    sql: str, params: dict | list, *, health_check: bool = True, prepare: bool = True
) -> list[tuple]:
    """Run one hot statement; returns its rows (none if it returns none). Prepared on
    PostgreSQL unless DB_PREPARED_STATEMENTS is off or `prepare=False` (then planned for its
    parameters each time). `health_check=False` skips the connection's health check
    (DB_CONN_HEALTH_CHECKS), for a caller that handles a closed connection itself
    (`execute_reconnecting`)."""
    # What connection.cursor() does, with a cursor that prepares: health check, connection,
    # and Django's wrapper (query logging, database errors as django.db errors). `db`: the
    # thread's connection, looked up once (each attribute of `connection` looks it up).
    db = connections[DEFAULT_DB_ALIAS]
    if health_check:
        db.close_if_health_check_failed()
    db.ensure_connection()
    db.validate_thread_sharing()
    with db.wrap_database_errors:
        if not (prepare and settings.DB_PREPARED_STATEMENTS):
            raw = _UnpreparedCursor(db.connection)
        else:
            if db.connection.prepare_threshold is None:
                # Django turns psycopg's automatic preparation off (None), which also refuses
                # `prepare=True`; a threshold out of reach lets only statements that ask
                # prepare.
                db.connection.prepare_threshold = ONLY_WHEN_ASKED
            raw = _PreparingCursor(db.connection)
    cursor = db.make_debug_cursor(raw) if db.queries_logged else db.make_cursor(raw)
    sql, keys = positional(sql)
    with cursor:
        cursor.execute(sql, [params[key] for key in keys])
        return cursor.fetchall() if cursor.description else []


def execute_reconnecting(sql: str, params: dict | list, *, prepare: bool = True) -> list[tuple]:
    """`execute` outside a transaction, without the health check's round trip (a `SELECT 1`
    before the request's first statement): a connection the database closed meanwhile (it
    restarted) fails the statement, which is then sent once more on a new connection. Only
    for statements that may run twice: reads, and writes whose second run changes nothing."""
    try:
        return execute(sql, params, health_check=False, prepare=prepare)
    except (InterfaceError, OperationalError):
        if connection.is_usable():
            raise
        connection.close()
        return execute(sql, params, health_check=False, prepare=prepare)


def recordset(columns: list[tuple[str, str]], *, parameter: str = "%s") -> str:
    """`jsonb_to_recordset(%s::jsonb) AS u(…)`: the rows of a `json_document` as a relation."""
    quote = connection.ops.quote_name
    record = ", ".join(f"{quote(name)} {kind}" for name, kind in columns)
    return f"jsonb_to_recordset({parameter}::jsonb) AS u({record})"


def column_rows(columns: list[tuple[str, str]], *, prefix: str = "u_") -> str:
    """`(SELECT … FROM ROWS FROM (json_array_elements_text(%(u_name)s::json), …)) AS u`: the
    rows of `column_arrays(columns, …)` as a relation with the columns' types."""
    quote = connection.ops.quote_name
    functions, selected = [], []
    for name, kind in columns:
        if kind == "jsonb":
            # One document per line: PostgreSQL parses each payload once, as jsonb.
            functions.append(f"unnest(string_to_array(%({prefix}{name})s, E'\\n'))")
        else:
            functions.append(f"json_array_elements_text(%({prefix}{name})s::json)")
        selected.append(f"c.{quote(name)}::{kind} AS {quote(name)}")
    names = ", ".join(quote(name) for name, _ in columns)
    return (
        f"(SELECT {', '.join(selected)} FROM ROWS FROM ({', '.join(functions)}) AS c({names})) AS u"
    )


def column_arrays(
    columns: list[tuple[str, str]], rows: list[tuple], *, prefix: str = "u_"
) -> dict[str, str]:
    """The named parameters of `column_rows(columns)`: `rows` (tuples in `columns` order, a
    `jsonb` column holding a dict) as one JSON array per column, a `jsonb` column as one
    compact JSON document per line (JSON escapes every newline inside a string)."""
    return {
        prefix + name: "\n".join(map(_json_text, values)) if kind == "jsonb" else _json_text(values)
        for (name, kind), values in zip(columns, zip(*rows, strict=True), strict=True)
    }


def _json_text(value) -> str:
    """`value` as compact JSON (no whitespace outside strings)."""
    try:
        return orjson.dumps(value).decode()
    except orjson.JSONEncodeError:  # e.g. an integer beyond 64 bits
        return json.dumps(
            value, ensure_ascii=False, separators=(",", ":"), default=datetime.isoformat
        )


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
    if connection.vendor == "postgresql":
        return execute(
            _postgresql_insert(table, tuple(columns), suffix), [json_document(columns, rows)]
        )
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in columns)
    row_sql = "(" + ", ".join(["%s"] * len(columns)) + ")"
    returned = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), SQLITE_CHUNK):
            chunk = rows[start : start + SQLITE_CHUNK]
            params = [_sql_value(value) for row in chunk for value in row]
            cursor.execute(
                f"INSERT INTO {quote(table)} ({names}) VALUES "
                f"{', '.join([row_sql] * len(chunk))} {suffix}",
                params,
            )
            if "RETURNING" in suffix:
                returned += cursor.fetchall()
    return returned


@cache
def _postgresql_insert(table: str, columns: tuple[tuple[str, str], ...], suffix: str) -> str:
    quote = connection.ops.quote_name
    names = ", ".join(quote(name) for name, _ in columns)
    return (
        f"INSERT INTO {quote(table)} ({names}) SELECT {names} FROM {recordset(list(columns))} "
        f"{suffix}"
    )
