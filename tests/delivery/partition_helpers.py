"""Helpers for tests of the events' partitions (PostgreSQL)."""

from datetime import UTC, date, datetime

from django.db import connection

from delivery.partitions import create_day_partition, day_partition_name, event_partitions


def at(day: date, hour: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=UTC)


def partition_of_event(event_id: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tableoid::regclass::text FROM delivery_event WHERE id = %s", [event_id]
        )
        return cursor.fetchone()[0]


def without_empty_upto_partition() -> None:
    """Drop the partition made of the pre-partitioning table when another test's migration
    left one, empty, covering every past day."""
    for partition in event_partitions():
        if partition.lower is None:
            with connection.cursor() as cursor:
                cursor.execute(f'SELECT EXISTS (SELECT 1 FROM "{partition.name}")')
                assert not cursor.fetchone()[0], "a test left events behind"
                cursor.execute(f'DROP TABLE "{partition.name}"')


def past_day_partition(day: date) -> str:
    """A partition for a past day, as an old installation has."""
    without_empty_upto_partition()
    create_day_partition(day)
    return day_partition_name(day)
