"""Slow clients against gunicorn, with and without nginx in front (issue 10, finding 10).

    .venv/bin/python bench/slow_clients.py [--slow 32] [--seconds 12]

Starts the Procfile's gunicorn (its worker class, WEB_CONCURRENCY=2 × WEB_THREADS=4) on a
loopback port and nginx with deploy/nginx/anonmsg.conf in front of it. Then, once straight at
gunicorn and once through nginx: opens --slow connections that send a request head one byte a
second and never finish it, and meanwhile sends a normal `GET /healthz` every half second, each
allowed 2 s. Prints how many normal requests were answered. Bounded: about 35 s in all.

The slow connections open one by one (50 ms apart), each landing on a gunicorn worker with a
thread free (anonmsg/web_worker.py): 8 (the issue's figure) fill both workers' threads.

Needs nginx (apt-get install nginx). The database is a throwaway SQLite file: /healthz only
asks it for `SELECT 1`. Only ever binds loopback ports (default 9152 and 9153).
"""

import argparse
import http.client
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import HOST, ROOT, print_table  # noqa: E402

NGINX_SITE = ROOT / "deploy" / "nginx" / "anonmsg.conf"
SLOW_HEAD = b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


def procfile_web() -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith("web:"):
            return line.removeprefix("web:").strip()
    sys.exit("no web process in the Procfile")


def start_gunicorn(port: int, workdir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "HOST": HOST,
        "PORT": str(port),
        "WEB_CONCURRENCY": "2",
        "WEB_THREADS": "4",
        "DATABASE_URL": f"sqlite:///{workdir / 'db.sqlite3'}",
        "SECRET_KEY_FILE": str(workdir / "secret_key"),
        "LOG_LEVEL": "WARNING",
        "PYTHONWARNINGS": "ignore",  # no collectstatic here: /healthz needs no static files
    }
    # No WEB_ACCESS_LOG: the access log would only add noise here.
    for name in (
        "DEBUG",
        "ANONMSG_PRODUCTION",
        "SECRET_KEY",
        "ALLOWED_HOSTS",
        "REDIS_URL",
        "WEB_ACCESS_LOG",
    ):
        env.pop(name, None)
    # The Procfile's command, as honcho runs it.
    command = procfile_web()
    return subprocess.Popen(["sh", "-c", command], cwd=ROOT, env=env, start_new_session=True)


def nginx_config(workdir: Path, listen: int, upstream: int) -> Path:
    """A minimal nginx.conf around deploy/nginx/anonmsg.conf, moved to loopback ports."""
    site = NGINX_SITE.read_text()
    site = re.sub(r"listen \[::\]:80;\n", "", site)
    site = site.replace("listen 80;", f"listen {HOST}:{listen};")
    site = site.replace("server 127.0.0.1:8000;", f"server {HOST}:{upstream};")
    site = site.replace("/var/log/nginx/", f"{workdir}/")
    (workdir / "anonmsg.conf").write_text(site)
    user = f"user {os.environ.get('USER', 'root')};\n" if os.geteuid() == 0 else ""
    config = workdir / "nginx.conf"
    config.write_text(
        f"{user}worker_processes 1;\n"
        f"pid {workdir}/nginx.pid;\nerror_log {workdir}/error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n"
        "  access_log off;\n"
        f"  client_body_temp_path {workdir}/body; proxy_temp_path {workdir}/proxy;\n"
        f"  fastcgi_temp_path {workdir}/fcgi; uwsgi_temp_path {workdir}/uwsgi;\n"
        f"  scgi_temp_path {workdir}/scgi;\n"
        f"  include {workdir}/anonmsg.conf;\n"
        "}\n"
    )
    return config


def start_nginx(config: Path, workdir: Path) -> subprocess.Popen:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        sys.exit("nginx is not installed: apt-get install nginx")
    test = subprocess.run([nginx, "-t", "-p", str(workdir), "-c", str(config)], capture_output=True)
    if test.returncode:
        sys.exit(f"nginx refused the configuration:\n{test.stderr.decode()}")
    return subprocess.Popen(
        [nginx, "-p", str(workdir), "-c", str(config), "-g", "daemon off;"],
        start_new_session=True,
    )


def wait_until_answering(port: int, process: subprocess.Popen, name: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited; see its output above.")
        if get_healthz(port, timeout=2)[0] == 200:
            return
        time.sleep(0.2)
    sys.exit(f"{name} did not answer /healthz on port {port}.")


def get_healthz(port: int, *, timeout: float) -> tuple[int | None, float]:
    """(status or None on time-out/error, seconds)."""
    started = time.monotonic()
    try:
        connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
        connection.request("GET", "/healthz")
        status = connection.getresponse().status
        connection.close()
    except OSError:
        status = None
    return status, time.monotonic() - started


def slow_client(port: int, stop: threading.Event, opened: list) -> None:
    """Sends the request head one byte a second until told to stop; never finishes it."""
    try:
        connection = socket.create_connection((HOST, port), timeout=5)
    except OSError:
        return
    opened.append(1)
    try:
        for byte in SLOW_HEAD:
            connection.sendall(bytes([byte]))
            if stop.wait(1.0):
                break
    except OSError:
        pass  # the server gave up on us: what nginx's client_header_timeout does
    finally:
        connection.close()


def attack(port: int, *, slow: int, seconds: float) -> dict:
    stop = threading.Event()
    opened: list = []
    threads = [
        threading.Thread(target=slow_client, args=(port, stop, opened), daemon=True)
        for _ in range(slow)
    ]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # one by one, as an attacker would: each lands on some worker
    time.sleep(1.5)  # every slow client has sent its first bytes and holds a thread if it can
    results = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        started = time.monotonic()
        results.append(get_healthz(port, timeout=2.0))
        time.sleep(max(0.0, 0.5 - (time.monotonic() - started)))
    stop.set()
    for thread in threads:
        thread.join(timeout=5)
    answered = [elapsed for status, elapsed in results if status == 200]
    return {
        "sent": len(results),
        "answered": len(answered),
        "timed_out": sum(1 for status, _ in results if status is None),
        "median": statistics.median(answered) if answered else None,
        "max": max(answered) if answered else None,
        "slow_opened": len(opened),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--slow", type=int, default=32, help="slow-header connections")
    parser.add_argument("--seconds", type=float, default=12, help="per target (at most 20)")
    parser.add_argument("--gunicorn-port", type=int, default=9152)
    parser.add_argument("--nginx-port", type=int, default=9153)
    args = parser.parse_args()
    seconds = min(args.seconds, 20.0)
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="anonmsg-slow-") as tmp:
        workdir = Path(tmp)
        gunicorn = start_gunicorn(args.gunicorn_port, workdir)
        nginx = None
        try:
            wait_until_answering(args.gunicorn_port, gunicorn, "gunicorn")
            nginx = start_nginx(nginx_config(workdir, args.nginx_port, args.gunicorn_port), workdir)
            wait_until_answering(args.nginx_port, nginx, "nginx")
            rows = []
            for name, port in [
                ("gunicorn directly", args.gunicorn_port),
                ("through nginx", args.nginx_port),
            ]:
                result = attack(port, slow=args.slow, seconds=seconds)
                rows.append(
                    [
                        name,
                        f"{result['slow_opened']}/{args.slow}",
                        result["sent"],
                        result["answered"],
                        result["timed_out"],
                        f"{result['median'] * 1000:.0f} ms" if result["median"] else "-",
                        f"{result['max'] * 1000:.0f} ms" if result["max"] else "-",
                    ]
                )
                time.sleep(1)  # let the server drop the slow connections before the next run
        finally:
            for process in (nginx, gunicorn):
                if process is not None and process.poll() is None:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=30)
    print(
        f"\n{args.slow} slow-header connections (1 byte/s); GET /healthz every 0.5 s, "
        f"2 s allowed each, for {seconds:.0f} s per target (gunicorn: 2 workers x 4 threads)\n"
    )
    print_table(
        [
            "target",
            "slow conns open",
            "health checks",
            "answered",
            "timed out",
            "median",
            "max",
        ],
        rows,
    )
    print(f"\ntotal run time {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
