"""The delivery state cache (delivery/sdk_api/visitor_state.py): a warm request reads no
database, and every change that matters reaches the very next request.

Transactional tests: invalidation happens when a transaction really commits, as in production.
The cache here is the in-process memory cache (one process: correct); test_redis_cache.py runs
the same path against a real Redis.
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from anonmsg.models import Plan
from campaigns.lifecycle import pause_message
from delivery.models import Visitor, VisitorMessageState
from delivery.retention import purge_anonymous_data
from delivery.sdk_api import live_messages, visitor_state
from tests.delivery.tracking_helpers import send
from tests.factories import (
    AnonymousMessageFactory,
    ProfileFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/delivery"
ANON = "0b6f3c52-8d1e-4c0a-9f57-2a4f1e9d7c30"


@pytest.fixture(autouse=True)
def state_cache(settings):
    settings.DELIVERY_STATE_CACHE = True


def launched(workspace, **fields):
    return AnonymousMessageFactory(workspace=workspace, launched=True, **fields)


def ask(client, workspace, anonymous_id=ANON):
    response = client.get(
        URL,
        {
            "writeKey": workspace.write_key,
            "anonymousId": anonymous_id,
            "url": "https://shop.example.com/pricing",
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def ids(body):
    return [message["id"] for message in body["messages"]]


def warm(client, workspace, anonymous_id=ANON):
    """The first request teaches this process the write key, the second fills the cache."""
    first = ask(client, workspace, anonymous_id)
    assert ask(client, workspace, anonymous_id) == first
    return first


def report(client, workspace, action_type, message, anonymous_id=ANON):
    event = {
        "type": "track",
        "anonymousId": anonymous_id,
        "event": "Report Content Event",
        "properties": {
            "actionType": action_type,
            "contentId": message.pk,
            "contentType": "in_app_content",
        },
    }
    response = send(client, "batch", {"batch": [event]}, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


# --- No database when warm ------------------------------------------------------------------


def test_a_warm_request_makes_no_query(client, workspace, django_assert_num_queries):
    message = launched(workspace)
    visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
    VisitorMessageStateFactory(visitor=visitor, message=launched(workspace), dismissed_at=None)
    warm(client, workspace)
    with django_assert_num_queries(0):
        body = ask(client, workspace)
    assert message.pk in ids(body)


def test_another_process_uses_the_entries_after_one_query_for_the_write_key(
    client, workspace, django_assert_num_queries
):
    message = launched(workspace)
    warm(client, workspace)
    visitor_state.clear_local()
    live_messages.clear_local()  # a new process: nothing in its memory, the shared cache full
    with django_assert_num_queries(1):  # the write key → workspace id, once per process
        assert ids(ask(client, workspace)) == [message.pk]
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace)) == [message.pk]


def test_visitors_do_not_share_entries(client, workspace):
    message = launched(workspace)
    VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id="dismissed-it"),
        message=message,
        dismissed_at=timezone.now(),
    )
    warm(client, workspace, "dismissed-it")
    warm(client, workspace)
    assert ids(ask(client, workspace, "dismissed-it")) == []
    assert ids(ask(client, workspace)) == [message.pk]


def test_a_write_key_that_matches_no_workspace_is_never_cached(client, workspace):
    launched(workspace)
    warm(client, workspace)
    response = client.get(URL, {"writeKey": "wk_nobody", "anonymousId": ANON, "url": "https://x"})
    assert response.status_code == 401
    response = client.get(URL, {"writeKey": "wk_nobody", "anonymousId": ANON, "url": "https://x"})
    assert response.status_code == 401


# --- Tracking changes reach the next request ------------------------------------------------


def test_a_view_reported_through_tracking_counts_at_once(client, workspace):
    message = launched(workspace, frequency_mode="times", frequency_times=1)
    assert ids(warm(client, workspace)) == [message.pk]
    report(client, workspace, "viewed_content", message)
    assert ids(ask(client, workspace)) == []


def test_a_dismissal_reported_through_tracking_stops_the_message_at_once(client, workspace):
    message = launched(workspace, frequency_mode="until_dismissed")
    assert ids(warm(client, workspace)) == [message.pk]
    report(client, workspace, "dismissed_content", message)
    assert ids(ask(client, workspace)) == []


def test_a_click_reported_through_tracking_stops_the_message_at_once(client, workspace):
    message = launched(workspace, frequency_mode="until_dismissed")
    assert ids(warm(client, workspace)) == [message.pk]
    report(client, workspace, "clicked_content", message)
    assert ids(ask(client, workspace)) == []


def test_another_visitors_events_leave_this_visitors_entry_valid(
    client, workspace, django_assert_num_queries
):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm(client, workspace)
    report(client, workspace, "dismissed_content", message, anonymous_id="someone-else")
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace)) == [message.pk]


def test_identify_through_tracking_stops_anonymous_messages_at_once(client, workspace):
    launched(workspace)
    assert ids(warm(client, workspace))
    response = send(
        client,
        "identify",
        {"anonymousId": ANON, "userId": "user-1", "traits": {"email": "a@example.com"}},
        write_key=workspace.write_key,
    )
    assert response.status_code == 200
    body = ask(client, workspace)
    assert (ids(body), body["reason"]) == ([], "identified")


def test_an_alias_of_the_anonymous_id_stops_anonymous_messages_at_once(client, workspace):
    launched(workspace)
    assert ids(warm(client, workspace))
    response = send(
        client, "alias", {"userId": "user-1", "previousId": ANON}, write_key=workspace.write_key
    )
    assert response.status_code == 200
    body = ask(client, workspace)
    assert (ids(body), body["reason"]) == ([], "identified")


# --- Workspace and content changes ----------------------------------------------------------


def test_pausing_a_message_reaches_the_next_request(client, workspace):
    message = launched(workspace)
    assert ids(warm(client, workspace)) == [message.pk]
    pause_message(message=message)
    assert ids(ask(client, workspace)) == []


def test_turning_in_app_off_reaches_the_next_request(client, workspace):
    launched(workspace)
    assert ids(warm(client, workspace))
    workspace.inapp_enabled = False
    workspace.save(update_fields=["inapp_enabled"])
    assert ask(client, workspace)["reason"] == "inapp_disabled"


def test_a_downgrade_to_free_reaches_the_next_request(client, workspace):
    launched(workspace)
    assert ids(warm(client, workspace))
    workspace.plan = Plan.FREE
    workspace.save()
    assert ask(client, workspace)["reason"] == "plan"


def test_a_state_edited_in_admin_reaches_the_next_request(client, workspace):
    message = launched(workspace, frequency_mode="until_dismissed")
    state = VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON), message=message, views=1
    )
    assert ids(warm(client, workspace)) == [message.pk]
    state.dismissed_at = timezone.now()
    state.save()
    assert ids(ask(client, workspace)) == []


def test_deleting_the_profile_makes_its_visitors_anonymous_again(client, workspace):
    message = launched(workspace)
    profile = ProfileFactory(workspace=workspace)
    VisitorFactory(workspace=workspace, anonymous_id=ANON, profile=profile)
    assert ask(client, workspace)["reason"] == "identified"
    warm(client, workspace)
    profile.delete()
    assert ids(ask(client, workspace)) == [message.pk]


def test_retention_forgets_the_visitors_it_purges(client, workspace, settings):
    settings.ANONMSG_RETENTION_DAYS = 30
    message = launched(workspace, frequency_mode="until_dismissed")
    long_ago = timezone.now() - timedelta(days=60)
    VisitorMessageStateFactory(
        visitor=VisitorFactory(
            workspace=workspace, anonymous_id=ANON, first_seen_at=long_ago, last_seen_at=long_ago
        ),
        message=message,
        dismissed_at=long_ago,
    )
    assert ids(warm(client, workspace)) == []
    assert purge_anonymous_data().visitors == 1
    assert ids(ask(client, workspace)) == [message.pk]


# --- Concurrency ----------------------------------------------------------------------------


def test_a_change_committed_between_the_read_and_the_store_is_not_hidden(
    client, workspace, monkeypatch
):
    """Another process commits a dismissal (and invalidates) after this request read the
    database but before it stored what it read: the stale entry must never be served."""
    message = launched(workspace, frequency_mode="until_dismissed")
    visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
    state = VisitorMessageStateFactory(visitor=visitor, message=message, views=1)
    ask(client, workspace)  # this process learns the write key; nothing cached yet
    real_query = visitor_state._query

    def query_then_another_process_commits(write_key, anonymous_id):
        result = real_query(write_key, anonymous_id)
        VisitorMessageState.objects.filter(pk=state.pk).update(dismissed_at=timezone.now())
        visitor_state.forget_visitors(workspace.pk, [ANON])  # autocommit: runs at once
        return result

    monkeypatch.setattr(visitor_state, "_query", query_then_another_process_commits)
    assert ids(ask(client, workspace)) == [message.pk]  # read before the dismissal: fine
    monkeypatch.setattr(visitor_state, "_query", real_query)
    assert ids(ask(client, workspace)) == []
    assert ids(ask(client, workspace)) == []


def test_an_invalidation_is_sent_only_after_commit(client, workspace):
    """Inside a transaction the token must survive: a reader could otherwise cache the
    pre-commit state under a fresh token."""
    from django.db import transaction

    message = launched(workspace, frequency_mode="until_dismissed")
    visitor = VisitorFactory(workspace=workspace, anonymous_id=ANON)
    warm(client, workspace)
    token_key = visitor_state._visitor_token_key(workspace.pk, ANON)
    token = cache.get(token_key)
    assert token is not None
    with transaction.atomic():
        VisitorMessageState.objects.create(
            visitor=visitor, message=message, dismissed_at=timezone.now()
        )
        visitor_state.forget_visitors(workspace.pk, [ANON])
        assert cache.get(token_key) == token
    # Renewed, not deleted: a fresh claim for this id is no longer believed either.
    assert cache.get(token_key) not in (None, token)
    assert ids(ask(client, workspace)) == []


# --- Off --------------------------------------------------------------------------------------


def test_without_the_state_cache_every_request_reads_the_database(
    client, workspace, settings, django_assert_num_queries
):
    settings.DELIVERY_STATE_CACHE = False
    message = launched(workspace)
    warm(client, workspace)
    with django_assert_num_queries(1):
        assert ids(ask(client, workspace)) == [message.pk]
    Visitor.objects.create(
        workspace=workspace,
        anonymous_id=ANON,
        profile=ProfileFactory(workspace=workspace),
        first_seen_at=timezone.now(),
        last_seen_at=timezone.now(),
    )
    assert ask(client, workspace)["reason"] == "identified"
