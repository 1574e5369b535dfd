"""New visitors on the delivery hot path: `fresh=1` (the SDK has reported nothing for this
anonymous id) is answered from the workspace's cached entries and the page's memoised answer,
with no query, unless someone wrote state for the id; and every visitor without state gets the
page's memoised answer, which still follows the schedule.

Transactional tests, as in test_delivery_cache.py (invalidation happens on real commits).
"""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from campaigns.lifecycle import pause_message
from delivery.models import VisitorMessageState
from delivery.sdk_api import visitor_state
from tests.delivery.test_delivery_cache import ANON, URL, ids, launched, report
from tests.delivery.tracking_helpers import send
from tests.factories import VisitorFactory, VisitorMessageStateFactory

pytestmark = pytest.mark.django_db(transaction=True)

NEW_ID = "5d1c1a4e-0f6b-4d55-b1de-7e0c7c9f0a11"


@pytest.fixture(autouse=True)
def state_cache(settings):
    settings.DELIVERY_STATE_CACHE = True


def ask(client, workspace, anonymous_id=ANON, *, fresh="1", url="https://shop.example.com/pricing"):
    query = {"writeKey": workspace.write_key, "anonymousId": anonymous_id, "url": url}
    if fresh is not None:
        query["fresh"] = fresh
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    return response.json()


def warm_workspace(client, workspace):
    """Teach this process the write key and cache the workspace (another visitor's asks)."""
    ask(client, workspace, "someone-else", fresh=None)
    ask(client, workspace, "someone-else", fresh=None)


def test_a_new_visitor_with_the_fresh_hint_costs_no_query(
    client, workspace, django_assert_num_queries
):
    message = launched(workspace)
    warm_workspace(client, workspace)
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace, NEW_ID)) == [message.pk]
    with django_assert_num_queries(0):  # another new visitor, another page: still none
        body = ask(client, workspace, NEW_ID + "-2", url="https://shop.example.com/blog")
    assert ids(body) == [message.pk]


def test_a_new_visitor_gets_what_a_visitor_without_state_gets(client, workspace):
    first = launched(workspace, priority=1)
    second = launched(workspace, priority=2, display_type="banner", display_position="top")
    launched(workspace, priority=3)  # a second modal: its slot is taken
    warm_workspace(client, workspace)
    fresh = ask(client, workspace, NEW_ID)
    assert ids(fresh) == [first.pk, second.pk]
    assert fresh == ask(client, workspace, NEW_ID + "-other", fresh=None)


def test_a_dismissal_reported_by_the_visitor_ends_the_fresh_claim(client, workspace):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace)) == [message.pk]
    report(client, workspace, "dismissed_content", message)
    # An SDK that still says fresh (a stale tab, a liar) is not believed: a writer set a token.
    assert ids(ask(client, workspace)) == []


def test_a_server_side_identify_of_a_fresh_id_stops_anonymous_messages(client, workspace):
    launched(workspace)
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace))
    response = send(
        client,
        "identify",
        {"anonymousId": ANON, "userId": "user-1", "traits": {"email": "a@example.com"}},
        write_key=workspace.write_key,
    )
    assert response.status_code == 200
    body = ask(client, workspace)
    assert (ids(body), body["reason"]) == ([], "identified")


def test_a_state_saved_through_the_orm_ends_the_fresh_claim(client, workspace):
    message = launched(workspace, frequency_mode="until_dismissed")
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace)) == [message.pk]
    VisitorMessageStateFactory(  # an admin edit, a shell
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON),
        message=message,
        dismissed_at=timezone.now(),
    )
    assert ids(ask(client, workspace)) == []


def test_the_claim_is_believed_only_while_no_writer_token_exists(client, workspace):
    """The documented limit: state written while no token records it (Redis lost the key)
    is not seen by a client that claims fresh; only that client gets the wrong answer."""
    message = launched(workspace, frequency_mode="until_dismissed")
    state = VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON), message=message
    )
    VisitorMessageState.objects.filter(pk=state.pk).update(dismissed_at=timezone.now())
    warm_workspace(client, workspace)
    cache.delete(visitor_state._visitor_token_key(workspace.pk, ANON))
    assert ids(ask(client, workspace)) == [message.pk]  # believed: the client said fresh
    assert ids(ask(client, workspace, fresh=None)) == []  # asked honestly: the database


@pytest.mark.parametrize("value", ["0", "true", "yes", ""])
def test_other_values_of_fresh_are_not_a_claim(client, workspace, value):
    message = launched(workspace, frequency_mode="until_dismissed")
    VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON),
        message=message,
        dismissed_at=timezone.now(),
    )
    warm_workspace(client, workspace)
    token_key = visitor_state._visitor_token_key(workspace.pk, ANON)
    cache.delete(token_key)
    assert ids(ask(client, workspace, fresh=value)) == []
    cache.delete(token_key)
    assert ids(ask(client, workspace, fresh="1")) == [message.pk]  # what a claim would do


def test_a_content_change_reaches_new_visitors_at_once(client, workspace):
    message = launched(workspace)
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace, NEW_ID)) == [message.pk]
    pause_message(message=message)
    assert ids(ask(client, workspace, NEW_ID + "-2")) == []


def test_the_memoised_answer_starts_and_ends_messages_on_time(client, workspace, monkeypatch):
    now = timezone.now()
    later = launched(workspace, starts_at=now + timedelta(hours=1))
    ending = launched(
        workspace, ends_at=now + timedelta(hours=3), display_type="banner", display_position="top"
    )
    warm_workspace(client, workspace)
    assert ids(ask(client, workspace, NEW_ID)) == [ending.pk]
    monkeypatch.setattr(
        "delivery.sdk_api.live_messages.timezone.now", lambda: now + timedelta(hours=2)
    )
    assert ids(ask(client, workspace, NEW_ID + "-2")) == [later.pk, ending.pk]
    monkeypatch.setattr(
        "delivery.sdk_api.live_messages.timezone.now", lambda: now + timedelta(hours=4)
    )
    assert ids(ask(client, workspace, NEW_ID + "-3")) == [later.pk]


def test_a_warm_returning_visitor_with_state_costs_no_query(
    client, workspace, django_assert_num_queries
):
    message = launched(workspace)
    elsewhere = launched(workspace, display_type="banner", display_position="top")
    VisitorMessageStateFactory(
        visitor=VisitorFactory(workspace=workspace, anonymous_id=ANON),
        message=elsewhere,
        dismissed_at=timezone.now(),
    )
    ask(client, workspace, fresh=None)
    ask(client, workspace, fresh=None)
    with django_assert_num_queries(0):
        assert ids(ask(client, workspace, fresh=None)) == [message.pk]
