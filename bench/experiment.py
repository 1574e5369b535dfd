"""Experiment benchmark: how long the per-arm numbers of a busy experiment take to compute.

    .venv/bin/python bench/experiment.py                       # 200,000 exposed visitors
    .venv/bin/python bench/experiment.py --visitors 1000000

In a dedicated database (default `anonmsg_experiment_bench`, dropped and created again): one
launched message with variants A and B and a 10 % holdout, --visitors exposed visitors over
--days days (45 / 45 / 10 %), each with 1–4 tagged views (variants; 12 % click, 23 % dismiss)
or 1–2 `held_out` reports (holdout), 5 % of them identified within a day; plus --noise events
of other messages in the same table. Then it runs the rollup job over all of it (which adds
the tagged events to the experiment tables: events per second), and times the per-arm numbers
read from those tables (cold: the cache cleared before each run) and the cached experiment
report, --repeat times each.

Needs PostgreSQL (BENCH_DATABASE_URL or DATABASE_URL gives the server).
"""

import argparse
import io
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import database_url  # noqa: E402
from bench.metrics import EVENT_COLUMNS, copy_visitors, prepare_database  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default="anonmsg_experiment_bench")
    parser.add_argument("--visitors", type=int, default=200_000)
    parser.add_argument("--noise", type=int, default=500_000, help="other messages' events")
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument(
        "--untagged",
        action="store_true",
        help="the same events without variant tags or held_out reports: the rollup job's "
        "speed without experiments, for comparison",
    )
    return parser.parse_args()


def event_rows(
    rng, *, workspace_id, message_id, other_id, visitors, start, days, noise, untagged=False
):
    buffer = io.StringIO()
    serial = 0
    seconds = days * 86400

    def row(anonymous_id, when, content_id, action_type, action_name="", variant=None):
        nonlocal serial
        serial += 1
        if untagged:
            action_type = "viewed_content" if action_type == "held_out" else action_type
            variant = None
        extra = f', "actionName": "{action_name}"' if action_name else ""
        extra += f', "variant": "{variant}"' if variant else ""
        payload = (
            f'{{"type": "track", "event": "Report Content Event", "anonymousId": '
            f'"{anonymous_id}", "properties": {{"actionType": "{action_type}", "contentId": '
            f'{content_id}, "contentType": "in_app_content"{extra}}}}}'
        )
        buffer.write(
            f"{workspace_id}\tbench-{serial}\ttrack\tReport Content Event\t{anonymous_id}\t\t"
            f"{when.isoformat()}\t{when.isoformat()}\t{content_id}\t{action_type}\t"
            f"{action_name}\t{payload}\n"
        )

    for anonymous_id in visitors:
        when = start + timedelta(seconds=rng.random() * seconds)
        roll = rng.random()
        if roll < 0.1:
            for _ in range(rng.choice((1, 1, 2))):
                row(anonymous_id, when, message_id, "held_out")
                when += timedelta(seconds=rng.random() * 600)
            continue
        variant = "A" if roll < 0.55 else "B"
        for _ in range(rng.choice((1, 1, 2, 2, 3, 4))):
            row(anonymous_id, when, message_id, "viewed_content", variant=variant)
            when += timedelta(seconds=rng.random() * 600)
        action = rng.random()
        if action < 0.12:
            row(anonymous_id, when, message_id, "clicked_content", "signup", variant)
        elif action < 0.35:
            row(anonymous_id, when, message_id, "dismissed_content", variant=variant)
    for _ in range(noise):
        when = start + timedelta(seconds=rng.random() * seconds)
        row(rng.choice(visitors), when, other_id, "viewed_content")
    return buffer.getvalue(), serial


def main():
    args = parse_args()
    url = database_url(args.database)
    os.environ["DATABASE_URL"] = url
    os.environ.pop("REDIS_URL", None)
    # Keep every seeded hour: the rollup job leaves buckets older than retention alone.
    os.environ["ANONMSG_RETENTION_DAYS"] = str(args.days + 5)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "anonmsg.settings")
    prepare_database(url, fresh=True)

    import django

    django.setup()
    from django.core.cache import cache
    from django.core.management import call_command
    from django.db import connection

    from anonmsg.models import Plan, Workspace
    from campaigns.models import AnonymousMessage, MessageVariant, Status
    from delivery.partitions import ensure_event_partitions
    from metrics.experiment_arms import _compute_arms
    from metrics.experiment_report import experiment_report
    from metrics.rollups import roll_up

    call_command("migrate", verbosity=0)
    rng = random.Random(args.seed)
    now = datetime.now(UTC)
    start = now - timedelta(days=args.days)
    workspace = Workspace.objects.create(name="Bench", plan=Plan.PREMIUM)
    message, other = (
        AnonymousMessage.objects.create(
            workspace=workspace, name=name, status=Status.LAUNCHED, launched_at=start,
            holdout_percent=10, variant_a_weight=50,
        )
        for name in ("Experiment", "Other")
    )  # fmt: skip
    MessageVariant.objects.create(message=message, key="B", weight=50, content_html="<p>B</p>")
    visitors = [f"v-{n:08d}" for n in range(args.visitors)]
    copy_visitors(connection, workspace_id=workspace.pk, visitors=visitors, since=start)
    ensure_event_partitions(now=start, ahead=args.days + 1)
    text, count = event_rows(
        rng, workspace_id=workspace.pk, message_id=message.pk, other_id=other.pk,
        visitors=visitors, start=start, days=args.days, noise=args.noise, untagged=args.untagged,
    )  # fmt: skip
    seeded = time.perf_counter()
    with connection.cursor() as cursor:
        with cursor.cursor.copy(f"COPY delivery_event ({EVENT_COLUMNS}) FROM STDIN") as copy:
            copy.write(text)
        # 5 % of the visitors identified within a day of their first event (roughly).
        cursor.execute(
            "WITH p AS (INSERT INTO delivery_profile (workspace_id, user_id, traits, email, "
            "first_seen_at, last_seen_at) SELECT %s, 'user-' || v.id, '{}', '', %s, %s "
            "FROM delivery_visitor v WHERE v.workspace_id = %s AND v.id %% 20 = 0 "
            "RETURNING id, user_id) "
            "UPDATE delivery_visitor v SET profile_id = p.id, identified_at = (SELECT "
            "min(e.timestamp) FROM delivery_event e WHERE e.workspace_id = v.workspace_id AND "
            "e.anonymous_id = v.anonymous_id) + interval '3 hours' FROM p "
            "WHERE p.user_id = 'user-' || v.id",
            [workspace.pk, start, now, workspace.pk],
        )
        cursor.execute("ANALYZE")
    print(f"seeded {count:,} events for {args.visitors:,} visitors in "
          f"{time.perf_counter() - seeded:.1f} s")  # fmt: skip

    began = time.perf_counter()
    run = roll_up(now=now + timedelta(minutes=1))
    seconds = time.perf_counter() - began
    print(f"rollup job: {run.events:,} events in {seconds:.1f} s "
          f"({run.events / seconds:,.0f} events/s)")  # fmt: skip

    message = AnonymousMessage.objects.get(pk=message.pk)
    cold = []
    for _ in range(args.repeat):
        cache.clear()
        began = time.perf_counter()
        arms = _compute_arms(message=message, configured=("A", "B", "holdout"), until=None)
        cold.append((time.perf_counter() - began) * 1000)
    warm = []
    experiment_report(message=message, version="v")
    for _ in range(args.repeat):
        began = time.perf_counter()
        experiment_report(message=message, version="v")
        warm.append((time.perf_counter() - began) * 1000)
    for arm in arms:
        print(f"  {arm.key:8} exposed {arm.exposed:>9,}  views {arm.views:>9,}  "
              f"converted {arm.converted:>7,}")  # fmt: skip
    print(f"per-arm numbers, cold: median {statistics.median(cold):.0f} ms, "
          f"max {max(cold):.0f} ms; cached report: median {statistics.median(warm):.1f} ms")  # fmt: skip
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
