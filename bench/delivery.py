"""Delivery API benchmark on PostgreSQL: GET /api/v1/delivery against a no-op view.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/anonmsg .venv/bin/python bench/delivery.py

In one run, on one gunicorn (production settings, DEBUG off, gthread workers as in the
Procfile) bound to 127.0.0.1, with a fresh database (default `anonmsg_delivery_bench`,
dropped and created again):
1. one premium workspace (created with `manage.py create_workspace`) with 100 live messages
   (1–2 page rules each, of every operator; ~1 KB of HTML; every display type) and --visitors anonymous visitors,
   each with a per-message state for 30 of the messages (views, some dismissed or clicked);
2. the cache is warmed (one request per process and thread);
3. rounds of: the no-op JSON view (`GET /bench/noop`, routed only with ANONMSG_BENCH=1),
   then `GET /api/v1/delivery?writeKey=…&anonymousId=…&url=…` for a page where several
   messages are eligible; requests/s of each and their ratio, per round and the median.
Target (issue 5): delivery ≥ 0.5× the no-op rate.
"""

import argparse
import http.client
import json
import os
import statistics
import sys
from pathlib import Path
from urllib.parse import urlencode

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

PAGE_URL = "https://shop.example.com/pricing?plan=team&utm_source=newsletter"

# Runs inside `manage.py shell`: the messages, rules and visitors of the benchmark.
SEED = """
import random
from datetime import timedelta
from django.utils import timezone
from anonmsg.models import Workspace
from campaigns.content import build_html
from campaigns.models import AnonymousMessage, PageRule, Status
from delivery.models import Visitor, VisitorMessageState

random.seed(5)
workspace = Workspace.objects.get(pk={workspace_id})
now = timezone.now()
displays = [
    ("modal", "center", ""), ("overlay", "bottom-right", ""), ("overlay", "top-left", ""),
    ("banner", "top", ""), ("banner", "bottom", ""),
] + [("inline", "", f"slot-{{n}}") for n in range(10)]
# 100 messages over 20 sections of a site; two sections' rules match the benchmark page
# (/pricing?plan=team&utm_source=newsletter), the others are about other pages.
rule_sets = [
    [("web", "is", "/pricing", False)],
    [("web", "starts_with", "/pricing", False), ("web", "contains", "utm_source=ads", True)],
    [("web", "matches", "/blog/*", False)],
    [("web", "contains", "checkout", False), ("ios", "is", "Paywall", False)],
    [("web", "regex", "^/(careers|jobs)", False)],
    [("web", "ends_with", "/signup", False), ("android", "is", "Checkout", False)],
    [("web", "is_not", "/login", False), ("web", "starts_with", "/pricing", True)],
    [("web", "matches", "/docs/*", False), ("web", "matches", "/help/*", False)],
] + [[("web", "is", f"/features/{{n}}", False)] for n in range(12)]
messages = []
for number in range(100):
    kind, position, element = displays[number % len(displays)]
    builder = {{
        "heading": f"Offer number {{number}}",
        "text": "A paragraph of marketing copy that is long enough to look real. " * 6,
        "buttons": [
            {{"label": "Sign up", "action": "signup", "url": "/signup"}},
            {{"label": "Later", "action": "later"}},
        ],
    }}
    message = AnonymousMessage.objects.create(
        workspace=workspace, name=f"Bench message {{number}}", priority=number % 10 + 1,
        status=Status.LAUNCHED, launched_at=now,
        display_type=kind, display_position=position or "center", display_element_id=element,
        frequency_mode=["until_dismissed", "times", "always"][number % 3], frequency_times=3,
        min_interval_seconds=[0, 0, 60][number % 3],
        content_builder=builder, content_html=build_html(builder, display_type=kind),
    )
    for position_number, (platform, operator, value, exclude) in enumerate(rule_sets[number % 20]):
        PageRule.objects.create(message=message, platform=platform, operator=operator,
                                value=value, exclude=exclude, position=position_number)
    messages.append(message)
for visitor_number in range({visitors}):
    visitor = Visitor.objects.create(
        workspace=workspace, anonymous_id=f"bench-visitor-{{visitor_number}}",
        first_seen_at=now, last_seen_at=now,
    )
    VisitorMessageState.objects.bulk_create([
        VisitorMessageState(
            visitor=visitor, message=message, views=random.randint(1, 4),
            first_viewed_at=now - timedelta(days=3), last_viewed_at=now - timedelta(hours=2),
            dismissed_at=now - timedelta(hours=1) if random.random() < 0.3 else None,
            responded_at=now - timedelta(hours=1) if random.random() < 0.1 else None,
        )
        for message in random.sample(messages, 30)
    ])
workspace.bump_content_version()
print("seeded")
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_server_arguments(parser, database="anonmsg_delivery_bench", redis_db=14, port=8451)
    parser.add_argument("--seconds", type=float, default=8.0, help="measured, per scenario")
    parser.add_argument("--warmup", type=float, default=1.5)
    parser.add_argument("--rounds", type=int, default=3, help="no-op/delivery pairs")
    parser.add_argument("--visitors", type=int, default=20, help="visitors in rotation")
    parser.add_argument("--url", default=PAGE_URL, help="the page asked about")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


def main():
    args = parse_args()
    database = fresh_database(args.database)
    env = server_env(database, fresh_redis(args.redis_url), rate_limits=args.rate_limits)
    manage("migrate", "--noinput", env=env)
    workspace = create_workspace(env, "Delivery bench")
    manage(
        "shell",
        "-c",
        SEED.format(workspace_id=workspace["id"], visitors=args.visitors),
        env=env,
    )
    write_key = workspace["writeKey"]

    def delivery_path(visitor: int) -> str:
        query = urlencode(
            {
                "writeKey": write_key,
                "anonymousId": f"bench-visitor-{visitor % args.visitors}",
                "url": args.url,
            }
        )
        return f"/api/v1/delivery?{query}"

    def noop(sender, n):
        return ("GET", "/bench/noop", None, {})

    def delivery(sender, n):
        return ("GET", delivery_path(hash(sender) + n), None, {})

    load = {
        "port": args.port,
        "seconds": args.seconds,
        "warmup": args.warmup,
        "processes": args.processes,
        "connections": args.connections,
    }
    with gunicorn(args.port, env, workers=args.workers, threads=args.threads):
        sample = _get(args.port, delivery_path(0))
        eligible = [m["id"] for m in sample["messages"]]
        if not eligible and args.url == PAGE_URL:
            sys.exit(f"The benchmark page gets no message: {sample}")
        rounds = []
        cpu = {"noop": [0.0, 0.0, 0.0, 0], "delivery": [0.0, 0.0, 0.0, 0]}
        for _ in range(args.rounds):
            pair = []
            for name, make_request in (("noop", noop), ("delivery", delivery)):
                before = _cpu_seconds(args.port, args.database)
                result = run_load(make_request=make_request, **load)
                after = _cpu_seconds(args.port, args.database)
                if set(result.statuses) != {200}:
                    sys.exit(f"Unexpected statuses: {dict(result.statuses)}")
                for index, seconds in enumerate(_cpu_used(before, after)):
                    cpu[name][index] += seconds
                cpu[name][3] += result.acknowledged
                pair.append(result)
            rounds.append(tuple(pair))

    rows = []
    for number, (base, measured) in enumerate(rounds, 1):
        rows.append(
            [
                f"round {number}",
                f"{base.rate:,.0f}",
                f"{measured.rate:,.0f}",
                f"{measured.rate / base.rate:.2f}×",
                f"{measured.percentile(0.5) * 1000:.1f}",
                f"{measured.percentile(0.95) * 1000:.1f}",
            ]
        )
    ratios = [measured.rate / base.rate for base, measured in rounds]
    noop_rate = statistics.median(base.rate for base, _ in rounds)
    delivery_rate = statistics.median(measured.rate for _, measured in rounds)
    ratio = statistics.median(ratios)
    rows.append(["median", f"{noop_rate:,.0f}", f"{delivery_rate:,.0f}", f"{ratio:.2f}×", "", ""])
    print(
        f"\nDelivery benchmark: 100 live messages, {args.visitors} visitors with state on 30 "
        f"messages each, {len(eligible)} messages eligible on the page; gunicorn "
        f"{args.workers}×{args.threads} gthread; load {args.processes}×{args.connections} "
        f"keep-alive connections; {args.seconds:g} s per scenario; cache: "
        f"{'Redis (' + args.redis_url + ')' if args.redis_url else 'per-process memory'}; "
        f"rate limits {args.rate_limits}.\n"
    )
    print_table(
        ["", "no-op req/s", "delivery req/s", "ratio", "p50 ms", "p95 ms"],
        rows,
    )
    verdict = "meets" if ratio >= 0.5 else "MISSES"
    print(f"\nDelivery/no-op: {ratio:.2f}× — {verdict} the ≥ 0.5× target.")
    per_request = {}
    for name, (server, database, cache, requests) in cpu.items():
        if requests:
            per_request[name] = tuple(
                seconds * 1000 / requests for seconds in (server, database, cache)
            )
            print(
                f"CPU per {name} request: {per_request[name][0]:.2f} ms in gunicorn, "
                f"{per_request[name][1]:.2f} ms in PostgreSQL, {per_request[name][2]:.2f} ms in "
                f"Redis (this machine: {os.cpu_count()} cores)"
            )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "noopRequestsPerSecond": round(noop_rate),
                    "deliveryRequestsPerSecond": round(delivery_rate),
                    "ratio": round(ratio, 3),
                    "ratios": [round(r, 3) for r in ratios],
                    "eligibleMessages": len(eligible),
                    "cpuMsPerRequest": {
                        name: {
                            "gunicorn": round(a, 3),
                            "postgres": round(b, 3),
                            "redis": round(c, 3),
                        }
                        for name, (a, b, c) in per_request.items()
                    },
                },
                indent=2,
            )
        )


def _cpu_seconds(port: int, database: str) -> dict[int, tuple[str, float]]:
    """CPU seconds used so far by each process of this gunicorn, each PostgreSQL backend of
    the database and Redis (Linux /proc; empty elsewhere): where a request's cost goes."""
    tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    found = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            command = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        seconds = (int(fields[11]) + int(fields[12])) / tick
        if "gunicorn" in command and f"{HOST}:{port}" in command:
            found[int(stat.parent.name)] = ("gunicorn", seconds)
        elif command.startswith("postgres:") and f" {database} " in command:
            found[int(stat.parent.name)] = ("postgres", seconds)
        elif command.startswith("redis-server"):
            found[int(stat.parent.name)] = ("redis", seconds)
    return found


def _cpu_used(before: dict, after: dict) -> tuple[float, float, float]:
    used = {"gunicorn": 0.0, "postgres": 0.0, "redis": 0.0}
    for pid, (kind, seconds) in after.items():
        used[kind] += seconds - before.get(pid, (kind, 0.0))[1]
    return used["gunicorn"], used["postgres"], used["redis"]


def _get(port: int, path: str) -> dict:
    connection = http.client.HTTPConnection(HOST, port, timeout=10)
    connection.request("GET", path)
    response = connection.getresponse()
    body = response.read()
    if response.status != 200:
        sys.exit(f"GET {path} answered {response.status}: {body[:300]!r}")
    return json.loads(body)


if __name__ == "__main__":
    main()
