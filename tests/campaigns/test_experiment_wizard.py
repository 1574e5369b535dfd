"""Issue 15 in the dashboard: variants B–D and the split on the Content step, the experiment
on Review, the message page and the list, and "Add as a variant instead" of a duplicate.

Real HTTP through Django's client on PostgreSQL. The split's words are campaigns/split.py's
(tested here as a table); assignment and delivery are the exp engineer's (not tested here).
"""

import html
import re

import pytest
from django.urls import reverse

from campaigns import lifecycle, split
from campaigns.models import AnonymousMessage, MessageVariant, Status
from delivery.models import VisitorMessageState
from tests.factories import (
    AnonymousMessageFactory,
    PageRuleFactory,
    VisitorFactory,
    WorkspaceFactory,
)

HTMX = {"HTTP_HX_REQUEST": "true"}


def step_url(message, step="content"):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, step])


def text_of(response) -> str:
    return html.unescape(re.sub(r"\s+", " ", response.content.decode()))


def builder(heading, prefix="", **extra):
    """The content step's fields for a builder message (A unprefixed, B–D `variant_B-`)."""
    fields = {"mode": "builder", "heading": heading, "text": "", "close_button": "on"}
    fields.update(extra)
    return {f"{prefix}{name}": value for name, value in fields.items()}


def content_post(*, a="Get 20% off", variants=(), weights=None, holdout="", go="next", **extra):
    """A full POST of the content step: A's builder, B–D's, the split."""
    keys = ["A", *[key for key, _ in variants]]
    data = {
        **builder(a),
        "display_type": "modal",
        "display_position": "center",
        "variants": ",".join(keys),
        "tab": "A",
        "holdout_percent": holdout,
        "go": go,
    }
    for key, heading in variants:
        data.update(builder(heading, prefix=f"variant_{key}-"))
    for key, weight in zip(keys, weights or split.equal_weights(len(keys)), strict=True):
        data[f"variant_{key}_weight"] = weight
    data.update(extra)
    return data


@pytest.fixture
def draft(workspace):
    return AnonymousMessageFactory(workspace=workspace, name="Offer", wizard_step=7)


@pytest.fixture
def live(workspace):
    message = AnonymousMessageFactory(workspace=workspace, name="Spring", launched=True)
    PageRuleFactory(message=message, value="/pricing")
    return message


def stored(message) -> dict:
    """What the database holds for the message and its variants (to compare before/after)."""
    row = AnonymousMessage.objects.values().get(pk=message.pk)
    row.pop("updated_at")
    return {
        "message": row,
        "variants": list(MessageVariant.objects.filter(message=message).values()),
    }


# --- The split in words (pure) ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("weights", "holdout", "text"),
    [
        ([("A", 100)], 0, "No experiment: every eligible visitor sees this content."),
        ([("A", 50), ("B", 50)], 0, "A 50 %, B 50 %; no holdout."),
        (
            [("A", 50), ("B", 50)],
            10,
            "A 50 %, B 50 %; 10 % of eligible visitors see nothing (holdout).",
        ),
        ([("A", 100)], 20, "Variant A only; 20 % of eligible visitors see nothing (holdout)."),
        ([("A", 34), ("B", 33), ("C", 33)], 0, "A 34 %, B 33 %, C 33 %; no holdout."),
    ],
)
def test_the_split_in_words(weights, holdout, text):
    assert split.describe_split(weights, holdout).replace("\u00a0", " ") == text


@pytest.mark.parametrize(
    ("count", "weights"),
    [(1, [100]), (2, [50, 50]), (3, [34, 33, 33]), (4, [25, 25, 25, 25])],
)
def test_equal_weights_add_up_to_100(count, weights):
    assert split.equal_weights(count) == weights


@pytest.mark.parametrize(
    ("text", "keys"),
    [("A", ["A"]), ("A,B,C", ["A", "B", "C"]), ("", ["A"]), ("A,C", None), ("B", None)],
)
def test_variant_keys_must_run_from_a_in_order(text, keys):
    assert split.parse_keys(text) == keys


def test_no_letter_past_d():
    assert split.next_key(["A"]) == "B"
    assert split.next_key(["A", "B", "C", "D"]) is None


# --- The Content step: showing and adding -------------------------------------------------------


def test_a_message_without_variants_shows_one_tab_the_add_button_and_the_holdout(
    owner_client, draft
):
    body = text_of(owner_client.get(step_url(draft)))
    assert 'data-variant-tab="A"' in body
    assert 'data-variant-tab="B"' not in body
    assert "+ Add variant (A/B test)" in body
    assert 'name="holdout_percent"' in body
    assert 'name="variant_A_weight"' not in body  # no split to set with one variant


def test_add_variant_shows_b_as_a_copy_of_what_a_holds_and_saves_nothing(owner_client, draft):
    before = stored(draft)
    data = content_post(a="Typed, not saved", go="add-variant")
    response = owner_client.post(step_url(draft), data, **HTMX)
    assert response.status_code == 200
    body = text_of(response)
    assert 'name="variant_B-heading"' in body
    assert 'value="Typed, not saved"' in body  # B starts from A as typed
    assert re.search(r'name="variant_A_weight" value="50"', body)
    assert re.search(r'name="variant_B_weight" value="50"', body)
    assert 'name="tab" value="B"' in body  # B's tab opens
    assert "data-unsaved" in body  # leaving asks first (wizard.js)
    assert stored(draft) == before


def test_saving_a_variant_writes_its_content_the_split_and_a_seed(owner_client, draft):
    data = content_post(a="Get 20% off", variants=[("B", "Get 30% off")], weights=[60, 40])
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 302
    assert response["Location"] == step_url(draft, "schedule")
    draft.refresh_from_db()
    assert draft.variant_a_weight == 60
    assert "Get 20% off" in draft.content_html
    variant = draft.variants.get()
    assert (variant.key, variant.weight) == ("B", 40)
    assert "Get 30% off" in variant.content_html
    assert variant.content_builder["heading"] == "Get 30% off"
    assert variant.content_label == "Get 30% off"
    assert variant.display_type == ""  # shown as A
    assert re.fullmatch(r"[0-9a-f]{32}", draft.experiment_seed)


def test_a_variant_can_have_its_own_display(owner_client, draft):
    """ "Show this variant its own way": B as a bottom banner while A stays a modal; the
    builder builds B's HTML for a banner, the API and delivery see B's display."""
    data = content_post(
        a="Alpha",
        variants=[("B", "Bravo")],
        **{
            "variant_B-own_display": "on",
            "variant_B-display_type": "banner",
            "variant_B-display_position": "bottom",
        },
    )
    assert owner_client.post(step_url(draft), data).status_code == 302
    variant = draft.variants.get()
    assert (variant.display_type, variant.display_position) == ("banner", "bottom")
    assert variant.display_element_id == ""
    draft.refresh_from_db()
    assert draft.display_type == "modal"
    body = text_of(owner_client.get(step_url(draft)))
    assert re.search(r'name="variant_B-own_display"[^>]* checked', body)

    # Unticked again: B shows as A does.
    data.pop("variant_B-own_display")
    assert owner_client.post(step_url(draft), data).status_code == 302
    variant.refresh_from_db()
    assert (variant.display_type, variant.display_position) == ("", "")


def test_a_variants_own_inline_display_needs_its_element(owner_client, draft):
    data = content_post(
        a="Alpha",
        variants=[("B", "Bravo")],
        **{"variant_B-own_display": "on", "variant_B-display_type": "inline"},
    )
    before = stored(draft)
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "variant_B-display_element_id" in errors
    assert "Variant B · Page element id" in text_of(response)  # the summary names it
    assert stored(draft) == before
    data["variant_B-display_element_id"] = "#offer-slot"
    assert owner_client.post(step_url(draft), data).status_code == 302
    variant = draft.variants.get()
    assert (variant.display_type, variant.display_element_id) == ("inline", "offer-slot")


def test_a_variants_own_display_without_a_type_is_refused_under_it(owner_client, draft):
    data = content_post(
        a="Alpha",
        variants=[("B", "Bravo")],
        **{"variant_B-own_display": "on", "variant_B-display_type": ""},
    )
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 400
    assert (
        "Choose how this variant shows"
        in (response.context["form"].errors["variant_B-display_type"][0])
    )
    assert not draft.variants.exists()


def test_the_live_preview_shows_a_variant_its_own_way(owner_client, draft):
    url = reverse("campaigns:message-preview", args=[draft.workspace_id, draft.pk])
    data = content_post(
        a="Alpha",
        variants=[("B", "Bravo")],
        tab="B",
        **{
            "variant_B-own_display": "on",
            "variant_B-display_type": "overlay",
            "variant_B-display_position": "bottom-right",
        },
    )
    preview = owner_client.post(url, data, **HTMX).context
    assert preview["preview"]["display_type"] == "overlay"
    data.pop("variant_B-own_display")
    preview = owner_client.post(url, data, **HTMX).context
    assert preview["preview"]["display_type"] == "modal"


def test_the_saved_split_shows_again(owner_client, draft):
    owner_client.post(step_url(draft), content_post(variants=[("B", "Bee")], weights=[70, 30]))
    body = text_of(owner_client.get(step_url(draft)))
    assert re.search(r'name="variant_A_weight" value="70"', body)
    assert re.search(r'name="variant_B_weight" value="30"', body)
    assert 'name="variants" value="A,B"' in body


def test_the_seed_is_kept_once_drawn(owner_client, draft):
    owner_client.post(step_url(draft), content_post(variants=[("B", "Bee")]))
    draft.refresh_from_db()
    seed = draft.experiment_seed
    owner_client.post(step_url(draft), content_post(variants=[("B", "Bee two")], weights=[20, 80]))
    draft.refresh_from_db()
    assert draft.experiment_seed == seed


def test_a_holdout_alone_is_an_experiment_with_a_seed(owner_client, draft):
    response = owner_client.post(step_url(draft), content_post(holdout="10"))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert (draft.holdout_percent, draft.variant_a_weight) == (10, 100)
    assert draft.experiment_seed


def test_a_message_without_an_experiment_gets_no_seed(owner_client, draft):
    assert owner_client.post(step_url(draft), content_post()).status_code == 302
    draft.refresh_from_db()
    assert draft.experiment_seed == ""
    assert draft.holdout_percent == 0


def test_a_post_without_the_split_edits_a_only_and_keeps_the_variants(owner_client, draft):
    owner_client.post(step_url(draft), content_post(variants=[("B", "Bee")], weights=[70, 30]))
    old_page = {**builder("A again"), "display_type": "modal", "display_position": "center"}
    assert owner_client.post(step_url(draft), old_page).status_code == 302
    draft.refresh_from_db()
    assert "A again" in draft.content_html
    assert list(draft.variants.values_list("key", "weight")) == [("B", 30)]
    assert draft.variant_a_weight == 70


def test_up_to_four_variants(owner_client, draft):
    variants = [("B", "Bee"), ("C", "Sea"), ("D", "Dee")]
    assert owner_client.post(step_url(draft), content_post(variants=variants)).status_code == 302
    assert list(draft.variants.values_list("key", "weight")) == [("B", 25), ("C", 25), ("D", 25)]
    body = text_of(owner_client.get(step_url(draft)))
    assert "+ Add variant" not in body


# --- Bad input: an error under the field, nothing written ---------------------------------------


@pytest.mark.parametrize(
    ("weights", "holdout", "field", "error"),
    [
        ([50, 40], "", "variant_B_weight", "must add up to 100 (they add up to 90)"),
        ([60, 60], "", "variant_B_weight", "must add up to 100 (they add up to 120)"),
        ([101, -1], "", "variant_A_weight", "whole number from 0 to 100"),
        (["", 100], "", "variant_A_weight", "Enter a weight from 0 to 100"),
        (["half", 50], "", "variant_A_weight", "Enter a whole number from 0 to 100."),
        ([50, 50], "60", "holdout_percent", "at most 50 %"),
        ([50, 50], "-5", "holdout_percent", "from 0 to 50"),
        ([50, 50], "ten", "holdout_percent", "from 0 to 50"),
    ],
)
def test_a_bad_split_is_refused_under_its_field_and_nothing_is_written(
    owner_client, draft, weights, holdout, field, error
):
    before = stored(draft)
    data = content_post(a="Changed", variants=[("B", "Bee")], weights=weights, holdout=holdout)
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 400
    assert error in response.context["form"].errors[field][0]
    assert error in text_of(response)
    assert stored(draft) == before  # neither A's content nor B was saved


def test_a_bad_variant_content_is_refused_in_its_tab_and_nothing_is_written(owner_client, draft):
    before = stored(draft)
    data = content_post(a="A is fine", variants=[("B", "Hi {{ first_name }}")])
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert "Liquid is not supported" in errors["variant_B-heading"][0]
    body = text_of(response)
    assert 'class="variant-tab is-active" href="#variant-B"' in body  # its tab opens
    assert "Variant B · Heading" in body  # the summary names the variant
    assert stored(draft) == before


def test_an_empty_variant_is_refused(owner_client, draft):
    response = owner_client.post(step_url(draft), content_post(variants=[("B", "")]))
    assert response.status_code == 400
    assert "the message would be empty" in response.context["form"].errors["variant_B-heading"][0]
    assert not draft.variants.exists()


def test_more_than_four_variants_are_refused(owner_client, draft):
    data = content_post(variants=[("B", "b"), ("C", "c"), ("D", "d")], go="add-variant")
    response = owner_client.post(step_url(draft), data)
    assert "at most 4 variants" in text_of(response)
    assert 'name="variant_E-heading"' not in text_of(response)
    forged = content_post(variants=[("B", "b"), ("C", "c"), ("D", "d")], weights=[20] * 4)
    forged["variants"] = "A,B,C,D,E"
    forged["variant_E_weight"] = 20
    response = owner_client.post(step_url(draft), forged)
    assert response.status_code == 400
    assert "1 to 4 variants" in text_of(response)
    assert not draft.variants.exists()


def test_variant_letters_out_of_order_are_refused(owner_client, draft):
    data = content_post(variants=[("B", "b")])
    data["variants"] = "A,C"
    response = owner_client.post(step_url(draft), data)
    assert response.status_code == 400
    assert not draft.variants.exists()


# --- Removing a variant ------------------------------------------------------------------------


def test_removing_the_last_variant_of_a_draft_then_saving_deletes_it(owner_client, draft):
    owner_client.post(step_url(draft), content_post(variants=[("B", "Bee")]))
    data = content_post(variants=[("B", "Bee")], go="remove-B")
    response = owner_client.post(step_url(draft), data, **HTMX)
    assert response.status_code == 200
    assert 'name="variant_B-heading"' not in text_of(response)
    assert draft.variants.exists()  # not before "Save"
    assert owner_client.post(step_url(draft), content_post()).status_code == 302
    draft.refresh_from_db()
    assert not draft.variants.exists()
    assert draft.variant_a_weight == 100


def test_only_the_last_variant_can_be_removed(owner_client, draft):
    data = content_post(variants=[("B", "Bee"), ("C", "Sea")], go="remove-B")
    body = text_of(owner_client.post(step_url(draft), data, **HTMX))
    assert "Only the last variant can be removed" in body
    assert 'name="variant_B-heading"' in body


def exposed(message, arm):
    """A visitor's first exposure to `arm`, as tracking records it (delivery's message state)."""
    visitor = VisitorFactory(workspace=message.workspace)
    VisitorMessageState.objects.create(visitor=visitor, message=message, views=1, arm=arm)


def test_a_variant_visitors_saw_cannot_be_removed_while_the_message_runs(owner_client, live):
    MessageVariant.objects.create(message=live, key="B", weight=50, content_html="<h1>B</h1>")
    live.variant_a_weight = 50
    live.save()
    exposed(live, "B")

    data = content_post(variants=[("B", "Bee")], go="remove-B")
    body = text_of(owner_client.post(step_url(live), data, **HTMX))
    assert "end the experiment by choosing a winner" in body
    assert 'name="variant_B-heading"' in body  # still there
    # A forged save without it is refused as well.
    response = owner_client.post(step_url(live), content_post())
    assert response.status_code == 400
    assert "end the experiment by choosing a winner" in text_of(response)
    assert live.variants.filter(key="B").exists()


def test_a_variant_nobody_saw_can_be_removed_from_a_live_message(owner_client, live):
    MessageVariant.objects.create(message=live, key="B", weight=50, content_html="<h1>B</h1>")
    # Exposures to A (or to another message) do not count for B.
    exposed(live, "A")
    assert not lifecycle.variant_has_exposures(message=live, key="B")
    assert lifecycle.variant_has_exposures(message=live, key="A")
    assert owner_client.post(step_url(live), content_post()).status_code == 302
    assert not live.variants.exists()


# --- The live preview follows the open tab ------------------------------------------------------


def test_the_live_preview_shows_the_open_variant(owner_client, draft):
    url = reverse("campaigns:message-preview", args=[draft.workspace_id, draft.pk])
    data = content_post(a="Alpha offer", variants=[("B", "Bravo offer")], tab="B")
    body = text_of(owner_client.post(url, data, **HTMX))
    assert "Variant B" in body
    assert "Bravo offer" in body
    assert "Alpha offer" not in body
    data["tab"] = "A"
    body = text_of(owner_client.post(url, data, **HTMX))
    assert "Alpha offer" in body and "Bravo offer" not in body


def test_the_saved_variant_previews_when_its_tab_is_asked_for(owner_client, draft):
    owner_client.post(step_url(draft), content_post(a="Alpha", variants=[("B", "Bravo")]))
    body = text_of(owner_client.get(step_url(draft) + "?tab=B"))
    assert 'name="tab" value="B"' in body
    preview = body.split('id="preview"')[1]
    assert "Bravo" in preview and "Variant B" in preview


# --- Review, the message page, the list ----------------------------------------------------------


def test_review_and_the_message_page_say_the_split_and_the_holdout(owner_client, draft):
    data = content_post(a="Alpha", variants=[("B", "Bravo")], holdout="10")
    owner_client.post(step_url(draft), data)
    sentence = "A 50 %, B 50 %; 10 % of eligible visitors see nothing (holdout)."
    review = text_of(owner_client.get(step_url(draft, "review"))).replace("\u00a0", " ")
    assert sentence in review
    assert f'href="{step_url(draft)}#experiment">Edit' in review
    assert "B: “Bravo”" in review
    detail = text_of(owner_client.get(draft.get_absolute_url())).replace("\u00a0", " ")
    assert sentence in detail


def test_review_says_when_there_is_no_experiment(owner_client, draft):
    review = text_of(owner_client.get(step_url(draft, "review")))
    assert "No experiment: every eligible visitor sees this content." in review


def test_the_list_marks_experiments(owner_client, workspace):
    with_variant = AnonymousMessageFactory(workspace=workspace, name="Split")
    MessageVariant.objects.create(message=with_variant, key="B", content_html="<h1>B</h1>")
    AnonymousMessageFactory(workspace=workspace, name="Held", holdout_percent=10)
    AnonymousMessageFactory(workspace=workspace, name="Plain")
    body = text_of(owner_client.get(reverse("campaigns:message-list", args=[workspace.pk])))
    rows = {
        row.split('class="message-name"')[1].split("</a>")[0]: row for row in body.split("<tr>")[2:]
    }
    marked = {name.split(">")[-1] for name, row in rows.items() if "experiment-tag" in row}
    assert marked == {"Split", "Held"}


# --- Duplicate, or add as a variant ----------------------------------------------------------------


def duplicate_url(message):
    return reverse("campaigns:message-duplicate", args=[message.workspace_id, message.pk])


def add_variant_url(message):
    return reverse("campaigns:message-add-variant", args=[message.workspace_id, message.pk])


def test_duplicating_a_running_message_warns_and_offers_a_variant(owner_client, live):
    detail = text_of(owner_client.get(live.get_absolute_url()))
    assert f'href="{duplicate_url(live)}">Duplicate…' in detail
    body = text_of(owner_client.get(duplicate_url(live)))
    assert "The copy would be outranked." in body
    assert "same pages, audience, place (modal) and priority" in body
    assert "Add as a variant instead" in body
    assert "Duplicate anyway" in body
    assert AnonymousMessage.objects.count() == 1


def test_an_ended_message_duplicates_without_the_warning(owner_client, live):
    lifecycle.end_message(message=live)
    detail = text_of(owner_client.get(live.get_absolute_url()))
    assert "Duplicate…" not in detail
    body = text_of(owner_client.get(duplicate_url(live)))
    assert "would be outranked" not in body
    assert "Add as a variant instead" not in body


def test_add_as_a_variant_makes_b_from_a_and_opens_it(owner_client, live):
    response = owner_client.post(add_variant_url(live))
    assert response.status_code == 302
    assert response["Location"] == step_url(live) + "?tab=B"
    live.refresh_from_db()
    variant = live.variants.get()
    assert variant.key == "B"
    assert variant.content_html == live.content_html
    assert (live.variant_a_weight, variant.weight) == (50, 50)
    assert live.experiment_seed
    assert AnonymousMessage.objects.count() == 1  # no copy
    page = text_of(owner_client.get(response["Location"]))
    assert 'name="tab" value="B"' in page


def test_add_as_a_variant_takes_the_next_letter_and_refuses_past_d(owner_client, live):
    for expected in ("B", "C", "D"):
        owner_client.post(add_variant_url(live))
        assert live.variants.order_by("-key").first().key == expected
    live.refresh_from_db()
    assert [live.variant_a_weight, *live.variants.values_list("weight", flat=True)] == [25] * 4
    response = owner_client.post(add_variant_url(live), follow=True)
    assert "already has 4 variants (A to D)" in text_of(response)
    assert live.variants.count() == 3
    assert "Add as a variant instead" not in text_of(owner_client.get(duplicate_url(live)))


def test_an_ended_message_gets_no_variant(owner_client, live):
    lifecycle.end_message(message=live)
    response = owner_client.post(add_variant_url(live), follow=True)
    assert "can no longer get variants" in text_of(response)
    assert not live.variants.exists()


def test_another_workspaces_message_gets_no_variant(owner_client):
    other = AnonymousMessageFactory(workspace=WorkspaceFactory(), launched=True)
    assert owner_client.post(add_variant_url(other)).status_code == 404
    assert owner_client.get(duplicate_url(other)).status_code == 404
    assert not other.variants.exists()


def test_add_variant_takes_only_posts(owner_client, live):
    assert owner_client.get(add_variant_url(live)).status_code == 405


def test_duplicate_anyway_copies_the_variants_with_a_fresh_seed(owner_client, live):
    owner_client.post(add_variant_url(live))
    live.refresh_from_db()
    response = owner_client.post(duplicate_url(live))
    assert response.status_code == 302
    copy = AnonymousMessage.objects.exclude(pk=live.pk).get()
    assert copy.status == Status.DRAFT
    assert list(copy.variants.values_list("key", "weight")) == [("B", 50)]
    assert copy.variant_a_weight == 50
    assert copy.experiment_seed and copy.experiment_seed != live.experiment_seed
    assert live.variants.count() == 1  # the original keeps its own


def test_a_variant_changed_anywhere_reaches_sdks_on_their_next_request(draft):
    # Delivery caches live messages per content version (campaigns/signals.py).
    def version():
        draft.workspace.refresh_from_db()
        return draft.workspace.content_version

    before = version()
    variant = MessageVariant.objects.create(message=draft, key="B", content_html="<h1>B</h1>")
    assert version() > before
    before = version()
    variant.content_html = "<h1>B2</h1>"
    variant.save()
    assert version() > before
    before = version()
    variant.delete()
    assert version() > before
