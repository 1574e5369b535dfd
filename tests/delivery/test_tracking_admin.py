import pytest
from django.urls import reverse

from tests.factories import (
    EventFactory,
    ProfileFactory,
    UserFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
)


@pytest.fixture
def admin_client(client, db):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model", ["profile", "visitor", "event", "visitormessagestate"])
def test_tracking_data_is_browsable_in_the_admin(admin_client, model):
    profile = ProfileFactory()
    VisitorFactory(workspace=profile.workspace, profile=profile)
    VisitorMessageStateFactory()
    EventFactory()

    changelist = admin_client.get(reverse(f"admin:delivery_{model}_changelist"))
    assert changelist.status_code == 200


def test_raw_events_cannot_be_edited_or_added_in_the_admin(admin_client):
    event = EventFactory()
    assert admin_client.get(reverse("admin:delivery_event_add")).status_code == 403
    response = admin_client.post(
        reverse("admin:delivery_event_change", args=[event.pk]), {"name": "Changed"}
    )
    assert response.status_code == 403
