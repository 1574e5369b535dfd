"""Group commit: the tracking requests a web process is serving at once share one transaction.

A single event costs mostly its statement and commit (a round trip, the WAL flush), not its
rows: a batch of 50 costs about twice a single event. So each request thread hands its
validated events to `record()` and waits. The first thread to find no transaction under way
leads: it takes every request waiting at that moment, records each workspace's in one
transaction (`record_group`: one statement for anonymous calls, recording.py), and wakes each
request with its own outcome. Requests that arrived meanwhile are led by the
first of them, and so on. Nothing waits for a timer: an idle process commits each request at
once, a busy one commits what piled up during the previous commit.

The promises are those of one request per transaction:
- 2xx only after commit: a request returns only once the transaction holding its events has
  committed, and raises what made it fail otherwise;
- exact dedup: a messageId sent by two requests of the same group is recorded once (the
  first), the other request is acknowledged as a duplicate, as it would be one commit later;
- one bad request does not fail the others: when the group's transaction fails on what a
  request holds (a value the database refuses, a workspace or message deleted meanwhile), each
  request is recorded again in a transaction of its own and gets its own outcome. A database
  that is unavailable fails them all (nothing was stored: each answers 503).
Followers do not touch the database at all, so a grouped request also saves its connection's
health check.
"""

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from django.db import DataError, IntegrityError

from delivery.tracking.parsing import IncomingEvent
from delivery.tracking.recording import Recorded, record_events


def _held_lock() -> threading.Lock:
    lock = threading.Lock()
    lock.acquire()
    return lock


@dataclass(eq=False, slots=True)
class Request:
    """One request's events, waiting for the transaction that records them."""

    workspace_id: int
    events: list[IncomingEvent]
    received_at: datetime
    recorded: Recorded | None = None
    error: BaseException | None = None
    finished: bool = False
    # Held from the start; released to wake the request's thread (to lead, or once its group
    # is done). A bare lock: acquire and release are single C calls, where threading.Event's
    # Condition, in Python, took 5 % of a worker's GIL samples for single calls.
    woken: threading.Lock = field(default_factory=_held_lock)


def record_group(requests: list[Request]) -> None:
    """Record several requests' events, one statement or transaction per workspace; each
    request's outcome is set on it (`recorded`, or `error`). See the module's docstring for
    the promises."""
    # In workspace order, as rows within a workspace are: two groups sharing visitors lock
    # them in the same order and cannot deadlock.
    for workspace_id, members in sorted(_by_workspace(requests).items()):
        events, received_at = _merged(members)
        try:
            recorded = record_events(
                workspace_id=workspace_id, events=events, received_at=received_at
            )
        except (DataError, IntegrityError) as exc:
            if len(members) == 1:
                members[0].error = exc
                continue
            # Something one request holds: find out which, each in its own transaction.
            for request in members:
                _record_alone(request)
            continue
        # Committed: only now does any request count as recorded. (Another error, the
        # database unavailable, fails the requests not recorded yet: GroupCommit._lead.)
        for request in members:
            request.recorded = recorded


def _record_alone(request: Request) -> None:
    try:
        request.recorded = record_events(
            workspace_id=request.workspace_id,
            events=request.events,
            received_at=request.received_at,
        )
    except Exception as exc:  # noqa: BLE001 - handed to the request's own thread, which raises it
        request.error = exc


def _by_workspace(requests: list[Request]) -> dict[int, list[Request]]:
    groups = defaultdict(list)
    for request in requests:
        groups[request.workspace_id].append(request)
    return groups


def _merged(requests: list[Request]) -> tuple[list[IncomingEvent], datetime]:
    """The events of several requests of one workspace, each messageId once (its first
    occurrence, as within a batch), and the latest arrival as their received time: an event
    is never recorded as received before its (clamped) timestamp."""
    seen = set()
    events = []
    for request in requests:
        for event in request.events:
            if event.message_id not in seen:
                seen.add(event.message_id)
                events.append(event)
    return events, max(request.received_at for request in requests)


class GroupCommit:
    """Leads or follows, per the module's docstring. One per process (`record` below)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._waiting: list[Request] = []
        self._leading = False

    def record(
        self, *, workspace_id: int, events: list[IncomingEvent], received_at: datetime
    ) -> Recorded:
        """Record one request's events, sharing the transaction with concurrent requests.
        Returns once they are committed; raises what the database raised otherwise."""
        request = Request(workspace_id=workspace_id, events=events, received_at=received_at)
        with self._lock:
            self._waiting.append(request)
            lead = not self._leading
            self._leading = True
        if not lead:
            request.woken.acquire()
        if not request.finished:  # leading: first in, or handed the lead by the last leader
            self._lead()
        if request.error is not None:
            raise request.error
        return request.recorded

    def waiting(self) -> int:
        """How many requests wait for the transaction under way to end."""
        with self._lock:
            return len(self._waiting)

    def _lead(self) -> None:
        with self._lock:
            group, self._waiting = self._waiting, []
        try:
            record_group(group)
        except BaseException as exc:  # every request of the group fails with it
            for request in group:
                if request.recorded is None and request.error is None:
                    request.error = exc
        finally:
            for request in group:
                request.finished = True
                request.woken.release()
            with self._lock:
                if self._waiting:
                    self._waiting[0].woken.release()  # arrived meanwhile: the first leads
                else:
                    self._leading = False


_process_group = GroupCommit()


def record(*, workspace_id: int, events: list[IncomingEvent], received_at: datetime) -> Recorded:
    """`record_events`, with the concurrent requests of this process in one transaction."""
    return _process_group.record(workspace_id=workspace_id, events=events, received_at=received_at)
