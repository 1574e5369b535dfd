"""Batch ingestion on PostgreSQL: events/s and server CPU per event, against a no-op view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anonmsg .venv/bin/python bench/event_ingest.py

One gunicorn (production settings, the Procfile's worker class), a fresh database
(default `anonmsg_ingest_bench`, dropped and created again: partitioned events, messageId
dedup), rounds of: the no-op JSON view, `POST /v1/batch` with 50 events, with 500 events
(analytics.js-shaped `track` calls, ≈ 700 bytes each, unique messageIds, 10 visitors per
batch). For each: requests/s and events/s (median of the rounds), and the CPU time the server
spent per event: gunicorn's workers plus the PostgreSQL backends serving this database
(utime + stime from /proc, over the measured window), in total and each apart. CPU per event
hardly moves with the machine's other load, unlike events/s; the WAL writer and checkpointer
are not counted.
At the end the events stored are counted against the events acknowledged (200).
"""

import argparse
import base64
import json
import os
import sys
import threading
import time
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    HOST,
    add_server_arguments,
    create_workspace,
    fresh_database,
    fresh_redis,
    gunicorn,
    manage,
    print_table,
    run_load,
    server_env,
)

TICKS = os.sysconf("SC_CLK_TCK")
USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36"
)


def event_template() -> tuple[str, str, str]:
    """One `track` call as analytics.js sends it (≈ 700 bytes of JSON), split around its
    anonymousId and messageId so that each request costs the load generator little CPU."""
    body = json.dumps(
        {
            "type": "track",
            "event": "Viewed Product",
            "anonymousId": "@ANONYMOUS_ID@",
            "messageId": "@MESSAGE_ID@",
            "timestamp": "2025-06-01T12:00:00.000Z",
            "sentAt": "2025-06-01T12:00:00.050Z",
            "properties": {"sku": "SKU-1234", "price": 19.99, "currency": "EUR"},
            "context": {
                "library": {"name": "analytics.js", "version": "next-1.70.0"},
                "page": {
                    "path": "/products/blue-shirt",
                    "url": "https://shop.example/products/blue-shirt",
                    "title": "Blue shirt",
                    "referrer": "https://shop.example/",
                    "search": "",
                },
                "userAgent": USER_AGENT,
                "locale": "fr-FR",
            },
            "integrations": {},
        }
    )
    head, rest = body.split("@ANONYMOUS_ID@")
    middle, tail = rest.split("@MESSAGE_ID@")
    return head, middle, tail


HEAD, MIDDLE, TAIL = event_template()
RUN = uuid.uuid4().hex[:8]


def event_json(scenario: str, sender: str, n: int, visitor: int) -> str:
    message_id = f"bench-{RUN}-{scenario}-{sender}-{n}"
    return f"{HEAD}{uuid.UUID(int=visitor + 1)}{MIDDLE}{message_id}{TAIL}"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_arguments(parser, database="anonmsg_ingest_bench", redis_db=12, port=8252)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured, per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--batch-sizes", default="50,500", help="comma-separated")
    parser.add_argument("--visitors", type=int, default=2_000, help="anonymous ids in rotation")
    return parser.parse_args()


def cpu_by_process(pids: list[int]) -> dict[int, float]:
    """{pid: CPU seconds so far} (utime + stime)."""
    seconds = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        seconds[pid] = (int(fields[11]) + int(fields[12])) / TICKS
    return seconds


def cpu_between(start: dict[int, float], end: dict[int, float]) -> float:
    """CPU seconds spent between two samples; a process that started meanwhile counts whole."""
    return sum(seconds - start.get(pid, 0.0) for pid, seconds in end.items())


def server_pids(port: int, database_url: str, database: str) -> tuple[list[int], list[int]]:
    """(gunicorn's processes bound to `port`, the backends connected to `database`)."""
    import psycopg

    bind = f"{HOST}:{port}".encode()
    gunicorns = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if bind in command and any(part.endswith(b"gunicorn") for part in command):
                gunicorns.append(int(entry.name))
    with psycopg.connect(database_url, autocommit=True) as conn:
        backends = conn.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [database],
        ).fetchall()
    return gunicorns, [pid for (pid,) in backends]


def main():
    args = parse_args()
    sizes = [int(size) for size in args.batch_sizes.split(",")]
    database_url = fresh_database(args.database)
    env = server_env(database_url, fresh_redis(args.redis_url), rate_limits=args.rate_limits)
    manage("migrate", "--noinput", env=env)
    workspace = create_workspace(env)
    auth = "Basic " + base64.b64encode(f"{workspace['writeKey']}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": auth}

    def noop(sender, n):
        return "POST", "/bench/noop", event_json("noop", sender, n, 0).encode(), headers

    def batch_of(size):
        def batch(sender, n):
            first = (zlib.crc32(sender.encode()) + n * 7919) % args.visitors
            events = ",".join(
                event_json(f"b{size}r{round_number}", sender, n * size + i, (first + i % 10))
                for i in range(size)
            )
            return "POST", "/v1/batch", f'{{"batch":[{events}]}}'.encode(), headers

        return batch

    scenarios = [("no-op JSON view", noop, 0)] + [
        (f"/v1/batch, {size} events", batch_of(size), size) for size in sizes
    ]
    runs = {label: [] for label, _, _ in scenarios}
    acknowledged = 0
    with gunicorn(args.port, env, workers=args.workers, threads=args.threads):
        for round_number in range(1, args.rounds + 1):
            for label, make_request, per_request in scenarios:
                window = {}

                def sample(window=window):
                    time.sleep(0.5 + args.warmup)
                    pids = server_pids(args.port, database_url, args.database)
                    window["start"] = [cpu_by_process(group) for group in pids]
                    time.sleep(args.seconds)
                    pids = server_pids(args.port, database_url, args.database)
                    window["end"] = [cpu_by_process(group) for group in pids]

                sampler = threading.Thread(target=sample)
                sampler.start()
                result = run_load(
                    port=args.port,
                    make_request=make_request,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    processes=args.processes,
                    connections=args.connections,
                )
                sampler.join()
                if set(result.statuses) != {200}:
                    sys.exit(f"{label}: unexpected answers {dict(result.statuses)}")
                acknowledged += result.acknowledged * per_request
                # (gunicorn, PostgreSQL) CPU seconds
                cpu = tuple(map(cpu_between, window["start"], window["end"]))
                runs[label].append((result, cpu))
                print(f"round {round_number}: {label}: {result.rate:,.0f} requests/s", flush=True)

    noop_rate = sorted(result.rate for result, _ in runs["no-op JSON view"])[args.rounds // 2]
    rows = []
    for label, _, per_request in scenarios:
        result, cpu = sorted(runs[label], key=lambda run: run[0].rate)[args.rounds // 2]
        units = result.requests * (per_request or 1)
        rows.append(
            [
                label,
                f"{result.rate:,.0f}",
                f"{result.rate * per_request:,.0f}" if per_request else "-",
                f"{result.rate / noop_rate:.2f}×",
                f"{sum(cpu) / units * 1e6:,.0f}" if units else "-",
                f"{cpu[0] / units * 1e6:,.0f}" if units else "-",
                f"{cpu[1] / units * 1e6:,.0f}" if units else "-",
                f"{result.percentile(0.95) * 1000:.1f}",
            ]
        )
    print()
    print(
        f"Batch ingestion on PostgreSQL: gunicorn {args.workers} workers × {args.threads} "
        f"threads, {args.processes}×{args.connections} connections, median of {args.rounds} "
        f"rounds of {args.seconds:.0f} s; load average {os.getloadavg()[0]:.1f}"
    )
    print_table(
        [
            "scenario",
            "requests/s",
            "events/s",
            "vs no-op (req/s)",
            "server CPU µs per event (request)",
            "gunicorn µs",
            "PostgreSQL µs",
            "p95 ms",
        ],
        rows,
    )
    count = "from delivery.models import Event; print(Event.objects.count())"
    stored = int(manage("shell", "-c", count, env=env).split()[-1])
    print(f"events acknowledged (200, warm-ups included): {acknowledged:,}; stored: {stored:,}")
    if stored != acknowledged:
        sys.exit("Stored events do not match acknowledged events!")


if __name__ == "__main__":
    main()
