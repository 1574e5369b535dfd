import pytest
from django.urls import reverse

from tests.factories import UserFactory


@pytest.mark.parametrize(
    "model", ["conversion", "segmentmembership", "messagehourlystats", "rollupstate"]
)
def test_staff_can_browse_metrics_data_in_the_admin(client, db, model):
    admin = UserFactory(username="admin@example.com")
    admin.is_staff = admin.is_superuser = True
    admin.save()
    client.force_login(admin)
    assert client.get(reverse(f"admin:metrics_{model}_changelist")).status_code == 200
