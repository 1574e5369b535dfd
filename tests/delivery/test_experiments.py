"""Experiments in delivery and tracking (DESIGN.md §5; docs/campaigns.md "Experiments"):
eligibility first, then the visitor's arm; a held-out visitor gets an entry without content
and reports an exposure, counted once per visitor and message."""

import uuid

import pytest
from django.utils import timezone

from campaigns import assignment
from campaigns.models import MessageVariant
from campaigns.rules import web_page
from delivery.experiment_exposures import exposed_visitors_by_arm
from delivery.models import Event, VisitorMessageState
from delivery.sdk_api import eligibility, live_messages, visitor_state
from delivery.sdk_api.eligibility import MessageState
from tests.delivery.tracking_helpers import send
from tests.factories import (
    AnonymousMessageFactory,
    PageRuleFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)

URL = "/api/v1/delivery"
PAGE = "https://shop.example.com/pricing"
HTML_A = '<h1>Plan A</h1><button data-action="take-a">Take A</button>'
HTML_B = (
    '<h1>Plan B</h1><button data-action="take-b">Take B</button><button data-dismiss>×</button>'
)


@pytest.fixture(autouse=True)
def state_cache(settings):
    settings.DELIVERY_STATE_CACHE = True


def experiment(workspace, *, holdout=10, weights=(50, 50), **fields):
    """A launched message with variants B… (HTML_B…), a holdout and a fixed seed."""
    fields.setdefault("content_html", HTML_A)
    message = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        variant_a_weight=weights[0],
        holdout_percent=holdout,
        experiment_seed="5eed5eed5eed5eed",
        **fields,
    )
    for key, weight in zip("BCD", weights[1:], strict=False):
        MessageVariant.objects.create(
            message=message, key=key, weight=weight, content_html=HTML_B.replace("B", key)
        )
    return message


def arm_of(message, anonymous_id):
    message.refresh_from_db()
    weights = [("A", message.variant_a_weight)] + [
        (v.key, v.weight) for v in message.variants.all()
    ]
    return assignment.assign(
        message_id=message.pk,
        seed=message.experiment_seed,
        anonymous_id=anonymous_id,
        holdout_percent=message.holdout_percent,
        weights=weights,
    )


def visitor_in(message, arm, *, skip=0):
    """An anonymous id that the message's split puts in `arm` (the `skip`-th one found)."""
    for number in range(10_000):
        anonymous_id = str(uuid.UUID(int=number * 7919 + 1, version=4))
        if arm_of(message, anonymous_id) == arm:
            if skip == 0:
                return anonymous_id
            skip -= 1
    raise AssertionError(f"no visitor in {arm}")


def ask(client, workspace, anonymous_id, **params):
    query = {"writeKey": workspace.write_key, "anonymousId": anonymous_id, "url": PAGE, **params}
    response = client.get(URL, query)
    assert response.status_code == 200, response.content
    return response.json()["messages"]


def report(client, workspace, anonymous_id, action_type, message, **properties):
    event = {
        "type": "track",
        "anonymousId": anonymous_id,
        "event": "Report Content Event",
        "properties": {
            "actionType": action_type,
            "contentId": message.pk,
            "contentType": "in_app_content",
            **properties,
        },
    }
    response = send(client, "batch", {"batch": [event]}, write_key=workspace.write_key)
    assert response.status_code == 200, response.content


# --- The answer per arm ---------------------------------------------------------------------


def test_each_arm_gets_its_own_answer(client, workspace):
    message = experiment(workspace)

    (a,) = ask(client, workspace, visitor_in(message, "A"))
    assert (a["id"], a["variant"], a["html"], a["label"]) == (message.pk, "A", HTML_A, "Plan A")
    assert [action["name"] for action in a["actions"]] == ["take-a"]

    (b,) = ask(client, workspace, visitor_in(message, "B"))
    assert (b["id"], b["variant"], b["html"], b["label"]) == (message.pk, "B", HTML_B, "Plan B")
    assert [action["name"] for action in b["actions"]] == ["take-b"]
    assert b["display"] == a["display"]  # no display of its own: as variant A
    assert b["frequency"] == a["frequency"]

    # Held out: the message's id, nothing to show, and the trigger to wait for before the
    # exposure is reported (the visitor is exposed when the message would have shown).
    assert ask(client, workspace, visitor_in(message, "holdout")) == [
        {"id": message.pk, "holdout": True, "trigger": {"type": "page_load"}}
    ]


def test_a_message_without_an_experiment_carries_no_variant(client, workspace):
    AnonymousMessageFactory(workspace=workspace, launched=True)
    (answer,) = ask(client, workspace, str(uuid.uuid4()))
    assert "variant" not in answer and "holdout" not in answer


def test_a_visitor_keeps_their_arm_on_every_request_and_in_every_process(client, workspace):
    message = experiment(workspace, holdout=20, weights=(34, 33, 33))
    visitors = [str(uuid.UUID(int=n, version=4)) for n in range(1, 31)]
    first = {v: ask(client, workspace, v) for v in visitors}
    assert {tuple(m.get("variant", "holdout") for m in answer) for answer in first.values()} == {
        ("A",),
        ("B",),
        ("C",),
        ("holdout",),
    }
    for _ in range(2):
        live_messages.clear_local()  # another process: its memory empty
        visitor_state.clear_local()
        assert {v: ask(client, workspace, v) for v in visitors} == first
    for v, answer in first.items():
        assert answer[0].get("variant", "holdout") == arm_of(message, v)


def test_a_returning_visitor_keeps_their_arm_too(client, workspace):
    message = experiment(workspace)
    visitor_b = visitor_in(message, "B")
    report(client, workspace, visitor_b, "viewed_content", message, variant="B")
    for _ in range(3):
        (answer,) = ask(client, workspace, visitor_b)
        assert answer["variant"] == "B"


def test_editing_a_variants_content_keeps_every_assignment(client, workspace):
    message = experiment(workspace, holdout=0)
    visitors = [str(uuid.UUID(int=n, version=4)) for n in range(100, 120)]
    before = {v: ask(client, workspace, v)[0]["variant"] for v in visitors}
    variant = message.variants.get(key="B")
    variant.content_html = "<h1>Plan B, reworded</h1>"
    variant.save()
    after = {v: ask(client, workspace, v)[0] for v in visitors}
    assert {v: answer["variant"] for v, answer in after.items()} == before
    assert {answer["label"] for answer in after.values() if answer["variant"] == "B"} == {
        "Plan B, reworded"
    }


# --- Eligibility first, then the arm --------------------------------------------------------


def test_eligibility_is_decided_first_for_every_arm(client, workspace):
    message = experiment(workspace)
    PageRuleFactory(message=message, value="/pricing")
    for arm in ("A", "B", "holdout"):
        anonymous_id = visitor_in(message, arm)
        assert ask(client, workspace, anonymous_id, url="https://shop.example.com/blog") == []
        visitor = VisitorFactory(workspace=workspace, anonymous_id=anonymous_id)
        VisitorMessageStateFactory(visitor=visitor, message=message, dismissed_at=timezone.now())
        assert ask(client, workspace, anonymous_id) == [], arm


def test_a_held_out_visitor_keeps_the_messages_slot(client, workspace):
    message = experiment(workspace, priority=1)
    other_modal = AnonymousMessageFactory(workspace=workspace, launched=True, priority=2)
    banner = AnonymousMessageFactory(
        workspace=workspace, launched=True, priority=3, display_type="banner"
    )
    held_out = ask(client, workspace, visitor_in(message, "holdout"))
    # Nothing else shows in its place, so the arms compare fairly; other slots are unaffected.
    assert [(m["id"], m.get("holdout")) for m in held_out] == [
        (message.pk, True),
        (banner.pk, None),
    ]
    assert other_modal.pk not in [m["id"] for m in ask(client, workspace, visitor_in(message, "B"))]


def test_a_variant_with_its_own_display_takes_that_display_and_its_slot(client, workspace):
    message = experiment(workspace, holdout=0)
    message.variants.filter(key="B").update(display_type="overlay", display_position="top-left")
    workspace.bump_content_version()  # a bulk update sends no signal
    other_modal = AnonymousMessageFactory(workspace=workspace, launched=True, priority=5)

    in_b = ask(client, workspace, visitor_in(message, "B"))
    assert [m["id"] for m in in_b] == [message.pk, other_modal.pk]
    assert in_b[0]["display"]["type"] == "overlay"
    assert in_b[0]["display"]["position"] == "top-left"
    assert [m["id"] for m in ask(client, workspace, visitor_in(message, "A"))] == [message.pk]


def test_the_reference_decisions_agree_with_the_hot_path_on_experiments(workspace):
    message = experiment(workspace, priority=1)
    AnonymousMessageFactory(workspace=workspace, launched=True, priority=2)
    messages = live_messages.load_live_messages(workspace_id=workspace.pk)
    now = timezone.now()
    for number in range(200):
        anonymous_id = str(uuid.UUID(int=number, version=4))
        states = {message.pk: MessageState(views=1)} if number % 3 == 0 else {}
        decided = eligibility.delivered(
            eligibility.decide(
                messages=messages,
                page=web_page(PAGE),
                now=now,
                states=states,
                anonymous_id=anonymous_id,
            )
        )
        selected = eligibility.select_candidates(
            messages, now=now, states=states, anonymous_id=anonymous_id
        )
        assert [m.payload_json for m in decided] == [m.payload_json for m in selected]


# --- Exposure: reported, counted once ---------------------------------------------------------


def test_a_held_out_exposure_reported_twice_counts_once(client, workspace):
    message = experiment(workspace)
    held_out = visitor_in(message, "holdout")
    report(client, workspace, held_out, "held_out", message)
    report(client, workspace, held_out, "held_out", message)  # a second page view

    events = Event.objects.filter(content_id=message.pk, action_type="held_out")
    assert events.count() == 2  # the raw log keeps both
    assert {event.anonymous_id for event in events} == {held_out}
    state = VisitorMessageState.objects.get(message=message)
    assert state.arm == "holdout"
    assert exposed_visitors_by_arm(message.pk) == {"holdout": 1}


def test_exposures_are_counted_per_arm_and_keep_the_first_arm(client, workspace):
    message = experiment(workspace)
    in_b = visitor_in(message, "B")
    report(client, workspace, in_b, "viewed_content", message, variant="B")
    report(client, workspace, visitor_in(message, "A"), "viewed_content", message, variant="A")
    report(client, workspace, visitor_in(message, "A", skip=1), "viewed_content", message, variant="A")  # fmt: skip
    report(client, workspace, visitor_in(message, "holdout"), "held_out", message)
    # A click carries the variant too, but exposure is the first view.
    report(client, workspace, in_b, "clicked_content", message, variant="B", actionName="take-b")
    # After a change of split the same visitor may see A: their exposure stays B.
    report(client, workspace, in_b, "viewed_content", message, variant="A")
    assert exposed_visitors_by_arm(message.pk) == {"A": 2, "B": 1, "holdout": 1}
    assert VisitorMessageState.objects.get(message=message, visitor__anonymous_id=in_b).views == 2


def test_a_view_without_a_variant_is_no_experiment_exposure(client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    report(client, workspace, "anon-1", "viewed_content", message, variant="Z")
    assert VisitorMessageState.objects.get(message=message).arm == ""
    assert exposed_visitors_by_arm(message.pk) == {}


def test_held_out_counts_as_a_view_for_frequency(client, workspace):
    # Shown once at most: a held-out visitor is held out on one page view, then the slot is
    # free for the next message, as it is for a visitor who saw variant A once.
    message = experiment(workspace, frequency_mode="times", frequency_times=1, priority=1)
    other = AnonymousMessageFactory(workspace=workspace, launched=True, priority=2)
    held_out = visitor_in(message, "holdout")
    assert ask(client, workspace, held_out) == [
        {"id": message.pk, "holdout": True, "trigger": {"type": "page_load"}}
    ]
    report(client, workspace, held_out, "held_out", message)
    assert [m["id"] for m in ask(client, workspace, held_out)] == [other.pk]
    in_a = visitor_in(message, "A")
    report(client, workspace, in_a, "viewed_content", message, variant="A")
    assert [m["id"] for m in ask(client, workspace, in_a)] == [other.pk]


def test_a_held_out_report_for_another_workspaces_message_changes_nothing(
    client, workspace, django_user_model
):
    from tests.factories import WorkspaceFactory

    foreign = experiment(WorkspaceFactory())
    report(client, workspace, "anon-1", "held_out", foreign)
    event = Event.objects.get()
    assert (event.content_id, event.action_type) == (None, "")
    assert not VisitorMessageState.objects.exists()


# --- The hot path stays at zero queries ----------------------------------------------------


def test_warm_requests_in_an_experiment_make_no_query(client, workspace, django_assert_num_queries):
    message = experiment(workspace)
    returning = visitor_in(message, "B")
    report(client, workspace, returning, "viewed_content", message, variant="B")
    new_visitors = [visitor_in(message, arm) for arm in ("A", "B", "holdout")]
    for anonymous_id in [returning, *new_visitors]:
        ask(client, workspace, anonymous_id)
        ask(client, workspace, anonymous_id)
    unseen = visitor_in(message, "B", skip=5)
    with django_assert_num_queries(0):
        assert ask(client, workspace, returning)[0]["variant"] == "B"
        for anonymous_id, arm in zip(new_visitors, ("A", "B", "holdout"), strict=True):
            answer = ask(client, workspace, anonymous_id)[0]
            assert answer.get("variant", "holdout") == arm
        # A new visitor's id, never seen: answered from the page's candidates.
        assert ask(client, workspace, unseen, fresh="1")[0]["variant"] == "B"


def test_a_cold_load_of_an_experiment_reads_its_variants_in_one_more_query(
    client, workspace, django_assert_num_queries
):
    experiment(workspace)
    # workspace + visitor state, messages, rules, variants
    with django_assert_num_queries(4):
        ask(client, workspace, str(uuid.uuid4()))


def test_the_preview_of_an_experiment_shows_variant_a(client, workspace):
    from delivery.preview.tokens import make_preview_token

    message = experiment(workspace)
    token = make_preview_token(workspace_id=workspace.pk, message_id=message.pk)
    (answer,) = ask(client, workspace, visitor_in(message, "holdout"), preview=token)
    assert answer["html"] == HTML_A and answer["preview"] is True


# --- The OpenAPI document describes both shapes --------------------------------------------


def test_every_arms_answer_matches_the_documented_schema(client, workspace):
    from tests.campaigns.test_openapi import schema_validator

    message = experiment(workspace)
    for arm in ("A", "B", "holdout"):
        response = client.get(
            URL,
            {"writeKey": workspace.write_key, "anonymousId": visitor_in(message, arm), "url": PAGE},
        )
        assert list(schema_validator("Delivery").iter_errors(response.json())) == [], arm


def test_the_visitor_debugger_says_which_arm_a_visitor_is_in(workspace):
    from delivery.troubleshooting.debugger import debug_visitor

    message = experiment(workspace)
    texts = {}
    for arm in ("B", "holdout"):
        report = debug_visitor(
            workspace=workspace,
            anonymous_id=visitor_in(message, arm),
            page=web_page(PAGE),
            now=timezone.now(),
            focus=None,
        )
        (explanation,) = report.shown
        texts[arm] = explanation.text
    assert texts["B"].startswith("Delivered as variant B here")
    assert texts["holdout"].startswith("Held out by its experiment: nothing is shown")


@pytest.mark.parametrize("own_display", [False, True])
def test_a_new_visitors_memoised_answer_is_their_arms_answer(workspace, own_display):
    message = experiment(workspace, priority=1)
    if own_display:
        message.variants.update(display_type="banner", display_position="top")
    AnonymousMessageFactory(workspace=workspace, launched=True, priority=2)
    AnonymousMessageFactory(workspace=workspace, launched=True, priority=3, display_type="banner")
    workspace.bump_content_version()
    workspace.refresh_from_db()
    version, pages = workspace.content_version, (web_page(PAGE),)
    candidates = live_messages.load_live_messages(workspace_id=workspace.pk)
    now = timezone.now()
    for number in range(100):
        anonymous_id = str(uuid.UUID(int=number + 500, version=4))
        expected = live_messages.messages_body(
            eligibility.select_candidates(candidates, now=now, states={}, anonymous_id=anonymous_id)
        )
        body = live_messages.stateless_body(
            workspace_id=workspace.pk,
            content_version=version,
            pages=pages,
            anonymous_id=anonymous_id,
        )
        assert body == expected
