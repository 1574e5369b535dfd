"""Shared pieces of the HTTP benchmarks: a fresh PostgreSQL database, a production-like
gunicorn on a loopback port, and a concurrent keep-alive load generator.

    from bench.common import fresh_database, gunicorn, manage, run_load, print_table

Only ever point these at loopback addresses.
"""

import http.client
import json
import multiprocessing
import os
import shlex
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / ".venv" / "bin" / "python"
GUNICORN = ROOT / ".venv" / "bin" / "gunicorn"
HOST = "127.0.0.1"

# A request the load generator sends: (method, path, body, headers).
Request = tuple[str, str, bytes | None, dict]


def database_url(name: str) -> str:
    """DATABASE_URL (or BENCH_DATABASE_URL) with its database name replaced by `name`."""
    base = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL")
    if not base or not base.startswith(("postgres://", "postgresql://")):
        sys.exit("Set DATABASE_URL (or BENCH_DATABASE_URL) to a PostgreSQL server.")
    parts = urlsplit(base)
    return urlunsplit((parts.scheme, parts.netloc, f"/{name}", "", ""))


def fresh_database(name: str) -> str:
    """Drop and create database `name` on the PostgreSQL server; returns its URL."""
    import psycopg

    url = database_url(name)
    parts = urlsplit(url)
    admin = urlunsplit((parts.scheme, parts.netloc, "/postgres", "", ""))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    return url


def add_server_arguments(parser, *, database: str, redis_db: int, port: int) -> None:
    """The options every HTTP benchmark shares: its database, Redis, port, gunicorn and load."""
    parser.add_argument("--database", default=database)
    parser.add_argument(
        "--redis-url",
        default=f"redis://{HOST}:6379/{redis_db}",
        help="the shared cache, flushed first, as in production; '' for none (per-process memory)",
    )
    parser.add_argument("--port", type=int, default=port)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--processes", type=int, default=2, help="load generator processes")
    parser.add_argument("--connections", type=int, default=6, help="connections per process")
    parser.add_argument(
        "--rate-limits",
        choices=["on", "off"],
        default="on",
        help="on: checked on every request as in production (limits raised above what the "
        "load sends from one address and key); off: RATE_LIMITS=0",
    )


def fresh_redis(url: str) -> str:
    """Empty the Redis database at `url` (a loopback one: benchmarks own it); returns `url`.
    An empty `url` means no Redis: each process caches in its own memory."""
    if not url:
        return ""
    import redis

    parts = urlsplit(url)
    if parts.scheme != "unix" and parts.hostname not in (HOST, "localhost"):
        sys.exit(f"Refusing to flush a Redis that is not on loopback: {url}")
    try:
        redis.Redis.from_url(url).flushdb()
    except redis.RedisError as exc:
        sys.exit(f"Redis at {url} is not reachable ({exc}); pass --redis-url '' to run without.")
    return url


# All the load comes from 127.0.0.1 with one write key: with the default limits it would be
# refused within seconds. Raised, the limits still cost their check on every request.
UNREACHED_LIMIT = str(10**9)
RATE_LIMIT_VARIABLES = (
    "RATE_LIMIT_TRACKING_PER_IP",
    "RATE_LIMIT_TRACKING_PER_KEY",
    "RATE_LIMIT_DELIVERY_PER_IP",
    "RATE_LIMIT_DELIVERY_PER_KEY",
)


def server_env(database: str, redis_url: str = "", *, rate_limits: str = "on", **extra) -> dict:
    """Production settings (DEBUG off, secure cookies…) on plain-HTTP loopback."""
    env = dict(os.environ)
    env.pop("REDIS_URL", None)
    if redis_url:
        env["REDIS_URL"] = redis_url
    env["RATE_LIMITS"] = "1" if rate_limits == "on" else "0"
    env.update({name: UNREACHED_LIMIT for name in RATE_LIMIT_VARIABLES})
    env.update(
        {
            "DATABASE_URL": database,
            "ANONMSG_PRODUCTION": "1",
            "SECRET_KEY": "bench-" + "x" * 60,
            "ALLOWED_HOSTS": f"{HOST},localhost",
            # TLS ends at the load balancer in production; the benchmark talks plain HTTP.
            "SECURE_SSL_REDIRECT": "0",
            "ANONMSG_BENCH": "1",
            "EMAIL_URL": "dummy://",  # production mode requires a choice; benchmarks send none
            "LOG_LEVEL": "WARNING",
            "DJANGO_SETTINGS_MODULE": "anonmsg.settings",
        }
    )
    env.update(extra)
    return env


def manage(*args: str, env: dict) -> str:
    """Run a manage.py command; returns its standard output."""
    result = subprocess.run(
        [str(PYTHON), str(ROOT / "manage.py"), *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stderr}")
    return result.stdout


def create_workspace(env: dict, name: str = "Bench") -> dict:
    """A premium workspace via the documented command: {"id", "writeKey", "apiKey", …}."""
    output = manage(
        "create_workspace",
        name,
        "--plan",
        "premium",
        "--owner",
        "bench@anonmsg.local",
        "--json",
        env=env,
    )
    return json.loads(output)


@contextmanager
def gunicorn(port: int, env: dict, *, workers: int, threads: int) -> Iterator[None]:
    """gunicorn as the Procfile runs it (its worker class), bound to a loopback port."""
    process = subprocess.Popen(
        [
            str(GUNICORN),
            "anonmsg.wsgi",
            "--bind",
            f"{HOST}:{port}",
            "--workers",
            str(workers),
            "--threads",
            str(threads),
            "--worker-class",
            procfile_worker_class(),
            "--keep-alive",
            "30",
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
    )
    try:
        _wait_for_server(port, process)
        yield
    finally:
        process.terminate()
        process.wait(timeout=30)


def _wait_for_server(port: int, process) -> None:
    for _ in range(150):
        if process.poll() is not None:
            sys.exit("gunicorn exited; see its output above.")
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=2)
            connection.request("GET", "/healthz")
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    sys.exit("gunicorn did not start.")


@dataclass
class LoadResult:
    requests: int = 0  # answered within the measured window
    acknowledged: int = 0  # answered 200 at any time, warm-up included
    seconds: float = 0.0
    statuses: Counter = field(default_factory=Counter)
    latencies: list = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def run_load(
    *,
    port: int,
    make_request: Callable[[str, int], Request],
    seconds: float,
    warmup: float = 2.0,
    processes: int = 2,
    connections: int = 8,
) -> LoadResult:
    """Send requests on processes × connections keep-alive connections, as fast as answered.

    `make_request(sender, n)` builds the n-th request of a sender (a unique string per
    connection, for unique message ids). Only requests answered during the `seconds` after
    the `warmup` are counted.
    """
    context = multiprocessing.get_context("fork")
    results = context.Queue()
    start_at = time.time() + 0.5  # every process starts together
    workers = [
        context.Process(
            target=_load_process,
            args=(index, port, make_request, start_at, warmup, seconds, connections, results),
        )
        for index in range(processes)
    ]
    for worker in workers:
        worker.start()
    total = LoadResult(seconds=seconds)
    for _ in workers:
        requests, acknowledged, statuses, latencies = results.get()
        total.requests += requests
        total.acknowledged += acknowledged
        total.statuses.update(statuses)
        total.latencies.extend(latencies)
    for worker in workers:
        worker.join()
    return total


def _load_process(index, port, make_request, start_at, warmup, seconds, connections, results):
    counted_from = start_at + warmup
    until = counted_from + seconds
    lock = threading.Lock()
    totals = {"requests": 0, "acknowledged": 0, "statuses": Counter(), "latencies": []}

    def sender(name: str):
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        requests, acknowledged, statuses, latencies, n = 0, 0, Counter(), [], 0
        time.sleep(max(0.0, start_at - time.time()))
        while True:
            method, path, body, headers = make_request(name, n)
            n += 1
            began = time.time()
            if began >= until:
                break
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                connection.close()
                connection = http.client.HTTPConnection(HOST, port, timeout=30)
                status = "connection error"
            ended = time.time()
            acknowledged += status == 200
            if counted_from <= ended < until:
                requests += 1
                statuses[status] += 1
                latencies.append(ended - began)
        connection.close()
        with lock:
            totals["requests"] += requests
            totals["acknowledged"] += acknowledged
            totals["statuses"].update(statuses)
            totals["latencies"].extend(latencies)

    threads = [
        threading.Thread(target=sender, args=(f"p{index}c{number}",))
        for number in range(connections)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    results.put(
        (totals["requests"], totals["acknowledged"], totals["statuses"], totals["latencies"])
    )


def print_table(headers: list[str], rows: list[list]) -> None:
    cells = [headers, *[[str(cell) for cell in row] for row in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for number, row in enumerate(cells):
        print(
            "  ".join(
                cell.ljust(width) if i == 0 else cell.rjust(width)
                for i, (cell, width) in enumerate(zip(row, widths, strict=True))
            )
        )
        if number == 0:
            print("  ".join("-" * width for width in widths))


# --- The Procfile's web process, and what it costs ---------------------------------------

TICK = os.sysconf("SC_CLK_TCK")


def procfile_web_command() -> str:
    """The Procfile's `web:` command line, as production (honcho, a PaaS) runs it."""
    for line in (ROOT / "Procfile").read_text().splitlines():
        process, _, command = line.partition(":")
        if process.strip() == "web":
            return command.strip()
    sys.exit("The Procfile has no web command.")


def procfile_worker_class() -> str:
    """The gunicorn worker class of the Procfile's web command."""
    arguments = shlex.split(procfile_web_command())
    return arguments[arguments.index("--worker-class") + 1]


def proc_stat(pid) -> list[str] | None:
    """/proc/<pid>/stat's fields after the command name (index 1 is the ppid, 11–14 utime,
    stime, cutime, cstime), or None if the process is gone."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def redis_cpu_seconds(url: str) -> float | None:
    """CPU seconds the Redis server at `url` has used (INFO cpu: user + system, main thread and
    all), or None without Redis. The whole server's: other clients' work counts too."""
    if not url:
        return None
    import redis

    with redis.Redis.from_url(url) as client:
        info = client.info("cpu")
    return float(info["used_cpu_user"]) + float(info["used_cpu_sys"])


def gunicorn_cpu_seconds(master: int) -> float:
    """CPU seconds of a gunicorn master, its live workers and the workers it has reaped (the
    Procfile's --max-requests recycles them): utime+stime, plus cutime+cstime of the master."""
    fields = proc_stat(master)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime stime cutime cstime
    for stat in Path("/proc").glob("[0-9]*/stat"):
        worker = proc_stat(stat.parent.name)
        if worker and int(worker[1]) == master:  # ppid
            total += int(worker[11]) + int(worker[12])
    return total / TICK
