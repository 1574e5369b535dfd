"""Metrics benchmark: 10 million events on PostgreSQL → rollups → metrics endpoint and page.

    .venv/bin/python bench/metrics.py                      # 10M events (≈ 25 min, ≈ 7 GB)
    .venv/bin/python bench/metrics.py --events 300000      # a quick check

What it does, in a dedicated database (default `anonmsg_metrics_bench`, dropped and created
again unless --reuse):
1. migrate; one premium workspace with --messages launched messages (traffic skewed: the
   first message gets the most), a member and an App API key;
2. seeds --events raw events over --days days, in time order (as ingestion would), with
   psycopg 3 `cursor.copy` (indexes and constraints of the events table are dropped during the
   load and rebuilt after), plus profiles and conversions;
3. runs the scheduled rollup job from an empty watermark (the whole history), then after
   --live-events new events in the last hour (one minute at 25,000 events/s by default, in 30
   transactions, as ingestion would write them): rollup events per second;
4. starts gunicorn on 127.0.0.1:--port with production settings (and a loopback Redis as the
   shared cache, --redis-url) and times --requests sequential requests of the App API metrics
   endpoint and of the metrics page (full page, and the htmx poll answered 204) for a 30-day
   range: p50 / p95 / max and the server's CPU ms per request, with a cached and a cold
   unique-viewer count, next to the no-op view as the baseline of the same run.

Needs PostgreSQL (BENCH_DATABASE_URL or DATABASE_URL gives the server; the database name is
replaced by --database).
"""

import argparse
import http.client
import io
import json
import os
import random
import statistics
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlencode, urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import (  # noqa: E402
    database_url,
    fresh_redis,
    print_table,
    procfile_worker_class,
    server_env,
)

EVENT_COLUMNS = (
    "workspace_id, message_id, type, name, anonymous_id, user_id, timestamp, received_at, "
    "content_id, action_type, action_name, payload"
)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--messages", type=int, default=20)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--database", default="anonmsg_metrics_bench")
    parser.add_argument("--port", type=int, default=8571)
    parser.add_argument(
        "--redis-url",
        default="redis://127.0.0.1:6379/12",
        help="the shared cache, flushed first, as in production; '' for none",
    )
    parser.add_argument(
        "--live-events",
        type=int,
        default=25_000 * 60,
        help="new events for the live rollup figure (default: one minute at 25,000/s)",
    )
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--reuse", action="store_true", help="keep an already seeded database (skip 1-3)"
    )
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


def prepare_database(url: str, *, fresh: bool) -> None:
    import psycopg

    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    name = parts.path.lstrip("/")
    with psycopg.connect(admin, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


class Timer:
    def __init__(self, label: str, figures: dict, key: str):
        self.label, self.figures, self.key = label, figures, key

    def __enter__(self):
        print(f"… {self.label}", flush=True)
        self.start = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.seconds = time.perf_counter() - self.start
        self.figures[self.key] = round(self.seconds, 2)
        print(f"  {self.label}: {self.seconds:.1f} s", flush=True)


# --- Seeding ---------------------------------------------------------------------------------


def setup_workspace(args):
    from django.contrib.auth import get_user_model

    from anonmsg.models import Membership, Plan, Role, Workspace
    from campaigns.models import AnonymousMessage, Status

    workspace = Workspace.objects.create(name="Bench", plan=Plan.PREMIUM)
    api_key = workspace.rotate_api_key()
    user = get_user_model().objects.create_user("bench@example.com", password="bench-password")
    Membership.objects.create(user=user, workspace=workspace, role=Role.ADMIN)
    now = datetime.now(UTC)
    messages = [
        AnonymousMessage.objects.create(
            workspace=workspace,
            name=f"Bench message {n + 1}",
            status=Status.LAUNCHED,
            launched_at=now - timedelta(days=args.days),
            content_html='<button data-action="signup">Sign up</button>',
        )
        for n in range(args.messages)
    ]
    return workspace, api_key, user, messages


def message_weights(count: int) -> list[float]:
    """Zipf-like traffic: message 1 gets the most (≈ 28% with 20 messages)."""
    return [1 / (rank + 1) for rank in range(count)]


def generate_events(rng, *, workspace_id, message_ids, start, hours, events, visitors, prefix):
    """Rows for COPY, in time order: sessions of a visitor who sees a message on a few pages,
    sometimes clicks an action or dismisses it; plus page views (≈ 20% of the rows)."""
    weights = message_weights(len(message_ids))
    # ≈ 3.7 rows per session: 2.2 views, 0.35 clicks or dismissals, 1.2 page views.
    sessions_per_hour = max(1, events / 3.7 / hours)
    actions = ["signup", "learn-more", "pricing"]
    buffer = io.StringIO()
    written = 0
    serial = 0
    for hour_index in range(hours):
        if written >= events:
            break
        hour_start = start + timedelta(hours=hour_index)
        # Daily rhythm: busier in the afternoon.
        rhythm = 0.6 + 0.8 * abs(((hour_start.hour + 10) % 24) - 12) / 12
        sessions = []
        for _ in range(int(sessions_per_hour * rhythm + rng.random())):
            at = hour_start + timedelta(seconds=rng.random() * 3600)
            sessions.append(at)
        sessions.sort()
        for at in sessions:
            # Most sessions come from a visitor chosen anywhere in the pool, some from the
            # tenth of it that keeps coming back.
            pool = len(visitors) if rng.random() < 0.7 else max(1, len(visitors) // 10)
            visitor = visitors[rng.randrange(pool)]
            message_id = rng.choices(message_ids, weights)[0]
            rows = []
            for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
                rows.append(("viewed_content", ""))
            roll = rng.random()
            if roll < 0.12:
                rows.append(("clicked_content", rng.choice(actions)))
            elif roll < 0.35:
                rows.append(("dismissed_content", ""))
            pages = 1 if rng.random() < 0.8 else 2
            offset = 0.0
            for action_type, action_name in rows:
                offset += rng.random() * 40
                when = at + timedelta(seconds=offset)
                serial += 1
                name_part = f', "actionName": "{action_name}"' if action_name else ""
                payload = (
                    f'{{"type": "track", "event": "Report Content Event", '
                    f'"anonymousId": "{visitor}", "properties": {{"actionType": "{action_type}", '
                    f'"contentId": {message_id}, "contentType": "in_app_content"{name_part}}}}}'
                )
                buffer.write(
                    f"{workspace_id}\t{prefix}{serial}\ttrack\tReport Content Event\t{visitor}\t"
                    f"\t{when.isoformat()}\t{(when + timedelta(seconds=1)).isoformat()}\t"
                    f"{message_id}\t{action_type}\t{action_name}\t{payload}\n"
                )
            for _ in range(pages):
                offset += rng.random() * 40
                when = at + timedelta(seconds=offset)
                serial += 1
                buffer.write(
                    f"{workspace_id}\t{prefix}{serial}\tpage\t\t{visitor}\t\t{when.isoformat()}\t"
                    f"{(when + timedelta(seconds=1)).isoformat()}\t\\N\t\t\t"
                    f'{{"type": "page", "anonymousId": "{visitor}", '
                    f'"properties": {{"path": "/pricing"}}}}\n'
                )
            written += len(rows) + pages
        if buffer.tell() > 8_000_000:
            yield buffer.getvalue(), written
            buffer = io.StringIO()
    if buffer.tell():
        yield buffer.getvalue(), written


def copy_events(connection, chunks) -> int:
    total = 0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(f"COPY delivery_event ({EVENT_COLUMNS}) FROM STDIN") as copy:
            for text, written in chunks:
                copy.write(text)
                total = written
    return total


def drop_event_indexes(connection) -> list[str]:
    """Drop the events table's secondary indexes and constraints; return the SQL to rebuild."""
    rebuild = []
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'delivery_event'::regclass AND contype IN ('u', 'f')"
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'ALTER TABLE delivery_event DROP CONSTRAINT "{name}"')
            rebuild.append(f'ALTER TABLE delivery_event ADD CONSTRAINT "{name}" {definition}')
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'delivery_event' "
            "AND indexname NOT IN (SELECT conname FROM pg_constraint "
            "WHERE conrelid = 'delivery_event'::regclass)"
        )
        for name, definition in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')
            rebuild.append(definition)
    return rebuild


def copy_visitors(connection, *, workspace_id, visitors, since) -> None:
    """The visitor of every anonymous id, as the tracking API creates them (the rollup counts
    unique viewers by visitor id)."""
    seen = since.isoformat()
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(
            "COPY delivery_visitor (workspace_id, anonymous_id, first_seen_at, last_seen_at, "
            "user_agent, last_page) FROM STDIN"
        ) as copy,
    ):
        for start in range(0, len(visitors), 100_000):
            copy.write(
                "".join(
                    f"{workspace_id}\t{anonymous_id}\t{seen}\t{seen}\t\t\n"
                    for anonymous_id in visitors[start : start + 100_000]
                )
            )


def seed_conversions(connection, rng, *, workspace_id, message_ids, start, hours, count) -> None:
    """Profiles and conversions (≈ one per 200 events), in time order."""
    weights = message_weights(len(message_ids))
    profiles = io.StringIO()
    for n in range(count):
        profiles.write(
            f"{workspace_id}\tbench-user-{n}\t\t{{}}\t{start.isoformat()}\t{start.isoformat()}\n"
        )
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(
            "COPY delivery_profile (workspace_id, user_id, email, traits, first_seen_at, "
            "last_seen_at) FROM STDIN"
        ) as copy:
            copy.write(profiles.getvalue())
        cursor.execute(
            "SELECT id FROM delivery_profile WHERE workspace_id = %s ORDER BY id", [workspace_id]
        )
        profile_ids = [row[0] for row in cursor.fetchall()]
        times = sorted(start + timedelta(seconds=rng.random() * hours * 3600) for _ in profile_ids)
        conversions = io.StringIO()
        for profile_id, converted_at in zip(profile_ids, times, strict=True):
            message_id = rng.choices(message_ids, weights)[0]
            triggered = converted_at - timedelta(hours=rng.random() * 48)
            conversions.write(
                f"{workspace_id}\t{message_id}\t{profile_id}\tclick\t{triggered.isoformat()}\t\\N\t"
                f"anon\t{converted_at.isoformat()}\t\\N\t{converted_at.isoformat()}\t"
                f"{converted_at.isoformat()}\n"
            )
        with raw.copy(
            "COPY metrics_conversion (workspace_id, message_id, profile_id, trigger, triggered_at, "
            "trigger_event_id, anonymous_id, identified_at, condition_met_at, converted_at, "
            "created_at) FROM STDIN"
        ) as copy:
            copy.write(conversions.getvalue())


# --- HTTP timing -----------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))
    return ordered[index]


def worker_cpu_seconds(master_pid: int) -> float:
    """utime + stime of gunicorn's worker processes (the master's children), in seconds."""
    total = 0
    for child in Path(f"/proc/{master_pid}/task/{master_pid}/children").read_text().split():
        fields = Path(f"/proc/{child}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return total / os.sysconf("SC_CLK_TCK")


def time_requests(port: int, paths: list[str], headers: dict, expect: int, server=None) -> dict:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    durations = []
    cpu_before = worker_cpu_seconds(server.pid) if server else 0.0
    for path in paths:
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        body = response.read()
        durations.append((time.perf_counter() - started) * 1000)
        if response.status != expect:
            raise SystemExit(f"GET {path} answered {response.status}: {body[:300]!r}")
    connection.close()
    figures = {
        "requests": len(durations),
        "p50_ms": round(statistics.median(durations), 1),
        "p95_ms": round(percentile(durations, 0.95), 1),
        "max_ms": round(max(durations), 1),
    }
    if server:
        cpu = worker_cpu_seconds(server.pid) - cpu_before
        figures["cpu_ms_per_request"] = round(cpu * 1000 / len(durations), 2)
    return figures


def wait_for_server(port: int, process) -> None:
    for _ in range(100):
        if process.poll() is not None:
            raise SystemExit("gunicorn exited; see its output above.")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("gunicorn did not start.")


def login_cookie(user) -> str:
    from importlib import import_module

    from django.conf import settings
    from django.contrib.auth import load_backend

    # The backend that logs users in (as Django's test client picks it): axes' comes first
    # and only refuses locked-out attempts.
    backend = next(
        path for path in settings.AUTHENTICATION_BACKENDS if hasattr(load_backend(path), "get_user")
    )
    store = import_module(settings.SESSION_ENGINE).SessionStore()
    store["_auth_user_id"] = str(user.pk)
    store["_auth_user_backend"] = backend
    store["_auth_user_hash"] = user.get_session_auth_hash()
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def seed_live_events(connection, rng, *, workspace_id, message_ids, visitors, count) -> int:
    """`count` new events with timestamps in the last hour, in 30 transactions (ingestion
    commits many batches a second), as the tracking API would have written them last minute."""
    from django.db import transaction

    start = datetime.now(UTC) - timedelta(seconds=3600 + 300)
    written = 0
    per_batch = max(1, count // 30)
    for batch in range(30):
        wanted = per_batch if batch < 29 else count - written
        if wanted <= 0:
            break
        with transaction.atomic():
            written += copy_events(
                connection,
                generate_events(
                    rng, workspace_id=workspace_id, message_ids=message_ids, start=start,
                    hours=1, events=wanted, visitors=visitors, prefix=f"live{batch}-",
                ),
            )  # fmt: skip
    return written


def main():
    args = parse_args()
    url = database_url(args.database)
    redis_url = fresh_redis(args.redis_url)
    # Production settings in this process too: the session it creates for the page requests
    # must be one the server accepts (same SECRET_KEY). The rollup job leaves buckets older
    # than the retention period alone: keep all of them.
    env = server_env(url, redis_url, ANONMSG_RETENTION_DAYS=str(args.days + 5))
    os.environ.update(env)
    figures: dict = {"events": args.events, "days": args.days, "messages": args.messages}
    prepare_database(url, fresh=not args.reuse)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from anonmsg.models import Workspace
    from campaigns.models import AnonymousMessage
    from delivery.partitions import ensure_event_partitions
    from metrics.models import MessageHourlyStats, MessageViewerDay
    from metrics.rollups import roll_up

    rng = random.Random(args.seed)
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    start = now - timedelta(days=args.days)
    hours = args.days * 24

    if args.reuse and Workspace.objects.filter(name="Bench").exists():
        workspace = Workspace.objects.get(name="Bench")
        api_key = workspace.rotate_api_key()
        user = workspace.memberships.get().user
        messages = list(AnonymousMessage.objects.filter(workspace=workspace).order_by("pk"))
        print("Reusing the seeded database.")
    else:
        call_command("migrate", verbosity=0)
        workspace, api_key, user, messages = setup_workspace(args)
        message_ids = [m.pk for m in messages]
        visitors = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(
            max(1000, args.events // 8)
        )]  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SET maintenance_work_mem = '512MB'")
        copy_visitors(connection, workspace_id=workspace.pk, visitors=visitors, since=start)
        # The seeded history gets its day partitions, as production's would have had: COPY
        # would otherwise put it all into the default partition.
        ensure_event_partitions(now=start, ahead=args.days + 1)
        rebuild = drop_event_indexes(connection)
        with Timer(f"COPY {args.events:,} events", figures, "copy_seconds"):
            copy_events(
                connection,
                generate_events(
                    rng, workspace_id=workspace.pk, message_ids=message_ids, start=start,
                    hours=hours, events=args.events, visitors=visitors, prefix="b",
                ),
            )  # fmt: skip
        with (
            Timer("rebuild the events table's indexes", figures, "index_seconds"),
            connection.cursor() as cursor,
        ):
            for statement in rebuild:
                cursor.execute(statement)
            cursor.execute("ANALYZE delivery_event")
        seed_conversions(
            connection, rng, workspace_id=workspace.pk, message_ids=message_ids, start=start,
            hours=hours, count=max(50, args.events // 200),
        )  # fmt: skip
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM delivery_event")
            figures["events"] = cursor.fetchone()[0]
            # A partitioned table has no storage of its own: its partitions' sizes, summed.
            cursor.execute(
                "SELECT pg_size_pretty(sum(pg_total_relation_size(relid))) "
                "FROM pg_partition_tree('delivery_event')"
            )
            figures["events_table_size"] = cursor.fetchone()[0]
        print(f"  {figures['events']:,} events, {figures['events_table_size']} with indexes")

        with Timer("rollup job over the whole history", figures, "rollup_full_seconds") as t:
            run = roll_up(now=datetime.now(UTC) + timedelta(minutes=5))
        figures["rollup_full_message_events"] = run.events
        figures["rollup_full_events_per_second"] = round(figures["events"] / t.seconds)
        figures["rollup_buckets_written"] = run.buckets_written
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")

        # Steady state: what one minute of live traffic leaves the next run to count.
        live = seed_live_events(
            connection, rng, workspace_id=workspace.pk, message_ids=message_ids,
            visitors=visitors, count=args.live_events,
        )  # fmt: skip
        with Timer(f"rollup job after {live:,} new events", figures, "rollup_live_seconds") as t:
            run = roll_up(now=datetime.now(UTC) + timedelta(minutes=5))
        # Per second of the job's time, counting every event ingested (page views included:
        # the ingest rate is of all events), and the message events it actually read.
        figures["rollup_live_events"] = live
        figures["rollup_live_message_events"] = run.events
        figures["rollup_live_events_per_second"] = round(live / t.seconds)
        figures["hourly_rows"] = MessageHourlyStats.objects.count()
        figures["viewer_days"] = sum(
            MessageViewerDay.objects.values_list("viewer_count", flat=True)
        )
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_size_pretty(pg_total_relation_size('metrics_messageviewerday') "
                "+ pg_total_relation_size('metrics_messagehourlystats'))"
            )
            figures["rollup_tables_size"] = cursor.fetchone()[0]

    # Sanity: the rollups agree with the raw events for the busiest message.
    top = messages[0]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM delivery_event WHERE content_id = %s AND action_type = "
            "'viewed_content'",
            [top.pk],
        )
        raw_views = cursor.fetchone()[0]
    rolled = sum(MessageHourlyStats.objects.filter(message=top).values_list("views", flat=True))
    assert raw_views == rolled, (raw_views, rolled)
    figures["top_message_views"] = raw_views

    # --- HTTP -----------------------------------------------------------------------------
    call_command("collectstatic", interactive=False, verbosity=0)  # production serves a manifest
    server = subprocess.Popen(
        [str(ROOT / ".venv/bin/gunicorn"), "anonmsg.wsgi", "--bind", f"127.0.0.1:{args.port}",
         "--workers", "2", "--threads", "4", "--worker-class", procfile_worker_class(),
         "--log-level", "warning"],
        cwd=ROOT, env=env,
    )  # fmt: skip
    try:
        wait_for_server(args.port, server)
        api = {"Authorization": f"Bearer {api_key}"}
        cookie = {"Cookie": login_cookie(user)}
        today = datetime.now(workspace.tz).date()
        n = args.requests
        results = {}
        for label, message in (("top", messages[0]), ("median", messages[len(messages) // 2])):
            api_path = f"/api/v1/anonymous-messages/{message.pk}/metrics"
            page_path = f"/w/{workspace.pk}/anonymous/{message.pk}/metrics/"
            # The baseline of this run: the no-op view (ANONMSG_BENCH=1), same connection.
            results[f"noop_{label}"] = time_requests(
                args.port, ["/bench/noop"] * n, {}, 200, server
            )
            # Same 30-day range each time: the report comes from the cache after the first.
            results[f"api_30d_{label}"] = time_requests(args.port, [api_path] * n, api, 200, server)
            # A different 30-day window each time: nothing cached, unique viewers counted (cold).
            sliding = [
                api_path + "?" + urlencode({
                    "from": (now - timedelta(days=30, hours=i)).isoformat(),
                    "to": (now - timedelta(hours=i)).isoformat(),
                })
                for i in range(1, n + 1)
            ]  # fmt: skip
            results[f"api_30d_cold_{label}"] = time_requests(args.port, sliding, api, 200, server)
            results[f"page_30d_{label}"] = time_requests(
                args.port, [page_path + "?range=30d"] * n, cookie, 200, server
            )
            custom = [
                page_path + "?" + urlencode({
                    "range": "custom", "start": today - timedelta(days=29 + i // 60 + i % 60),
                    "end": today - timedelta(days=i % 60),
                })
                for i in range(n)
            ]  # fmt: skip
            results[f"page_30d_cold_{label}"] = time_requests(
                args.port, custom, cookie, 200, server
            )
            # The htmx poll: fingerprint unchanged → 204.
            connection_ = http.client.HTTPConnection("127.0.0.1", args.port, timeout=60)
            connection_.request(
                "GET", page_path + "?range=30d", headers={**cookie, "HX-Request": "true"}
            )
            body = connection_.getresponse().read().decode()
            connection_.close()
            marker = "fingerprint="
            fingerprint = body[body.index(marker) + len(marker) :].split('"')[0].split("&")[0]
            poll = page_path + "?" + urlencode({"range": "30d", "fingerprint": fingerprint})
            results[f"poll_204_{label}"] = time_requests(
                args.port, [poll] * n, {**cookie, "HX-Request": "true"}, 204, server
            )
        figures["http"] = results
    finally:
        server.terminate()
        server.wait(timeout=30)
    figures["load_average"] = os.getloadavg()

    print(json.dumps(figures, indent=2))
    print_report(figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2) + "\n")


def print_report(figures: dict) -> None:
    print(f"\n{figures['events']:,} events over {figures['days']} days, {figures['messages']} "
          f"messages; load average at the end {figures['load_average'][0]:.1f}")  # fmt: skip
    if "rollup_full_seconds" in figures:
        print_table(
            ["Rollup", "events", "message events", "seconds", "events/s"],
            [
                ["whole history", f"{figures['events']:,}",
                 f"{figures['rollup_full_message_events']:,}", figures["rollup_full_seconds"],
                 f"{figures['rollup_full_events_per_second']:,}"],
                ["one live minute", f"{figures['rollup_live_events']:,}",
                 f"{figures['rollup_live_message_events']:,}", figures["rollup_live_seconds"],
                 f"{figures['rollup_live_events_per_second']:,}"],
            ],
        )  # fmt: skip
        print()
    rows = []
    for key, line in figures["http"].items():
        rows.append(
            [key, line["p50_ms"], line["p95_ms"], line["max_ms"], line.get("cpu_ms_per_request")]
        )
    print_table(["30-day range, sequential requests", "p50 ms", "p95 ms", "max ms", "CPU ms"], rows)


if __name__ == "__main__":
    main()
