"""Django admin: an experiment's variants B–D inline, its split checked as the App API and
the wizard check it (campaigns.validation.check_experiment)."""

import pytest

from campaigns.models import MessageVariant
from tests.campaigns.test_admin import admin_url, message_form
from tests.factories import AnonymousMessageFactory


def with_variant(message, *, a_weight, holdout=0, variants=(("B", 50, "<h1>B</h1>"),)):
    data = message_form(message, variant_a_weight=a_weight, holdout_percent=holdout)
    data["variants-TOTAL_FORMS"] = str(len(variants))
    for index, (key, weight, html) in enumerate(variants):
        data.update(
            {
                f"variants-{index}-key": key,
                f"variants-{index}-weight": weight,
                f"variants-{index}-content_html": html,
                f"variants-{index}-display_type": "",
                f"variants-{index}-display_position": "",
                f"variants-{index}-message": message.pk,
            }
        )
    return data


def test_staff_add_a_variant_and_a_holdout(admin_client):
    message = AnonymousMessageFactory()
    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        with_variant(message, a_weight=50, holdout=10),
    )
    assert response.status_code == 302
    message.refresh_from_db()
    assert (message.variant_a_weight, message.holdout_percent) == (50, 10)
    (variant,) = message.variants.all()
    assert (variant.key, variant.weight, variant.content_label) == ("B", 50, "B")
    assert message.experiment_seed  # drawn when the experiment starts


def test_the_change_page_shows_the_variants(admin_client):
    message = AnonymousMessageFactory(variant_a_weight=50)
    MessageVariant.objects.create(message=message, key="B", weight=50, content_html="<h1>Bee</h1>")
    body = admin_client.get(admin_url("anonymousmessage", "change", message.pk)).content.decode()
    assert "Experiment" in body and 'name="variants-0-weight"' in body and "Bee" in body


@pytest.mark.parametrize(
    ("a_weight", "holdout", "variants", "error"),
    [
        (50, 0, [("B", 40, "<h1>B</h1>")], "add up to 100"),
        (50, 0, [("C", 50, "<h1>C</h1>")], "named A, B, C, D in this order"),
        (100, 60, [], "from 0 to 50"),
        (50, 0, [], "add up to 100"),
        (50, 0, [("B", 50, "<h1>Hi {{ name }}</h1>")], "Liquid is not supported"),
        (50, 0, [("B", 50, "")], "has no content"),
    ],
)
def test_a_bad_split_or_content_is_refused_and_nothing_is_saved(
    admin_client, a_weight, holdout, variants, error
):
    message = AnonymousMessageFactory()
    response = admin_client.post(
        admin_url("anonymousmessage", "change", message.pk),
        with_variant(message, a_weight=a_weight, holdout=holdout, variants=variants),
    )
    assert response.status_code == 200
    assert error in response.content.decode()
    message.refresh_from_db()
    assert (message.variant_a_weight, message.holdout_percent) == (100, 0)
    assert not message.variants.exists()
