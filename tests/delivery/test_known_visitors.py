"""The filter of visitors with state (delivery/sdk_api/known_visitors.py) on a real Redis: a new
visitor whose client sends no `fresh=1` costs no query once the workspace's filter is built,
and no visitor with state is ever answered as new, whatever order writes, builds, Redis
failures and evictions come in.

Transactional tests: writers add to the filter after their commit, as in production.
"""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from delivery.sdk_api import known_visitors, visitor_state
from delivery.sdk_api.known_visitors import Description
from delivery.tasks import maintain_visitor_filters
from tests.conftest import redis_cache_settings
from tests.delivery.test_delivery_cache import ANON, ask, ids, launched, report
from tests.factories import (
    ProfileFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _no_debts():
    known_visitors.forget_debts()
    yield
    known_visitors.forget_debts()


def warm_workspace(client, workspace):
    """Teach this process the write key and cache the workspace (another visitor asks)."""
    ask(client, workspace, "someone-else")
    ask(client, workspace, "someone-else")


def build(workspace):
    visitors = known_visitors.rebuild(workspace.pk, now=timezone.now())
    assert visitors is not None
    return visitors


def description(redis_cache, workspace):
    from django.core.cache import cache

    value = cache.get(known_visitors.description_key(workspace.pk))
    return None if value is None else Description.decode(value)


def forget_token(workspace, anonymous_id=ANON):
    """What hours without a write leave: no visitor token (WRITTEN_TOKEN_SECONDS)."""
    from django.core.cache import cache

    cache.delete(visitor_state._visitor_token_key(workspace.pk, anonymous_id))


def dismissed_by(workspace, message, anonymous_id=ANON):
    return VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=anonymous_id),
        message=message,
        dismissed_at=timezone.now(),
    )


# --- Pure parts -----------------------------------------------------------------------------


def test_a_description_survives_its_int():
    for described in (Description(0, 20, 1_765_000_000), Description(1, 30, 2_000_000_000)):
        assert Description.decode(described.encode()) == described


def test_the_size_gives_each_visitor_room_and_stays_bounded():
    assert known_visitors.size_log2_for(0) == known_visitors.MIN_SIZE_LOG2
    assert 2 ** known_visitors.size_log2_for(100_000) >= 100_000 * known_visitors.BITS_PER_VISITOR
    assert known_visitors.size_log2_for(10**12) == known_visitors.MAX_SIZE_LOG2


def test_a_visitors_bits_are_distinct_and_inside_the_filter():
    hashes = known_visitors.visitor_hashes(known_visitors.visitor_digest(ANON))
    offsets = known_visitors.bit_offsets(hashes, 20)
    assert len(set(offsets)) == known_visitors.HASHES
    assert all(0 <= offset < 2**20 for offset in offsets)


# --- Delivery with a filter -------------------------------------------------------------------


def test_new_visitors_without_the_hint_cost_no_query_once_the_filter_is_built(
    client, workspace, redis_cache, django_assert_num_queries
):
    message = launched(workspace)
    warm_workspace(client, workspace)
    build(workspace)
    with django_assert_num_queries(0):
        for number in range(5):
            assert ids(ask(client, workspace, f"never-seen-{number}")) == [message.pk]
    # Nothing was cached for them: the filter answers their next request as cheaply.
    digests = {known_visitors.visitor_digest(f"never-seen-{n}").encode() for n in range(5)}
    assert not [key for key in redis_cache.scan_iter() if key.split(b":")[-1] in digests]


def test_a_new_visitor_costs_one_round_trip_once_the_process_has_seen_the_filter(
    client, workspace, redis_cache, redis_round_trips, django_assert_num_queries
):
    message = launched(workspace)
    warm_workspace(client, workspace)
    build(workspace)
    ask(client, workspace, "never-seen-1")  # this process reads the filter's description
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace, "never-seen-2")) == [message.pk]
    assert len(redis_round_trips) == 1
    assert b"MGET" in redis_round_trips[0][0] and b"BITFIELD" in redis_round_trips[0][0]


def test_a_process_that_saw_an_older_filter_reads_the_current_one(
    client, workspace, redis_cache, django_assert_num_queries
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    build(workspace)
    ask(client, workspace, "never-seen-1")  # remembers the first filter
    dismissed_by(workspace, message, "dismissed-before-the-second-build")
    build(workspace)  # the other string; the first expires
    forget_token(workspace, "dismissed-before-the-second-build")
    assert ids(ask(client, workspace, "dismissed-before-the-second-build")) == []
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace, "never-seen-2")) == [message.pk]


def test_with_exact_rate_limits_the_bits_take_a_round_trip_of_their_own(
    client, workspace, redis_cache, settings, redis_round_trips, django_assert_num_queries
):
    settings.RATE_LIMIT_SYNC_MS = 0
    message = launched(workspace, frequency_mode="until_dismissed")
    dismissed_by(workspace, message)
    warm_workspace(client, workspace)
    build(workspace)
    ask(client, workspace, "never-seen-1")
    redis_round_trips.clear()
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace, "never-seen-2")) == [message.pk]
    assert len(redis_round_trips) == 2
    forget_token(workspace)
    assert ids(ask(client, workspace)) == []


def test_without_a_filter_a_new_visitor_is_read_from_the_database(
    client, workspace, redis_cache, django_assert_num_queries
):
    message = launched(workspace)
    warm_workspace(client, workspace)
    with django_assert_num_queries(1):
        assert ids(ask(client, workspace, "never-seen")) == [message.pk]


def test_state_written_before_the_build_is_found_however_long_ago(client, workspace, redis_cache):
    message = launched(workspace, frequency_mode="until_dismissed")
    identified = launched(workspace, display_type="banner", display_position="top")
    dismissed_by(workspace, message)
    VisitorFactory(
        workspace=workspace, anonymous_id="known", profile=ProfileFactory(workspace=workspace)
    )
    VisitorFactory(workspace=workspace, anonymous_id="page-views-only")
    warm_workspace(client, workspace)
    assert build(workspace) == 2  # the dismissal's visitor and the identified one
    for anonymous_id in (ANON, "known", "page-views-only"):
        forget_token(workspace, anonymous_id)
    assert ids(ask(client, workspace)) == [identified.pk]
    body = ask(client, workspace, "known")
    assert (ids(body), body["reason"]) == ([], "identified")
    assert ids(ask(client, workspace, "page-views-only")) == [message.pk, identified.pk]


def test_state_written_after_the_build_is_found_when_its_token_is_gone(
    client, workspace, redis_cache
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    build(workspace)
    visitors = [f"visitor-{number}" for number in range(40)]
    for anonymous_id in visitors:
        assert ids(ask(client, workspace, anonymous_id)) == [message.pk]
        report(client, workspace, "dismissed_content", message, anonymous_id)
        forget_token(workspace, anonymous_id)
    # The write script's bits (Lua) are where the reader (Python) looks for them.
    for anonymous_id in visitors:
        assert ids(ask(client, workspace, anonymous_id)) == []


def test_a_build_keeps_the_writes_that_commit_while_it_reads(
    client, workspace, redis_cache, monkeypatch
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    read = known_visitors._read_into_bits

    def a_dismissal_commits_meanwhile(visitors, size_log2):
        bits = read(visitors, size_log2)  # the database as it was
        report(client, workspace, "dismissed_content", message)
        return bits

    monkeypatch.setattr(known_visitors, "_read_into_bits", a_dismissal_commits_meanwhile)
    assert build(workspace) == 0
    forget_token(workspace)
    assert ids(ask(client, workspace)) == []
    assert ids(ask(client, workspace, "never-seen")) == [message.pk]


def test_a_rebuild_switches_strings_and_lets_the_old_one_expire(client, workspace, redis_cache):
    from django.core.cache import cache

    message = launched(workspace, frequency_mode="until_dismissed")
    dismissed_by(workspace, message)
    build(workspace)
    first = description(redis_cache, workspace)
    build(workspace)
    second = description(redis_cache, workspace)
    assert first.slot != second.slot
    old = cache.make_key(known_visitors._filter_key(workspace.pk, first.slot))
    assert 0 < redis_cache.ttl(old) <= known_visitors.OLD_FILTER_SECONDS
    assert redis_cache.ttl(cache.make_key(known_visitors.description_key(workspace.pk))) > 0
    warm_workspace(client, workspace)
    forget_token(workspace)
    assert ids(ask(client, workspace)) == []


def test_a_filter_string_lost_alone_is_not_believed(client, workspace, redis_cache):
    from django.core.cache import cache

    message = launched(workspace, frequency_mode="until_dismissed")
    dismissed_by(workspace, message)
    build(workspace)
    built = description(redis_cache, workspace)
    redis_cache.delete(cache.make_key(known_visitors._filter_key(workspace.pk, built.slot)))
    warm_workspace(client, workspace)
    forget_token(workspace)
    assert ids(ask(client, workspace)) == []


def test_a_write_that_missed_redis_drops_the_filter_once_redis_answers(
    client, workspace, redis_cache, settings, caplog, django_assert_num_queries
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    build(workspace)
    up = settings.CACHES
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    report(client, workspace, "dismissed_content", message)  # stored; the filter missed it
    settings.CACHES = up
    # Until another write reaches Redis, the filter is wrong: the documented window.
    report(client, workspace, "viewed_content", message, "another-visitor")
    assert description(redis_cache, workspace) is None
    assert "Dropped the visitor filters of workspace(s)" in caplog.text
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace)) == []
    with django_assert_num_queries(1):  # no filter: the database, as before it existed
        ask(client, workspace, "never-seen")
    maintain_visitor_filters()
    assert description(redis_cache, workspace) is not None
    forget_token(workspace)
    assert ids(ask(client, workspace)) == []


def test_a_drop_during_a_build_stops_it_from_switching(client, workspace, redis_cache, monkeypatch):
    launched(workspace)
    read = known_visitors._read_into_bits

    def a_process_pays_its_debt_meanwhile(visitors, size_log2):
        known_visitors._owed.add(workspace.pk)
        visitor_state._renew(workspace.pk, {"someone"})
        return read(visitors, size_log2)

    monkeypatch.setattr(known_visitors, "_read_into_bits", a_process_pays_its_debt_meanwhile)
    assert known_visitors.rebuild(workspace.pk, now=timezone.now()) is None
    assert description(redis_cache, workspace) is None
    assert not [key for key in redis_cache.scan_iter() if key.endswith(b":scratch")]


def test_the_hourly_task_builds_missing_and_day_old_filters_only(workspace, redis_cache):
    other = WorkspaceFactory()
    assert set(maintain_visitor_filters()) == {workspace.pk, other.pk}
    assert maintain_visitor_filters() == {}
    day_ago = timezone.now().timestamp() - known_visitors.REBUILD_AFTER_SECONDS
    from django.core.cache import cache

    built = description(redis_cache, workspace)
    old = Description(built.slot, built.size_log2, int(day_ago))
    cache.set(known_visitors.description_key(workspace.pk), old.encode())
    assert set(maintain_visitor_filters()) == {workspace.pk}


def test_the_hourly_task_rebuilds_a_filter_that_filled_up(client, workspace, redis_cache):
    from django.core.cache import cache

    message = launched(workspace, frequency_mode="until_dismissed")
    build(workspace)
    built = description(redis_cache, workspace)
    assert built.size_log2 == known_visitors.MIN_SIZE_LOG2
    key = cache.make_key(known_visitors._filter_key(workspace.pk, built.slot))
    half = (1 << built.size_log2) // 8 // 2
    redis_cache.setrange(key, 0, b"\xff" * (half - 1))  # half of the bits: not yet full
    assert maintain_visitor_filters() == {}
    redis_cache.setrange(key, 0, b"\xff" * (half + half // 10))  # writers filled it
    for number in range(3):
        dismissed_by(workspace, message, f"visitor-{number}")
    assert maintain_visitor_filters() == {workspace.pk: 3}
    rebuilt = description(redis_cache, workspace)
    assert rebuilt.slot != built.slot
    warm_workspace(client, workspace)
    forget_token(workspace, "visitor-1")
    assert ids(ask(client, workspace, "visitor-1")) == []


def test_with_redis_down_the_task_logs_one_line_and_builds_nothing(settings, caplog):
    workspaces = WorkspaceFactory.create_batch(3)
    settings.CACHES = redis_cache_settings("redis://127.0.0.1:1/0")  # nothing listens there
    settings.DELIVERY_STATE_CACHE = True
    assert maintain_visitor_filters() == {}
    lines = [r for r in caplog.records if r.name == "delivery.sdk_api.known_visitors"]
    assert len(lines) == 1 and "the next hourly run goes on" in lines[0].getMessage()
    with pytest.raises(CommandError, match="Redis failed"):
        call_command("build_visitor_filters", "--workspace", str(workspaces[0].pk))


def test_the_command_builds_every_filter_now(workspace, redis_cache):
    maintain_visitor_filters()
    out = StringIO()
    call_command("build_visitor_filters", stdout=out)
    assert f"Workspace {workspace.pk}: 0 visitor(s) with state." in out.getvalue()
    with pytest.raises(CommandError, match="No workspace has the id 999999"):
        call_command("build_visitor_filters", "--workspace", "999999")


def test_without_redis_there_is_no_filter(client, workspace, settings):
    settings.DELIVERY_STATE_CACHE = True  # the memory cache: single-process setups
    out = StringIO()
    call_command("build_visitor_filters", stdout=out)
    assert "the cache is not Redis" in out.getvalue()
    message = launched(workspace, frequency_mode="until_dismissed")
    dismissed_by(workspace, message)
    assert ids(ask(client, workspace)) == []
