"""Delivery API benchmark: wrk against the Procfile's own web command, next to a no-op view.

    make bench-delivery
    # or: DATABASE_URL=postgres://postgres@127.0.0.1:5432/anonmsg .venv/bin/python bench/delivery.py

In one run, with a fresh PostgreSQL database (`--database`, dropped and created again) and an
emptied loopback Redis database (`--redis-url`):
1. one premium workspace (`manage.py create_workspace`) with 100 live messages (1–2 page rules
   each, of every operator; ~1 KB of HTML; every display type) and 200 returning visitors,
   each with state on 30 of the messages (views; some dismissed or clicked), and the
   workspace's filter of visitors with state built (`manage.py build_visitor_filters`, what
   the hourly task does on a running site);
2. gunicorn started with EXACTLY the Procfile's `web:` command (through `sh`, as honcho runs
   it; `--web-command` tries another), production settings, ANONMSG_BENCH=1, its access log
   written to a file;
3. `--rounds` rounds, each alternating, for `--seconds` with wrk (2 threads × 12 connections):
   - `noop`: `GET /bench/noop` (routed only with ANONMSG_BENCH=1), the yardstick;
   - `new`: delivery with a new anonymousId on every request, and `fresh=1`, as the browser
     SDK sends it for an id it has reported nothing for (bench/wrk/new_visitors.lua);
   - `new-nohint`: the same without `fresh=1` (older SDKs, mobile SDKs);
   - `returning`: delivery for the 200 seeded visitors, at random
     (bench/wrk/returning_visitors.lua);
   requests/s (median of the rounds), the ratio to the no-op of the same round, and the CPU
   per request of gunicorn's processes (master, live workers and reaped ones, from /proc);
4. `hey` at half of each scenario's measured rate, for p50 and p99 latency: one hey process
   per connection (`-c 1 -q r`), started 1/rate apart, so that the requests arrive evenly
   spread at that rate, as page views of many visitors do; the first second is a warm-up and
   not counted. (One hey with `-c 12 -q r` starts its 12 tickers together: its requests come
   in bursts of 12 at the same instant, and its p99 measures how fast the server drains such a
   burst, even at 60 requests/s — `--hey-bursts` measures that way.) hey asks one URL: `new`
   is then one fresh id over and over (the server never looks it up, so that is the same
   work), `returning` one seeded visitor.

Prints the table (and `--json FILE` writes the figures). Only ever binds loopback.
"""

import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    HOST,
    ROOT,
    create_workspace,
    fresh_database,
    fresh_redis,
    gunicorn_cpu_seconds,
    manage,
    print_table,
    procfile_web_command,
    redis_cpu_seconds,
    server_env,
)

WRK = ROOT / "bench" / "wrk"
PAGE_URL = "https://shop.example.com/pricing?plan=team&utm_source=newsletter"
VISITORS = 200
VISITOR_PREFIX = "bench-visitor-"
SCENARIOS = ("noop", "new", "new-nohint", "returning")

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
        workspace=workspace, anonymous_id=f"{prefix}{{visitor_number}}",
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
    parser.add_argument("--database", default="anonmsg_bench_delivery")
    parser.add_argument(
        "--redis-url",
        default=f"redis://{HOST}:6379/9",
        help="the shared cache, flushed first, as in production",
    )
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=8, help="per scenario and round")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=12, help="wrk connections")
    parser.add_argument(
        "--scenarios",
        default=",".join(SCENARIOS),
        help=f"comma-separated, from {','.join(SCENARIOS)} (noop is always run)",
    )
    parser.add_argument(
        "--web-command",
        help="a gunicorn command line to measure instead of the Procfile's web command",
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="WEB_ACCESS_LOG=1: gunicorn writes its access log (to a file here)",
    )
    parser.add_argument("--web-concurrency", help="WEB_CONCURRENCY for the web command")
    parser.add_argument("--web-threads", help="WEB_THREADS for the web command")
    parser.add_argument(
        "--rate-limits",
        choices=["on", "off"],
        default="on",
        help="on: checked on every request as in production (limits raised above what the "
        "load sends); off: RATE_LIMITS=0, to see what they cost",
    )
    parser.add_argument("--no-latency", action="store_true", help="skip the hey latency runs")
    parser.add_argument(
        "--hey-bursts",
        action="store_true",
        help="latency with one hey whose connections tick together (bursts), not spread",
    )
    parser.add_argument("--url", default=PAGE_URL, help="the page asked about")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


@contextmanager
def web_process(command: str, env: dict, port: int, log: Path):
    """The web command as honcho runs it (`sh -c`), in its own process group; yields the
    master's pid."""
    env = {**env, "HOST": HOST, "PORT": str(port)}
    with log.open("w") as output:
        process = subprocess.Popen(
            ["sh", "-c", f"exec {command}"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                sys.exit("gunicorn exited:\n" + log.read_text()[-3000:])
            try:
                with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                sys.exit("gunicorn did not start:\n" + log.read_text()[-3000:])
            time.sleep(0.2)
        yield process.pid
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


WRK_SUMMARY = re.compile(r"(\d+) requests in ([\d.]+)s")
WRK_ERRORS = re.compile(r"Non-2xx or 3xx responses: (\d+)|Socket errors: (.*)")


def run_wrk(args, base: str, scenario: str, paths: dict, round_number: int) -> tuple[int, float]:
    """(requests, seconds) of one wrk run; exits on any error answer."""
    command = [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.seconds}s",
        "--timeout",
        "5s",
    ]
    if scenario == "noop":
        command.append(f"{base}/bench/noop")
    elif scenario == "returning":
        command += [
            "-s",
            str(WRK / "returning_visitors.lua"),
            base,
            "--",
            paths["returning"],
            VISITOR_PREFIX,
            str(VISITORS),
        ]
    else:
        prefix = f"{scenario}-{round_number}-{time.monotonic_ns()}"
        command += ["-s", str(WRK / "new_visitors.lua"), base, "--", paths[scenario], prefix]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    summary = WRK_SUMMARY.search(output)
    if not summary or WRK_ERRORS.search(output):
        sys.exit(f"wrk ({scenario}) reported errors:\n{output}")
    return int(summary.group(1)), float(summary.group(2))


HEY_PERCENTILE = re.compile(r"(\d+)%+ in ([\d.]+) secs")


def run_hey(args, url: str, rate: float) -> dict:
    """p50/p99 (ms) and the rate hey reached, at `rate` requests/s in all (module docstring,
    step 4: evenly spread arrivals, or hey's own bursts with --hey-bursts)."""
    connections = args.connections
    if args.hey_bursts:
        return _run_hey_bursts(args, url, rate)
    per_connection = rate / connections
    processes = []
    for _ in range(connections):
        processes.append(
            subprocess.Popen(
                ["hey", "-z", f"{args.seconds + HEY_WARM_UP}s", "-c", "1"]
                + ["-q", f"{per_connection:.3f}", "-o", "csv", url],
                stdout=subprocess.PIPE,
                text=True,
            )
        )
        time.sleep(1 / rate)  # each connection's ticks fall between the others'
    times, statuses = [], set()
    for process in processes:
        output, _ = process.communicate()
        for line in output.splitlines()[1:]:
            # response-time,DNS+dialup,DNS,Request-write,Response-delay,Response-read,
            # status-code,offset
            fields = line.split(",")
            if len(fields) < 8:
                continue
            statuses.add(fields[6])
            if float(fields[7]) >= HEY_WARM_UP:
                times.append(float(fields[0]) * 1000)
    if statuses - {"200"}:
        sys.exit(f"hey: error answers (status codes {sorted(statuses)}) from {url}")
    times.sort()
    return {
        "target": rate,
        "reached": len(times) / args.seconds,
        "p50": _percentile(times, 0.50),
        "p99": _percentile(times, 0.99),
    }


HEY_WARM_UP = 1  # second: each connection's first requests (a thread's first answer) uncounted


def _percentile(sorted_times: list[float], share: float) -> float:
    if not sorted_times:
        return 0.0
    return sorted_times[min(len(sorted_times) - 1, int(share * len(sorted_times)))]


def _run_hey_bursts(args, url: str, rate: float) -> dict:
    """One hey with `-c` connections at `-q` each: their tickers start together (bursts)."""
    connections = args.connections
    per_connection = max(1, round(rate / connections))
    output = subprocess.run(
        ["hey", "-z", f"{args.seconds}s", "-c", str(connections), "-q", str(per_connection), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    percentiles = {int(p): float(s) * 1000 for p, s in HEY_PERCENTILE.findall(output)}
    statuses = re.findall(r"\[(\d{3})\]\s+(\d+) responses", output)
    if any(status != "200" for status, _ in statuses):
        sys.exit(f"hey: error answers:\n{output}")
    reached = re.search(r"Requests/sec:\s+([\d.]+)", output)
    return {
        "target": per_connection * connections,
        "reached": float(reached.group(1)) if reached else 0.0,
        "p50": percentiles.get(50, 0.0),
        "p99": percentiles.get(99, 0.0),
    }


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def main():
    args = parse_args()
    for tool in ("wrk", "hey"):
        if not shutil.which(tool):
            sys.exit(f"{tool} is not installed (Debian: apt-get install {tool}).")
    scenarios = ["noop", *[s for s in args.scenarios.split(",") if s and s != "noop"]]
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        sys.exit(f"Unknown scenarios: {', '.join(sorted(unknown))}")
    database = fresh_database(args.database)
    env = server_env(database, fresh_redis(args.redis_url), rate_limits=args.rate_limits)
    env.pop("WEB_ACCESS_LOG", None)
    if args.access_log:
        env["WEB_ACCESS_LOG"] = "1"
    if args.web_concurrency:
        env["WEB_CONCURRENCY"] = args.web_concurrency
    if args.web_threads:
        env["WEB_THREADS"] = args.web_threads
    manage("migrate", "--noinput", env=env)
    workspace = create_workspace(env, "Delivery bench")
    seed = SEED.format(workspace_id=workspace["id"], visitors=VISITORS, prefix=VISITOR_PREFIX)
    manage("shell", "-c", seed, env=env)
    # What the hourly task does on a running site (no task cluster runs here).
    manage("build_visitor_filters", env=env)

    def delivery_path(**extra) -> str:
        query = urlencode({"writeKey": workspace["writeKey"], "url": args.url, **extra})
        return f"/api/v1/delivery?{query}&anonymousId="

    paths = {
        "new": delivery_path(fresh="1"),
        "new-nohint": delivery_path(),
        "returning": delivery_path(),
    }
    command = args.web_command or procfile_web_command()
    base = f"http://{HOST}:{args.port}"
    figures = {
        name: {"rates": [], "ratios": [], "cpu": [0.0, 0], "redis": [0.0, 0]} for name in scenarios
    }
    latency = {}
    with tempfile.TemporaryDirectory() as workdir:
        log = Path(workdir) / "web.log"
        with web_process(command, env, args.port, log) as master:
            sample = get_json(base + paths["new"] + "sample")
            if not sample["messages"] and args.url == PAGE_URL:
                sys.exit(f"The benchmark page gets no message: {sample}")
            for _ in range(2):  # every worker meets the write key and the page once
                for name in scenarios:
                    run_wrk(
                        argparse.Namespace(**{**vars(args), "seconds": 1}), base, name, paths, 0
                    )
            for round_number in range(1, args.rounds + 1):
                noop_rate = None
                for name in scenarios:
                    before = gunicorn_cpu_seconds(master)
                    redis_before = redis_cpu_seconds(env.get("REDIS_URL", ""))
                    requests, seconds = run_wrk(args, base, name, paths, round_number)
                    used = gunicorn_cpu_seconds(master) - before
                    if redis_before is not None:
                        redis_used = redis_cpu_seconds(env["REDIS_URL"]) - redis_before
                        figures[name]["redis"][0] += redis_used
                        figures[name]["redis"][1] += requests
                    rate = requests / seconds
                    noop_rate = rate if name == "noop" else noop_rate
                    figures[name]["rates"].append(rate)
                    figures[name]["ratios"].append(rate / noop_rate)
                    figures[name]["cpu"][0] += used
                    figures[name]["cpu"][1] += requests
            if not args.no_latency:
                for name in scenarios:
                    half = statistics.median(figures[name]["rates"]) / 2
                    if name == "noop":
                        url = f"{base}/bench/noop"
                    elif name == "returning":
                        url = base + paths[name] + f"{VISITOR_PREFIX}7"
                    else:
                        url = base + paths[name] + f"hey-{time.monotonic_ns()}"
                    latency[name] = run_hey(args, url, half)
        access_log_lines = sum(1 for _ in log.open())

    load = os.getloadavg()
    print(
        f"\nDelivery benchmark: 100 live messages, {len(sample['messages'])} delivered on "
        f"{args.url}; {VISITORS} returning visitors with state on 30 messages each.\n"
        f"Web command: {command}\n"
        f"WEB_CONCURRENCY={env.get('WEB_CONCURRENCY', '(default)')} "
        f"WEB_THREADS={env.get('WEB_THREADS', '(default)')} "
        f"WEB_ACCESS_LOG={env.get('WEB_ACCESS_LOG', '')}; wrk {args.threads} threads × "
        f"{args.connections} connections, {args.rounds} rounds of {args.seconds} s, "
        f"alternating; hey at half each rate, "
        f"{'in bursts (--hey-bursts)' if args.hey_bursts else 'requests evenly spread'}; "
        f"web process output lines: {access_log_lines:,}; "
        f"{os.cpu_count()} cores, load average {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}.\n"
    )
    rows = []
    for name in scenarios:
        data = figures[name]
        cpu_seconds_used, requests = data["cpu"]
        hey = latency.get(name, {})
        rows.append(
            [
                name,
                f"{statistics.median(data['rates']):,.0f}",
                f"{statistics.median(data['ratios']):.2f}×",
                " ".join(f"{ratio:.2f}" for ratio in data["ratios"]),
                f"{cpu_seconds_used * 1000 / requests:.3f}" if requests else "",
                f"{data['redis'][0] * 1000 / data['redis'][1]:.3f}" if data["redis"][1] else "",
                f"{hey['reached']:,.0f}" if hey else "",
                f"{hey['p50']:.1f}" if hey else "",
                f"{hey['p99']:.1f}" if hey else "",
            ]
        )
    print_table(
        [
            "scenario",
            "req/s",
            "vs no-op",
            "rounds",
            "CPU ms/req",
            "Redis ms/req",
            "hey req/s",
            "p50 ms",
            "p99 ms",
        ],
        rows,
    )
    if args.json:
        Path(args.json).write_text(
            json.dumps(
                {
                    "command": command,
                    "loadAverage": load,
                    "scenarios": {
                        name: {
                            "requestsPerSecond": round(statistics.median(figures[name]["rates"])),
                            "ratio": round(statistics.median(figures[name]["ratios"]), 3),
                            "ratios": [round(r, 3) for r in figures[name]["ratios"]],
                            "cpuMsPerRequest": round(
                                figures[name]["cpu"][0] * 1000 / max(1, figures[name]["cpu"][1]),
                                3,
                            ),
                            "redisCpuMsPerRequest": round(
                                figures[name]["redis"][0]
                                * 1000
                                / max(1, figures[name]["redis"][1]),
                                3,
                            ),
                            "latency": latency.get(name),
                        }
                        for name in scenarios
                    },
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
