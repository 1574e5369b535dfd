"""App API `experiment` (DESIGN.md §5) and choosing a winner, through the API and the message
page (docs/app-api.md, docs/campaigns.md "Experiments")."""

import pytest
from django.test import Client

from campaigns.lifecycle import duplicate_message
from campaigns.models import AnonymousMessage, MessageVariant, Status
from delivery.models import VisitorMessageState
from tests.campaigns.test_api_messages import LIST_URL, Api, detail_url
from tests.factories import (
    AnonymousMessageFactory,
    MembershipFactory,
    UserFactory,
    VisitorFactory,
    WorkspaceFactory,
)

pytestmark = pytest.mark.django_db

HTML_B = '<h1>Plan B</h1><button data-action="take-b">Take B</button>'
SPLIT = {
    "variants": [
        {"key": "A", "weight": 50},
        {"key": "B", "weight": 50, "content": {"html": HTML_B}, "display": None},
    ],
    "holdoutPercent": 10,
}


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


def create(api, **fields):
    response = api.post(LIST_URL, {"name": "Offer", **fields})
    assert response.status_code == 201, response.content
    return response.json()


def winner_url(message_id):
    return f"{detail_url(message_id)}/choose-winner"


def refused(response, field, text=""):
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["field"] == field, body
    assert text in body["message"], body
    return body


# --- Reading and writing --------------------------------------------------------------------


def test_an_experiment_posted_reads_back_as_sent(api):
    created = create(api, experiment=SPLIT)
    assert created["experiment"] == {**SPLIT, "winner": None}
    assert api.get(detail_url(created["id"])).json()["experiment"] == created["experiment"]
    message = AnonymousMessage.objects.get(pk=created["id"])
    assert len(message.experiment_seed) == 32
    assert message.variants.get().content_label == "Plan B"  # summarised like A's content


def test_a_variant_may_have_its_own_display(api):
    split = {
        "variants": [
            {"key": "A", "weight": 34},
            {"key": "B", "weight": 33, "content": {"html": HTML_B}, "display": None},
            {
                "key": "C",
                "weight": 33,
                "content": {"html": "<h1>C</h1>"},
                "display": {"type": "inline", "position": None, "elementId": "slot"},
            },
        ],
        "holdoutPercent": 0,
    }
    created = create(api, experiment=split)
    assert created["experiment"]["variants"] == split["variants"]
    overlay = {"type": "overlay", "position": None, "elementId": None}
    split["variants"][2]["display"] = overlay
    patched = api.patch(detail_url(created["id"]), {"experiment": split}).json()
    # The type's first position, as for the message's own display.
    assert patched["experiment"]["variants"][2]["display"] == {
        **overlay,
        "position": "bottom-right",
    }


def test_weights_left_out_split_equally(api):
    created = create(
        api,
        experiment={
            "variants": [
                {"key": "A"},
                {"key": "B", "content": {"html": HTML_B}},
                {"key": "C", "content": {"html": HTML_B}},
            ]
        },
    )
    assert [v["weight"] for v in created["experiment"]["variants"]] == [34, 33, 33]
    assert created["experiment"]["holdoutPercent"] == 0


def test_a_holdout_alone_is_an_experiment(api):
    created = create(api, experiment={"holdoutPercent": 20})
    assert created["experiment"] == {
        "variants": [{"key": "A", "weight": 100}],
        "holdoutPercent": 20,
        "winner": None,
    }


def test_a_patch_keeps_what_it_does_not_send_and_the_seed(api):
    created = create(api, experiment=SPLIT)
    seed = AnonymousMessage.objects.get(pk=created["id"]).experiment_seed
    patched = api.patch(detail_url(created["id"]), {"experiment": {"holdoutPercent": 5}})
    assert patched.status_code == 200, patched.content
    assert patched.json()["experiment"] == {**SPLIT, "holdoutPercent": 5, "winner": None}
    # A variant sent without content keeps its content; the weights move.
    moved = {
        "variants": [{"key": "A", "weight": 70}, {"key": "B", "weight": 30}],
    }
    patched = api.patch(detail_url(created["id"]), {"experiment": moved}).json()
    assert patched["experiment"]["variants"][1] == {
        "key": "B",
        "weight": 30,
        "content": {"html": HTML_B},
        "display": None,
    }
    # Editing keeps the seed, hence every visitor's bucket.
    assert AnonymousMessage.objects.get(pk=created["id"]).experiment_seed == seed


def test_null_removes_the_experiment_and_its_seed(api):
    created = create(api, experiment=SPLIT)
    patched = api.patch(detail_url(created["id"]), {"experiment": None}).json()
    assert patched["experiment"] is None
    message = AnonymousMessage.objects.get(pk=created["id"])
    assert (message.variant_a_weight, message.holdout_percent, message.experiment_seed) == (
        100,
        0,
        "",
    )
    assert not message.variants.exists()


def test_the_list_shows_experiments(api, workspace):
    create(api, experiment=SPLIT)
    create(api)
    experiments = [m["experiment"] for m in api.get(LIST_URL).json()["messages"]]
    assert experiments == [None, {**SPLIT, "winner": None}]


# --- Bad input: a 400 naming the field, nothing written -------------------------------------


def _with(**changes):
    variants = [dict(v) for v in SPLIT["variants"]]
    for index, fields in changes.get("variants", {}).items():
        variants[index].update(fields)
    return {**SPLIT, "variants": variants, **changes.get("top", {})}


BAD = [
    (
        "weights do not sum to 100",
        _with(variants={1: {"weight": 40}}),
        "experiment.variants",
        "add up to 100 (they add up to 90)",
    ),  # fmt: skip
    (
        "weight above 100",
        _with(variants={1: {"weight": 150}}),
        "experiment.variants[1].weight",
        "0 to 100",
    ),  # fmt: skip
    (
        "weight a string",
        _with(variants={0: {"weight": "50"}}),
        "experiment.variants[0].weight",
        "whole number",
    ),  # fmt: skip
    (
        "holdout above 50",
        _with(top={"holdoutPercent": 60}),
        "experiment.holdoutPercent",
        "0 to 50",
    ),  # fmt: skip
    (
        "holdout negative",
        _with(top={"holdoutPercent": -1}),
        "experiment.holdoutPercent",
        "0 to 50",
    ),  # fmt: skip
    (
        "five variants",
        {"variants": [{"key": k} for k in "ABCDE"]},
        "experiment.variants",
        "1 to 4 variants",
    ),  # fmt: skip
    ("no variant", {"variants": []}, "experiment.variants", "1 to 4 variants"),
    (
        "keys out of order",
        {"variants": [{"key": "A"}, {"key": "C", "content": {"html": HTML_B}}]},
        "experiment.variants[1].key",
        "A, B, C, D",
    ),  # fmt: skip
    (
        "content for A",
        _with(variants={0: {"content": {"html": HTML_B}}}),
        "experiment.variants[0].content",
        "message itself",
    ),  # fmt: skip
    (
        "B without content",
        {"variants": [{"key": "A"}, {"key": "B"}]},
        "experiment.variants[1].content",
        "needs its content",
    ),  # fmt: skip
    (
        "B with empty HTML",
        _with(variants={1: {"content": {"html": "  "}}}),
        "experiment.variants[1].content.html",
        "needs some content",
    ),  # fmt: skip
    (
        "B with Liquid",
        _with(variants={1: {"content": {"html": "<h1>Hi {{ name }}</h1>"}}}),
        "experiment.variants[1].content.html",
        "Liquid",
    ),  # fmt: skip
    (
        "B with a bad display",
        _with(variants={1: {"display": {"type": "popup"}}}),
        "experiment.variants[1].display.type",
        "modal",
    ),  # fmt: skip
    (
        "B inline without element",
        _with(variants={1: {"display": {"type": "inline"}}}),
        "experiment.variants[1].display.elementId",
        "",
    ),  # fmt: skip
    ("unknown field", _with(top={"split": 1}), "experiment.split", "Unknown field"),
    ("not an object", [1, 2], "experiment", "an object"),
    ("a winner sent", _with(top={"winner": {"key": "B"}}), "experiment.winner", "read-only"),
]


@pytest.mark.parametrize(("case", "experiment", "field", "text"), BAD, ids=[b[0] for b in BAD])
def test_bad_experiments_are_refused_naming_the_field(api, case, experiment, field, text):
    response = api.post(LIST_URL, {"name": "Offer", "experiment": experiment})
    refused(response, field, text)
    assert not AnonymousMessage.objects.exists()
    assert not MessageVariant.objects.exists()


def test_a_bad_patch_changes_nothing(api):
    created = create(api, experiment=SPLIT)
    response = api.patch(
        detail_url(created["id"]),
        {"name": "Renamed", "experiment": _with(variants={1: {"weight": 10}})},
    )
    refused(response, "experiment.variants", "add up to 100")
    assert api.get(detail_url(created["id"])).json() == created


# --- Removing a variant while live ----------------------------------------------------------


def exposed(message_id, arm):
    message = AnonymousMessage.objects.get(pk=message_id)
    visitor = VisitorFactory(workspace=message.workspace)
    VisitorMessageState.objects.create(visitor=visitor, message=message, views=1, arm=arm)


def launch(api, created):
    response = api.post(f"{detail_url(created['id'])}/launch")
    assert response.status_code == 200, response.content


def test_a_variant_with_exposures_cannot_be_removed_while_live(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, created)
    exposed(created["id"], "B")
    only_a = {"variants": [{"key": "A", "weight": 100}]}
    for body in ({"experiment": only_a}, {"experiment": None}):
        response = api.patch(detail_url(created["id"]), body)
        refused(response, "experiment.variants", "choose a winner")
        assert response.json()["error"] == "variant_has_exposures"
    assert MessageVariant.objects.filter(message_id=created["id"]).count() == 1


def test_a_variant_without_exposures_may_be_removed_while_live(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, created)
    exposed(created["id"], "A")
    only_a = {"variants": [{"key": "A", "weight": 100}], "holdoutPercent": 0}
    assert api.patch(detail_url(created["id"]), {"experiment": only_a}).json()["experiment"] is None


def test_after_a_winner_the_losers_may_be_removed_but_not_the_winner(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, created)
    exposed(created["id"], "A")
    exposed(created["id"], "B")
    response = api.post(winner_url(created["id"]), {"variant": "A"})
    assert response.status_code == 200, response.content
    only_a = {"variants": [{"key": "A", "weight": 100}]}
    patched = api.patch(detail_url(created["id"]), {"experiment": only_a})
    assert patched.status_code == 200, patched.content
    assert patched.json()["experiment"] is None  # A alone, no holdout: the experiment is over

    other = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, other)
    exposed(other["id"], "B")
    api.post(winner_url(other["id"]), {"variant": "B"})
    response = api.patch(detail_url(other["id"]), {"experiment": only_a})
    refused(response, "experiment.variants", "chosen winner")


def test_a_draft_may_drop_variants_freely(api):
    created = create(api, experiment=SPLIT)
    exposed(created["id"], "B")  # e.g. reported by a preview gone wrong: not live, no rule
    assert api.patch(detail_url(created["id"]), {"experiment": None}).status_code == 200


# --- Choosing a winner ----------------------------------------------------------------------


def test_choosing_a_winner_sends_all_traffic_to_it_and_is_recorded(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, created)
    response = api.post(winner_url(created["id"]), {"variant": "B", "holdoutPercent": 5})
    assert response.status_code == 200, response.content
    experiment = response.json()["experiment"]
    assert [(v["key"], v["weight"]) for v in experiment["variants"]] == [("A", 0), ("B", 100)]
    assert experiment["holdoutPercent"] == 5
    assert experiment["winner"]["key"] == "B"
    assert experiment["winner"]["chosenBy"] is None  # through the App API
    assert experiment["winner"]["chosenAt"]


def test_changing_the_split_after_a_winner_runs_the_experiment_again(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    api.post(winner_url(created["id"]), {"variant": "B"})
    patched = api.patch(detail_url(created["id"]), {"experiment": SPLIT}).json()
    assert patched["experiment"]["winner"] is None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "variant"),
        ({"variant": "E"}, "variant"),
        ({"variant": 2}, "variant"),
        ({"variant": "B", "holdoutPercent": 51}, "holdoutPercent"),
        ({"variant": "B", "holdoutPercent": True}, "holdoutPercent"),
        ({"variant": "B", "why": "won"}, "why"),
    ],
)
def test_a_bad_winner_is_refused(api, body, field):
    created = create(api, experiment=SPLIT)
    refused(api.post(winner_url(created["id"]), body), field)
    assert api.get(detail_url(created["id"])).json() == created


def test_a_message_without_experiment_has_no_winner_to_choose(api):
    created = create(api)
    refused(api.post(winner_url(created["id"]), {"variant": "A"}), "variant", "not an experiment")


def test_an_ended_experiment_cannot_change(api):
    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    launch(api, created)
    api.post(f"{detail_url(created['id'])}/end")
    response = api.post(winner_url(created["id"]), {"variant": "B"})
    assert response.status_code == 409
    assert response.json()["error"] == "not_editable"


def test_another_workspaces_message_is_not_found(api):
    foreign = AnonymousMessageFactory(workspace=WorkspaceFactory(), holdout_percent=10)
    assert api.post(winner_url(foreign.pk), {"variant": "A"}).status_code == 404


# --- The message page -----------------------------------------------------------------------


@pytest.fixture
def running(workspace):
    message = AnonymousMessageFactory(
        workspace=workspace,
        launched=True,
        variant_a_weight=50,
        holdout_percent=10,
        experiment_seed="abc",
    )
    MessageVariant.objects.create(message=message, key="B", weight=50, content_html=HTML_B)
    return message


def page_url(message, suffix=""):
    return f"/w/{message.workspace_id}/anonymous/{message.pk}/{suffix}"


def test_the_message_page_shows_the_split_and_a_choose_winner_form(owner_client, running):
    html = owner_client.get(page_url(running)).content.decode()
    assert "Experiment" in html and "Variant B" in html and "Holdout" in html
    assert f'action="{page_url(running, "choose-winner/")}"' in html
    assert "hx-confirm" in html


def test_choosing_a_winner_on_the_page_needs_csrf_and_records_who(workspace, owner, running):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(owner)
    url = page_url(running, "choose-winner/")
    assert browser.post(url, {"variant": "B"}).status_code == 403
    confirm = browser.get(url, {"variant": "B", "holdout_percent": "0"})
    assert confirm.status_code == 200
    token = confirm.cookies["csrftoken"].value
    response = browser.post(
        url, {"variant": "B", "holdout_percent": "0", "csrfmiddlewaretoken": token}
    )
    assert response.status_code == 302
    running.refresh_from_db()
    assert (running.winner_key, running.winner_chosen_by, running.variant_a_weight) == (
        "B",
        owner,
        0,
    )
    assert running.variants.get().weight == 100 and running.holdout_percent == 0
    page = browser.get(page_url(running)).content.decode()
    assert "Variant B was chosen as the winner by owner@acme.test" in page


def test_a_bad_winner_on_the_page_is_a_form_error(owner_client, running):
    response = owner_client.post(
        page_url(running, "choose-winner/"), {"variant": "B", "holdout_percent": "80"}
    )
    assert response.status_code == 400
    assert "Enter a whole number from 0 to 50." in response.content.decode()
    running.refresh_from_db()
    assert running.winner_key == ""


def test_an_outsider_cannot_choose_a_winner(outsider_client, running):
    response = outsider_client.post(page_url(running, "choose-winner/"), {"variant": "B"})
    assert response.status_code == 404
    running.refresh_from_db()
    assert running.winner_key == ""


def test_a_message_without_experiment_shows_no_experiment_card(owner_client, workspace):
    message = AnonymousMessageFactory(workspace=workspace, launched=True)
    assert 'id="experiment"' not in owner_client.get(page_url(message)).content.decode()


def test_duplicating_copies_the_variants_with_a_new_experiment(running):
    running.winner_key = "B"
    running.save()
    copy = duplicate_message(message=running)
    assert copy.status == Status.DRAFT
    assert [(v.key, v.weight, v.content_html) for v in copy.variants.all()] == [("B", 50, HTML_B)]
    assert copy.experiment_seed and copy.experiment_seed != running.experiment_seed
    assert copy.winner_key == ""


def test_another_member_is_recorded_as_who_chose(client, workspace, running):
    member = MembershipFactory(workspace=workspace, user=UserFactory(username="ann@acme.test")).user
    client.force_login(member)
    client.post(page_url(running, "choose-winner/"), {"variant": "A", "holdout_percent": "5"})
    running.refresh_from_db()
    assert (running.winner_key, running.winner_chosen_by, running.holdout_percent) == (
        "A",
        member,
        5,
    )


def test_experiment_answers_match_the_documented_schema(api):
    from tests.campaigns.test_openapi import schema_validator

    created = create(api, experiment=SPLIT, content={"html": "<h1>A</h1>"})
    assert list(schema_validator("Message").iter_errors(created)) == []
    chosen = api.post(winner_url(created["id"]), {"variant": "B"}).json()
    assert list(schema_validator("Message").iter_errors(chosen)) == []
    assert (
        list(schema_validator("MessageInput").iter_errors({"name": "x", "experiment": SPLIT})) == []
    )


def test_an_experiment_made_elsewhere_gets_a_seed_once(workspace):
    # e.g. the wizard or the admin, which write the rows directly.
    message = AnonymousMessageFactory(workspace=workspace)
    assert message.experiment_seed == ""
    MessageVariant.objects.create(message=message, key="B", weight=50, content_html=HTML_B)
    message.refresh_from_db()
    seed = message.experiment_seed
    assert len(seed) == 32
    MessageVariant.objects.create(message=message, key="C", weight=0, content_html=HTML_B)
    message.holdout_percent = 10
    message.save()
    message.refresh_from_db()
    assert message.experiment_seed == seed
    held_only = AnonymousMessageFactory(workspace=workspace, holdout_percent=5)
    held_only.refresh_from_db()
    assert len(held_only.experiment_seed) == 32
