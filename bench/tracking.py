"""Tracking API benchmark on PostgreSQL, driven by wrk: single events and batches vs a no-op.

    make bench-tracking        (BENCH_ARGS="--rounds 5 --seconds 10" to change the defaults)

In one run, with a fresh database (default `anonmsg_tracking_bench`, dropped and created
again) and an emptied Redis database, gunicorn started with the Procfile's own `web` command
(read from the Procfile at run time: what production runs, access log included) on a loopback
port, and `wrk` (Debian package) as the load generator, with the requests built by the Lua
script bench/tracking.lua. Each round runs, back to back:
1. the no-op JSON view (`POST /bench/noop`, routed only with ANONMSG_BENCH=1), with the bodies
   of scenario 2;
2. single calls as a browser's analytics.js sends them (write key in a text/plain body): 60 %
   page views (`/v1/p`), 25 % tracks (`/v1/t`), 15 % views of one of 10 live messages;
3. `POST /v1/track`, one track call per request, HTTP Basic auth (the earlier figures' scenario);
4. `POST /v1/batch` with 50 track calls (`--batch-size`).
Every event has a unique messageId; anonymous ids rotate over 2,000 visitors. Figures: the
median of the rounds of requests/s, its ratio to the no-op rate of the same round, p50/p99
latency, and the CPU milliseconds per request of the gunicorn processes (master, workers,
and the workers recycled meanwhile) and of the database's PostgreSQL backends: CPU time
depends far less on the machine's other load than requests/s do. At the end the events stored
are checked against the events acknowledged (200): stored ≥ acknowledged, and the difference
is at most the requests in flight when wrk stopped (wrk does not wait for their answers).
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (  # noqa: E402
    HOST,
    ROOT,
    TICK,
    _wait_for_server,
    create_workspace,
    fresh_database,
    fresh_redis,
    gunicorn_cpu_seconds,
    manage,
    print_table,
    proc_stat,
    procfile_web_command,
    server_env,
)

LUA = Path(__file__).with_suffix(".lua")
LIVE_MESSAGES = 10

# (name, Lua scenario, events per request)
SCENARIOS = [
    ("no-op JSON view", "noop", 0),
    ("single calls, browser mix", "mix", 1),
    ("/v1/track, 1 event", "track", 1),
    ("/v1/batch, {batch_size} events", "batch", None),  # --batch-size
]

SEED = """
from anonmsg.models import Workspace
from campaigns.models import AnonymousMessage, Status
from django.utils import timezone
workspace = Workspace.objects.get(pk={workspace_id})
ids = [
    AnonymousMessage.objects.create(
        workspace=workspace, name=f"Bench message {{n}}", status=Status.LAUNCHED,
        launched_at=timezone.now(), content_html="<h2>Hello</h2><button data-action='ok'>OK</button>",
    ).pk
    for n in range({count})
]
workspace.bump_content_version()
print(",".join(map(str, ids)))
"""


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", default="anonmsg_tracking_bench")
    parser.add_argument(
        "--redis-url",
        default=f"redis://{HOST}:6379/13",
        help="the shared cache, emptied first, as in production; '' for none",
    )
    parser.add_argument("--port", type=int, default=8251)
    parser.add_argument("--seconds", type=int, default=8, help="measured, per scenario")
    parser.add_argument("--warmup", type=int, default=1, help="seconds before each measurement")
    parser.add_argument("--rounds", type=int, default=3, help="median of this many rounds")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--connections", type=int, default=12, help="wrk connections")
    parser.add_argument(
        "--rate-limits",
        choices=["on", "off"],
        default="on",
        help="on: checked on every request as in production, limits raised out of reach",
    )
    parser.add_argument(
        "--web-threads", help="WEB_THREADS for the Procfile's command (default: its own)"
    )
    parser.add_argument(
        "--web-concurrency", help="WEB_CONCURRENCY for the Procfile's command (default: its own)"
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=50,
        help="events per /v1/batch request (about 800 of these fit the 500 KB body limit)",
    )
    parser.add_argument("--only", help="comma-separated Lua scenarios to run besides noop")
    parser.add_argument("--json", help="also write the figures to this file")
    return parser.parse_args()


@contextmanager
def procfile_gunicorn(port: int, env: dict):
    """The Procfile's web command, as production runs it, on a loopback port. Its access log
    (stdout) goes to /dev/null: formatted and written as in production, kept nowhere."""
    command = procfile_web_command()
    process = subprocess.Popen(
        ["bash", "-c", f"exec {command}"],
        # Worker boots and exits (--max-requests) are logged at INFO: left out of the output.
        env={**env, "HOST": HOST, "PORT": str(port), "GUNICORN_CMD_ARGS": "--log-level warning"},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        _wait_for_server(port, process)
        yield process.pid
    finally:
        process.terminate()
        process.wait(timeout=30)


def postgres_cpu_seconds(
    database: str, backends: dict[int, bool] | None = None
) -> dict[int, float]:
    """CPU seconds so far of each PostgreSQL backend connected to `database`.

    `backends` remembers, per process id, whether it is one of them: a process's command line
    is then read once, not on every sample (reading all of them took 5 ms of CPU per sample,
    about 2 % of a core at five samples a second, taken from the server being measured)."""
    backends = {} if backends is None else backends
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid not in backends:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            except OSError:
                continue
            ours = command.startswith("postgres:") and f" {database} " in command
            if not ours and "postgres" in command:
                continue  # maybe a backend not yet titled: asked again next time
            backends[pid] = ours
        if backends[pid] and (fields := proc_stat(pid)):
            found[pid] = (int(fields[11]) + int(fields[12])) / TICK
    return found


class PostgresCpu:
    """CPU seconds the database's backends use while it runs, sampled every 0.2 s: a backend
    that ends meanwhile (its gunicorn worker was recycled) still counts up to its last sample."""

    def __init__(self, database: str):
        self.database = database
        self.backends: dict[int, bool] = {}
        self.before = postgres_cpu_seconds(database, self.backends)
        self.last = dict(self.before)
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self):
        while not self.stopped.wait(0.2):
            self.last.update(postgres_cpu_seconds(self.database, self.backends))

    def stop(self) -> float:
        self.stopped.set()
        self.thread.join()
        self.last.update(postgres_cpu_seconds(self.database, self.backends))
        return sum(seconds - self.before.get(pid, 0.0) for pid, seconds in self.last.items())


def wrk(port: int, seconds: int, args, scenario: str, *extra: str) -> dict:
    command = [
        "wrk",
        f"--threads={args.threads}",
        f"--connections={args.connections}",
        f"--duration={seconds}s",
        "--timeout=10s",
        f"--script={LUA}",
        f"http://{HOST}:{port}",
        "--",
        scenario,
        *extra,
    ]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("BENCH "))
    result = json.loads(line.removeprefix("BENCH "))
    result["rate"] = result["requests"] / (result["microseconds"] / 1e6)
    return result


def main():
    args = parse_args()
    if not shutil.which("wrk"):
        sys.exit("This benchmark needs wrk: apt-get install wrk")
    database = fresh_database(args.database)
    env = server_env(database, fresh_redis(args.redis_url), rate_limits=args.rate_limits)
    for variable, value in (
        ("WEB_THREADS", args.web_threads),
        ("WEB_CONCURRENCY", args.web_concurrency),
    ):
        if value:
            env[variable] = value
    manage("migrate", "--noinput", env=env)
    workspace = create_workspace(env)
    content_ids = manage(
        "shell", "-c", SEED.format(workspace_id=workspace["id"], count=LIVE_MESSAGES), env=env
    ).split()[-1]
    scenarios = [
        (name.format(batch_size=args.batch_size), lua, args.batch_size if n is None else n)
        for name, lua, n in SCENARIOS
    ]
    if args.only:
        wanted = {"noop", *args.only.split(",")}
        scenarios = [s for s in scenarios if s[1] in wanted]
    run = uuid.uuid4().hex[:8]
    results = {name: [] for name, _, _ in scenarios}
    acknowledged = in_flight = 0
    with procfile_gunicorn(args.port, env) as master:
        for round_number in range(1, args.rounds + 1):
            for name, scenario, events_per_request in scenarios:
                extra = [
                    workspace["writeKey"],
                    f"{run}{scenario}{round_number}",
                    content_ids,
                    str(args.batch_size),
                ]
                warm = wrk(
                    args.port, args.warmup, args, scenario, *extra[:1], extra[1] + "w", *extra[2:]
                )
                cpu_before = gunicorn_cpu_seconds(master)
                postgres = PostgresCpu(args.database)
                result = wrk(args.port, args.seconds, args, scenario, *extra)
                result["cpu_ms"] = (
                    (gunicorn_cpu_seconds(master) - cpu_before) * 1000 / result["requests"]
                )
                result["pg_ms"] = postgres.stop() * 1000 / result["requests"]
                for run_result in (warm, result):
                    if run_result["status_errors"] or run_result["socket_errors"]:
                        sys.exit(
                            f"{name}: {run_result['status_errors']} non-2xx answers, "
                            f"{run_result['socket_errors']} socket errors"
                        )
                    acknowledged += run_result["acknowledged"] * events_per_request
                    in_flight += args.connections * events_per_request
                results[name].append(result)
                print(
                    f"round {round_number}: {name}: {result['rate']:,.0f} requests/s, "
                    f"{result['cpu_ms']:.2f} CPU ms/request in gunicorn",
                    flush=True,
                )
            time.sleep(0.5)

    rows = []
    figures = {}
    noop_rates = [r["rate"] for r in results[scenarios[0][0]]]
    for name, _, events_per_request in scenarios:
        runs = results[name]
        rate = statistics.median(r["rate"] for r in runs)
        ratio = statistics.median(
            r["rate"] / noop for r, noop in zip(runs, noop_rates, strict=True)
        )
        cpu = statistics.median(r["cpu_ms"] for r in runs)
        pg = statistics.median(r["pg_ms"] for r in runs)
        figures[name] = {
            "requestsPerSecond": round(rate),
            "vsNoop": round(ratio, 3),
            "cpuMsPerRequest": round(cpu, 3),
            "postgresCpuMsPerRequest": round(pg, 3),
        }
        rows.append(
            [
                name,
                f"{rate:,.0f}",
                f"{min(r['rate'] for r in runs):,.0f}–{max(r['rate'] for r in runs):,.0f}",
                f"{rate * events_per_request:,.0f}" if events_per_request else "-",
                f"{ratio:.2f}×",
                f"{statistics.median(r['p50_us'] for r in runs) / 1000:.1f}",
                f"{statistics.median(r['p99_us'] for r in runs) / 1000:.1f}",
                f"{cpu:.2f}",
                f"{pg:.2f}",
            ]
        )
    print()
    print(
        f"Tracking API on PostgreSQL: the Procfile's web command "
        f"(WEB_CONCURRENCY={env.get('WEB_CONCURRENCY', 'default')}, "
        f"WEB_THREADS={env.get('WEB_THREADS', 'default')}); wrk {args.threads} threads × "
        f"{args.connections} connections; median of {args.rounds} rounds of {args.seconds} s; "
        f"rate limits {args.rate_limits} (RATE_LIMIT_SYNC_MS="
        f"{env.get('RATE_LIMIT_SYNC_MS', 'default')}); load average {os.getloadavg()[0]:.1f}"
    )
    print_table(
        [
            "scenario",
            "req/s",
            "range",
            "events/s",
            "vs no-op",
            "p50 ms",
            "p99 ms",
            "CPU ms/req",
            "PG CPU ms/req",
        ],
        rows,
    )
    count = "from delivery.models import Event; print(Event.objects.count())"
    stored = int(manage("shell", "-c", count, env=env).split()[-1])
    print(
        f"\nevents acknowledged (200, warm-ups included): {acknowledged:,}; stored: {stored:,} "
        f"(at most {in_flight:,} more: requests in flight when wrk stopped)"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))
    if not acknowledged <= stored <= acknowledged + in_flight:
        sys.exit("Stored events do not match acknowledged events!")


if __name__ == "__main__":
    main()
