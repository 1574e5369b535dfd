"""The web processes' gunicorn worker: gthread, taking a new connection only with a thread free.

gunicorn's gthread workers all wait on the one listening socket, and whichever wakes first
accepts; a worker with its threads busy keeps accepting and queues the new connection behind
them. Keep-alive connections then stay where they landed: twelve connections opened at once
(wrk, or nginx's upstream pool, `keepalive 16`) were measured spread 9, 1 and 2 over three
workers, so one process, bound by its GIL, served three quarters of the requests while the
machine had a core idle a tenth of the time. Here a worker woken by a new connection while
every one of its threads has a request in hand leaves the connection to another worker (or to
the kernel's backlog, until the first thread anywhere is free, as with sync workers) and stops
listening until one of its own threads is done. Idle keep-alive connections take no thread
and do not count. A worker that is not full never stops listening, so a steady stream of
requests on open connections costs nothing more. (docs/operations.md, "Production settings".)

It relies on gthread's hooks of gunicorn 27 (`accept`, `enqueue_req`, `finish_request`,
`set_accept_enabled`), all called on the worker's main thread: the pin in pyproject.toml and
tests/anonmsg/test_web_worker.py say when they change.
"""

from gunicorn.workers.gthread import ThreadWorker


class BalancedThreadWorker(ThreadWorker):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.requests_in_hand = 0  # handed to the thread pool, not finished yet

    def accept(self, listener):
        if self._has_free_thread():
            super().accept(listener)
        else:
            super().set_accept_enabled(False)  # until a thread is free: see set_accept_enabled

    def enqueue_req(self, conn):
        self.requests_in_hand += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs):
        self.requests_in_hand -= 1
        super().finish_request(conn, fs)  # may hand the connection's next request on at once

    def set_accept_enabled(self, enabled):
        # The main loop asks to listen again whenever it is under `worker_connections`, and it
        # loops after every finished request: when a thread comes free.
        super().set_accept_enabled(enabled and self._has_free_thread())

    def _has_free_thread(self) -> bool:
        return self.requests_in_hand < self.cfg.threads
