"""The Procfile's gunicorn worker takes a connection only with a thread free (anonmsg/web_worker.py).

Run as production runs it: the Procfile's web command, three processes of two threads. Twelve
connections opened at once and not yet sending anything each hold a thread (gthread waits up
to 5 s for a new connection's first request): gthread's own worker accepts all twelve, queued
behind busy threads, and however the kernel hands them out (measured: 9, 1 and 2 over three
workers); this one accepts two per process and leaves the other six in the backlog until a
thread is free, and then serves every one of them.
"""

import http.client
import os
import re
import socket
import time
from collections import Counter
from pathlib import Path

from tests.procfile_web import procfile_web

PROCESSES, THREADS = 3, 2


def test_each_process_takes_only_the_connections_it_has_threads_for(tmp_path):
    with procfile_web(tmp_path, WEB_CONCURRENCY=str(PROCESSES), WEB_THREADS=str(THREADS)) as (
        port,
        log,
    ):
        wait_for_every_worker(port, log)
        clients = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(12)]
        try:
            deadline = time.monotonic() + 3
            while sum(accepted_connections(port).values()) < PROCESSES * THREADS:
                assert time.monotonic() < deadline, accepted_connections(port)
                time.sleep(0.05)
            time.sleep(0.3)  # time enough to take more, had they been taken
            per_process = accepted_connections(port)
            assert sorted(per_process.values()) == [THREADS] * PROCESSES, per_process

            for client in clients:
                client.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            for client in clients:  # the six left waiting are accepted as threads come free
                assert read_status(client) == 200, log.read_text()
        finally:
            for client in clients:
                client.close()


def wait_for_every_worker(port: int, log) -> None:
    """Until every worker listens (has loaded the project and entered its loop): gthread holds
    a thread at most 5 s for a new connection that sends nothing, so a worker still starting
    must not leave its share to the others meanwhile. Read from /proc: a worker listens when
    its epoll set holds the listening socket."""
    deadline = time.monotonic() + 30
    while len(listening_workers(port)) < PROCESSES:
        assert time.monotonic() < deadline, log.read_text()
        time.sleep(0.1)


def listening_workers(port: int) -> set[int]:
    (listener,) = socket_inodes(port, state="0A")  # LISTEN
    workers = set()
    for pid, fds in open_sockets().items():
        listener_fds = [fd for fd, inode in fds.items() if inode == listener]
        for fd in os.listdir(f"/proc/{pid}/fd") if listener_fds else ():
            try:
                if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:[eventpoll]":
                    continue
                registered = Path(f"/proc/{pid}/fdinfo/{fd}").read_text()
            except OSError:
                continue
            if any(re.search(rf"^tfd:\s+{n} ", registered, re.M) for n in listener_fds):
                workers.add(pid)
    return workers


def accepted_connections(port: int) -> Counter:
    """pid → established connections it holds whose server side is `port`."""
    established = socket_inodes(port, state="01")
    return Counter(
        {
            pid: count
            for pid, fds in open_sockets().items()
            if (count := sum(inode in established for inode in fds.values()))
        }
    )


def socket_inodes(port: int, *, state: str) -> set[str]:
    """Inodes of the IPv4 TCP sockets whose local port is `port`, in `state` (/proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == state:
            inodes.add(fields[9])
    return inodes


def open_sockets() -> dict[int, dict[int, str]]:
    """pid → {fd: socket inode} of every process we may read."""
    found = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        fds = {}
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                match = re.fullmatch(r"socket:\[(\d+)\]", os.readlink(f"/proc/{pid}/fd/{fd}"))
                if match:
                    fds[int(fd)] = match.group(1)
        except OSError:  # gone, or not ours to read
            continue
        found[int(pid)] = fds
    return found


def read_status(client: socket.socket) -> int:
    response = http.client.HTTPResponse(client)
    response.begin()
    response.read()
    return response.status
