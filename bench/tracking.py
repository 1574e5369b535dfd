"""Tracking API benchmark on PostgreSQL: single events vs batches of 50, against a no-op view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anonmsg .venv/bin/python bench/tracking.py

In one run, on one gunicorn (production settings, DEBUG off, gthread workers as in the
Procfile) bound to 127.0.0.1, with a fresh database (default `anonmsg_tracking_bench`,
dropped and created again):
1. the no-op JSON view (`POST /bench/noop`, routed only with ANONMSG_BENCH=1): requests/s;
2. `POST /v1/track`, one analytics.js-shaped event per request: requests/s = events/s;
3. `POST /v1/batch`, 50 such events per request: requests/s and events/s.
Each against the no-op rate, and batched vs single events/s. Every event has a unique
messageId; at the end the events stored are counted against the events acknowledged (200).
Targets (issue 4): batched ≥ 5,000 events/s and ≥ 10× the single-event event rate.
"""

import argparse
import base64
import json
import sys
import uuid
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
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

USER_AGENT = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_arguments(parser, database="anonmsg_tracking_bench", redis_db=13, port=8251)
    parser.add_argument("--seconds", type=float, default=6.0, help="measured, per scenario")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--visitors", type=int, default=2_000, help="anonymous ids in rotation")
    parser.add_argument("--visitors-per-batch", type=int, default=10)
    return parser.parse_args()


def event_template() -> tuple[str, str, str]:
    """One `track` call as analytics.js sends it (≈ 700 bytes of JSON), split around its
    messageId and anonymousId so that each request costs the load generator little CPU."""
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


def main():
    args = parse_args()
    database = fresh_database(args.database)
    env = server_env(database, fresh_redis(args.redis_url), rate_limits=args.rate_limits)
    manage("migrate", "--noinput", env=env)
    workspace = create_workspace(env)
    auth = "Basic " + base64.b64encode(f"{workspace['writeKey']}:".encode()).decode()
    headers = {"Content-Type": "application/json", "Authorization": auth}
    size = args.batch_size

    # Single events: each from another visitor of the pool. Batches: the events of
    # --visitors-per-batch visitors (a server-side SDK batches several users' calls).
    def one_event(scenario, sender, n):
        visitor = (zlib.crc32(sender.encode()) + n * 7919) % args.visitors
        return event_json(scenario, sender, n, visitor).encode()

    def noop(sender, n):
        return "POST", "/bench/noop", one_event("noop", sender, n), headers

    def single(sender, n):
        return "POST", "/v1/track", one_event(f"single{round_number}", sender, n), headers

    def batch(sender, n):
        first = (zlib.crc32(sender.encode()) + n * 7919) % args.visitors
        events = ",".join(
            event_json(
                f"batch{round_number}",
                sender,
                n * size + i,
                (first + i % args.visitors_per_batch) % args.visitors,
            )
            for i in range(size)
        )
        return "POST", "/v1/batch", f'{{"batch":[{events}]}}'.encode(), headers

    scenarios = [
        ("no-op JSON view", noop, 0),
        ("/v1/track, 1 event", single, 1),
        (f"/v1/batch, {size} events", batch, size),
    ]
    runs = {label: [] for label, _, _ in scenarios}
    acknowledged = 0
    with gunicorn(args.port, env, workers=args.workers, threads=args.threads):
        # Rounds of all three scenarios back to back: the machine's other load hits all three.
        for round_number in range(1, args.rounds + 1):
            for label, make_request, events_per_request in scenarios:
                result = run_load(
                    port=args.port,
                    make_request=make_request,
                    seconds=args.seconds,
                    warmup=args.warmup,
                    processes=args.processes,
                    connections=args.connections,
                )
                if set(result.statuses) != {200}:
                    sys.exit(f"{label}: unexpected answers {dict(result.statuses)}")
                runs[label].append(result)
                acknowledged += result.acknowledged * events_per_request
                print(f"round {round_number}: {label}: {result.rate:,.0f} requests/s", flush=True)

    def median(label):
        return sorted(runs[label], key=lambda r: r.rate)[len(runs[label]) // 2]

    noop_rate = median("no-op JSON view").rate
    rows = []
    for label, _, per_request in scenarios:
        result = median(label)
        rates = [r.rate for r in runs[label]]
        rows.append(
            [
                label,
                f"{result.rate:,.0f}",
                f"{min(rates):,.0f}–{max(rates):,.0f}",
                f"{result.rate * per_request:,.0f}" if per_request else "-",
                f"{result.rate / noop_rate:.2f}×",
                f"{result.percentile(0.5) * 1000:.1f}",
                f"{result.percentile(0.95) * 1000:.1f}",
            ]
        )
    single_events = median("/v1/track, 1 event").rate
    batched_events = median(f"/v1/batch, {size} events").rate * size

    print()
    print(
        f"Tracking API on PostgreSQL: gunicorn {args.workers} workers × {args.threads} threads, "
        f"{args.processes}×{args.connections} keep-alive connections, median of {args.rounds} "
        f"rounds of {args.seconds:.0f} s"
    )
    print_table(
        [
            "scenario",
            "requests/s",
            "range",
            "events/s",
            "vs no-op (req/s)",
            "p50 ms",
            "p95 ms",
        ],
        rows,
    )
    print()
    print(f"batched / single-event event rate: {batched_events / single_events:.1f}×")
    print(f"batched events/s: {batched_events:,.0f} (target ≥ 5,000)")

    count = "from delivery.models import Event; print(Event.objects.count())"
    stored = int(manage("shell", "-c", count, env=env).split()[-1])
    print(f"events acknowledged (200, warm-ups included): {acknowledged:,}; stored: {stored:,}")
    if stored != acknowledged:
        sys.exit("Stored events do not match acknowledged events!")


if __name__ == "__main__":
    main()
