"""The events' rows as one JSON array per column and payloads one per line
(bulk_sql.column_rows): every value arrives as it was sent."""

import json
from datetime import UTC, datetime

import pytest
from django.db import connection

from delivery.tracking.bulk_sql import column_arrays, column_rows

pytestmark = [
    pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL statements"),
    pytest.mark.django_db,
]

COLUMNS = [("name", "text"), ("at", "timestamptz"), ("content_id", "bigint"), ("payload", "jsonb")]


def test_values_that_need_escaping_arrive_unchanged():
    rows = [
        (
            'two\nlines, a "quote" and a \\',
            datetime(2026, 1, 2, 3, 4, 5, 123456, tzinfo=UTC),
            None,
            {"text": "line 1\nline 2\r\n\t", "unicode": "é☃𝄞", "big": 2**70, "float": 1.5},
        ),
        ("", datetime(2026, 1, 2, tzinfo=UTC), 2**62, {"empty": {}, "list": [1, None, True]}),
        ("☃", datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC), 0, {}),
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, at, content_id, payload::text FROM {column_rows(COLUMNS)}",
            column_arrays(COLUMNS, rows),
        )
        returned = cursor.fetchall()
    assert [row[:3] for row in returned] == [row[:3] for row in rows]
    assert [json.loads(row[3]) for row in returned] == [row[3] for row in rows]


def test_one_payload_per_line():
    parameters = column_arrays(COLUMNS, [("a", datetime.now(UTC), 1, {"x": "a\nb"})] * 3)
    assert parameters["u_payload"].count("\n") == 2
