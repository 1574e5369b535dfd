"""What storing an event costs at the least, next to what the product's write costs.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anonmsg .venv/bin/python bench/event_floor.py

In one process, without HTTP, on a fresh database (default `anonmsg_floor_bench`, dropped and
created again; PostgreSQL on this machine, whose backend's CPU time is read from /proc), rounds
of batches of analytics.js-shaped `track` calls (bench/event_ingest.py's, unique messageIds,
anonymous ids over 2,000 visitors), each batch parsed and validated as `/v1/batch` does
(parsing.load_body, parsing.parse_events), then written one of three ways, alternating:

- `product`: recording.record_events, what a request of anonymous calls runs (one statement:
  messageId claim, event row, visitors; delivery/tracking/one_statement.py);
- `copy`: the same event rows by `COPY … FROM STDIN` into the partitioned events table, and
  nothing else: no deduplication, no visitors. What PostgreSQL spends at the least to store the
  rows with the table's indexes;
- `copy, empty payload`: the same with `{}` as every payload: what the payload's jsonb costs.

For each, per event: PostgreSQL's CPU (the backend's utime + stime), this process's CPU for
parsing and for writing, and what `cores / total` allows: the events/s that this machine could
store at most that way before any HTTP (the no-op view's cost per request, bench/tracking.py,
comes on top, divided by the batch size). `copy`'s write side runs psycopg's row-by-row COPY
in Python, slower than the product's: only its PostgreSQL column is a floor.
"""

import argparse
import itertools
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import create_workspace, fresh_database, manage, print_table, server_env  # noqa: E402
from bench.event_ingest import cpu_by_process, event_json  # noqa: E402

WAYS = ("product", "copy", "copy, empty payload")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="anonmsg_floor_bench")
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--batches", type=int, default=300, help="measured, per way and round")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--visitors", type=int, default=2_000, help="anonymous ids in rotation")
    return parser.parse_args()


def main():
    args = parse_args()
    url = fresh_database(args.database)
    env = server_env(url)
    manage("migrate", "--noinput", env=env)
    workspace_id = create_workspace(env, "Floor bench")["id"]
    os.environ.update(env)

    import django

    django.setup()
    from django.db import connection

    connection.ensure_connection()
    backend = connection.connection.info.backend_pid
    if not cpu_by_process([backend]):
        sys.exit("PostgreSQL is not on this machine: its backend's CPU time cannot be read.")

    floor = Floor(workspace_id, args.batch_size, args.visitors)
    figures = {way: [] for way in WAYS}
    for round_number in range(1, args.rounds + 1):
        for way in WAYS:
            floor.run(way, 20)  # warm: plans, caches, the partition's first pages
            start = cpu_by_process([backend])[backend]
            parse, write = floor.run(way, args.batches)
            database = cpu_by_process([backend])[backend] - start
            events = args.batches * args.batch_size
            row = [1e6 * seconds / events for seconds in (database, parse, write)]
            figures[way].append(row)
            print(
                f"round {round_number}: {way}: PostgreSQL {row[0]:.1f}, parse {row[1]:.1f}, "
                f"write {row[2]:.1f} µs per event"
            )

    cores = os.cpu_count() or 1
    rows = []
    for way in WAYS:
        database, parse, write = (
            statistics.median(run[i] for run in figures[way]) for i in range(3)
        )
        total = database + parse + write
        rows.append(
            [
                way,
                f"{database:.1f}",
                f"{parse:.1f}",
                f"{write:.1f}",
                f"{total:.1f}",
                f"{cores * 1e6 / total:,.0f}" if way == "product" else "—",
            ]
        )
    print(
        f"\nCPU µs per event, batches of {args.batch_size}, median of {args.rounds} rounds of "
        f"{args.batches} batches; {cores} cores; load average "
        + " ".join(f"{load:.1f}" for load in os.getloadavg())
    )
    print_table(
        ["way", "PostgreSQL", "parse", "write", "total", f"events/s on {cores} cores"], rows
    )
    print(
        "\nHTTP comes on top (bench/tracking.py: the no-op view's CPU per request, divided by "
        "the batch size). `copy` writes no dedup claim and no visitor: its PostgreSQL column is "
        "the floor."
    )


class Floor:
    """Batches parsed as /v1/batch parses them, written one of the WAYS."""

    def __init__(self, workspace_id: int, batch_size: int, visitors: int):
        self.workspace_id = workspace_id
        self.batch_size = batch_size
        self.visitors = visitors
        self.numbers = itertools.count()

    def body(self) -> bytes:
        events = []
        for _ in range(self.batch_size):
            n = next(self.numbers)
            events.append(event_json("floor", "0", n, (n * 7919) % self.visitors))
        return ('{"batch":[' + ",".join(events) + "]}").encode()

    def run(self, way: str, batches: int) -> tuple[float, float]:
        """Write `batches` batches; returns this process's CPU seconds (parse, write)."""
        from django.utils import timezone

        from delivery.tracking import parsing

        write = {
            "product": self._record,
            "copy": self._copy,
            "copy, empty payload": self._copy_empty_payloads,
        }[way]
        parse_seconds = write_seconds = 0.0
        for _ in range(batches):
            body = self.body()
            started = time.process_time()
            received_at = timezone.now()
            events = parsing.parse_events(
                parsing.load_body(body), route_type="batch", received_at=received_at
            )
            parsed = time.process_time()
            write(events, received_at)
            parse_seconds += parsed - started
            write_seconds += time.process_time() - parsed
        return parse_seconds, write_seconds

    def _record(self, events, received_at) -> None:
        from delivery.tracking.recording import record_events

        record_events(workspace_id=self.workspace_id, events=events, received_at=received_at)

    def _copy_empty_payloads(self, events, received_at) -> None:
        self._copy(events, received_at, empty_payload=True)

    def _copy(self, events, received_at, *, empty_payload: bool = False) -> None:
        from django.db import connection
        from psycopg.types.json import Jsonb

        from delivery.models import Event
        from delivery.tracking.recording import EVENT_COLUMNS, _event_rows

        table = connection.ops.quote_name(Event._meta.db_table)
        names = ", ".join(connection.ops.quote_name(name) for name, _ in EVENT_COLUMNS)
        rows = _event_rows(self.workspace_id, events, received_at, set())
        cursor = connection.connection.cursor()
        with cursor, cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row((*row[:-1], Jsonb({} if empty_payload else row[-1])))


if __name__ == "__main__":
    main()
