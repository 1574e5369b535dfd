from datetime import UTC, datetime

import pytest
from django.urls import reverse

from delivery.models import Profile, Visitor
from delivery.signals import profile_traits_changed
from delivery.tracking.traits import merge_traits
from tests.delivery.tracking_helpers import send
from tests.factories import ProfileFactory, VisitorFactory

pytestmark = pytest.mark.django_db


def call(client, workspace, route, **body):
    response = send(client, route, body, write_key=workspace.write_key)
    assert response.status_code == 200, response.content
    return response


def person_page(client, workspace, profile):
    response = client.get(reverse("delivery:person", args=[workspace.pk, profile.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_identify_with_an_anonymous_id_merges_that_visitor_into_the_profile(client, workspace):
    call(client, workspace, "page", anonymousId="anon-1", timestamp="2025-01-01T10:00:00Z")
    assert not Visitor.objects.get().is_identified

    call(
        client,
        workspace,
        "identify",
        anonymousId="anon-1",
        userId="user-1",
        traits={"email": "ann@example.com", "name": "Ann"},
        timestamp="2025-01-01T10:05:00Z",
    )

    profile = Profile.objects.get()
    assert (profile.workspace, profile.user_id, profile.email) == (
        workspace,
        "user-1",
        "ann@example.com",
    )
    assert profile.traits == {"email": "ann@example.com", "name": "Ann"}
    visitor = Visitor.objects.get()
    assert visitor.profile == profile
    assert visitor.is_identified
    assert visitor.identified_at == datetime(2025, 1, 1, 10, 5, tzinfo=UTC)
    # The person was first seen when their anonymous visit was.
    assert profile.first_seen_at == datetime(2025, 1, 1, 10, 0, tzinfo=UTC)


def test_two_anonymous_ids_identified_as_one_user_are_one_person_with_both_histories(
    owner_client, workspace
):
    call(owner_client, workspace, "track", anonymousId="laptop", event="Viewed Pricing")
    call(owner_client, workspace, "track", anonymousId="phone", event="Read Blog Post")
    call(owner_client, workspace, "identify", anonymousId="laptop", userId="user-1")
    call(owner_client, workspace, "identify", anonymousId="phone", userId="user-1")

    profile = Profile.objects.get()
    assert set(profile.visitors.values_list("anonymous_id", flat=True)) == {"laptop", "phone"}
    page = person_page(owner_client, workspace, profile)
    assert "Viewed Pricing" in page
    assert "Read Blog Post" in page
    people = owner_client.get(reverse("delivery:people", args=[workspace.pk])).content.decode()
    assert people.count(reverse("delivery:person", args=[workspace.pk, profile.pk])) == 1


def test_identify_without_an_anonymous_id_creates_the_profile_only(client, workspace):
    call(client, workspace, "identify", userId="user-1", traits={"plan": "pro"})

    profile = Profile.objects.get()
    assert (profile.user_id, profile.traits) == ("user-1", {"plan": "pro"})
    assert not Visitor.objects.exists()


def test_any_call_carrying_both_ids_merges_the_visitor(client, workspace):
    call(client, workspace, "page", anonymousId="anon-1")
    call(client, workspace, "track", anonymousId="anon-1", userId="user-1", event="Paid")

    assert Visitor.objects.get().profile == Profile.objects.get(user_id="user-1")


def test_a_visitor_merged_into_a_profile_stays_with_it(client, workspace):
    call(client, workspace, "identify", anonymousId="shared-laptop", userId="ann")
    call(client, workspace, "identify", anonymousId="shared-laptop", userId="bob")

    assert Visitor.objects.get().profile.user_id == "ann"
    assert Profile.objects.count() == 2


def test_traits_are_merged_and_a_null_removes_one(client, workspace):
    call(client, workspace, "identify", userId="u", traits={"plan": "free", "city": "Lyon"})
    call(
        client,
        workspace,
        "identify",
        userId="u",
        traits={"plan": "pro", "city": None, "email": "u@x.test"},
    )

    profile = Profile.objects.get()
    assert profile.traits == {"plan": "pro", "email": "u@x.test"}
    assert profile.email == "u@x.test"


@pytest.mark.parametrize(
    ("current", "incoming", "merged"),
    [
        ({}, {"a": 1}, {"a": 1}),
        ({"a": 1}, {"a": 2}, {"a": 2}),
        ({"a": 1}, {"b": 2}, {"a": 1, "b": 2}),
        ({"a": 1, "b": 2}, {"a": None}, {"b": 2}),
        ({"a": {"x": 1}}, {"a": {"y": 2}}, {"a": {"y": 2}}),
        ({"a": 1}, {}, {"a": 1}),
    ],
)
def test_merged_traits(current, incoming, merged):
    assert merge_traits(current, incoming).traits == merged


def test_a_trait_change_is_announced_with_old_and_new_traits_once_committed(
    client, workspace, django_capture_on_commit_callbacks
):
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    profile_traits_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            call(client, workspace, "identify", userId="u", traits={"plan": "free"})
        with django_capture_on_commit_callbacks(execute=True):
            call(client, workspace, "identify", userId="u", traits={"plan": "free"})  # same
        with django_capture_on_commit_callbacks(execute=True):
            send(
                client,
                "batch",
                {
                    "batch": [
                        {"type": "identify", "userId": "u", "traits": {"plan": "pro"}},
                        {"type": "identify", "userId": "u", "traits": {"seats": 3}},
                    ]
                },
                write_key=workspace.write_key,
            )
    finally:
        profile_traits_changed.disconnect(receiver)

    profile = Profile.objects.get()
    assert received == [
        {
            "signal": profile_traits_changed,
            "workspace_id": workspace.pk,
            "profile_id": profile.pk,
            "old_traits": {},
            "new_traits": {"plan": "free"},
        },
        {
            "signal": profile_traits_changed,
            "workspace_id": workspace.pk,
            "profile_id": profile.pk,
            "old_traits": {"plan": "free"},
            "new_traits": {"plan": "pro", "seats": 3},
        },
    ]


def test_alias_of_an_anonymous_id_merges_it_into_the_user(owner_client, workspace):
    call(owner_client, workspace, "track", anonymousId="anon-1", event="Started Trial")
    call(owner_client, workspace, "alias", previousId="anon-1", userId="user-1")

    profile = Profile.objects.get()
    assert Visitor.objects.get().profile == profile
    assert "Started Trial" in person_page(owner_client, workspace, profile)


def test_alias_of_a_previous_user_id_folds_that_person_into_the_new_one(owner_client, workspace):
    call(owner_client, workspace, "identify", anonymousId="anon-old", userId="old-id")
    call(owner_client, workspace, "identify", userId="old-id", traits={"plan": "pro", "a": 1})
    call(owner_client, workspace, "track", userId="old-id", event="Bought")
    call(owner_client, workspace, "identify", userId="new-id", traits={"a": 2})

    call(owner_client, workspace, "alias", previousId="old-id", userId="new-id")

    old, new = Profile.objects.get(user_id="old-id"), Profile.objects.get(user_id="new-id")
    assert old.merged_into == new
    assert new.traits == {"plan": "pro", "a": 2}
    assert Visitor.objects.get(anonymous_id="anon-old").profile == new
    page = person_page(owner_client, workspace, new)
    assert "Bought" in page
    assert "old-id" in page
    # The folded profile is no longer a person of its own.
    people = owner_client.get(reverse("delivery:people", args=[workspace.pk])).content.decode()
    assert reverse("delivery:person", args=[workspace.pk, old.pk]) not in people
    assert (
        owner_client.get(reverse("delivery:person", args=[workspace.pk, old.pk])).status_code == 404
    )
    # Later calls with the old userId count for the new person.
    call(owner_client, workspace, "identify", anonymousId="anon-later", userId="old-id")
    assert Visitor.objects.get(anonymous_id="anon-later").profile == new


def test_alias_of_an_id_never_seen_remembers_it_as_the_users_anonymous_id(client, workspace):
    call(client, workspace, "alias", previousId="anon-future", userId="user-1")
    call(client, workspace, "page", anonymousId="anon-future")

    visitor = Visitor.objects.get(anonymous_id="anon-future")
    assert visitor.profile == Profile.objects.get(user_id="user-1")
    assert visitor.is_identified


def test_alias_of_an_anonymous_id_already_merged_elsewhere_changes_nothing(client, workspace):
    call(client, workspace, "identify", anonymousId="anon-1", userId="ann")
    call(client, workspace, "alias", previousId="anon-1", userId="bob")

    assert Visitor.objects.get().profile.user_id == "ann"


def test_identity_never_crosses_workspaces(client, workspace):
    from tests.factories import WorkspaceFactory

    other = WorkspaceFactory()
    ProfileFactory(workspace=other, user_id="user-1")
    VisitorFactory(workspace=other, anonymous_id="anon-1")

    call(client, workspace, "identify", anonymousId="anon-1", userId="user-1")
    call(client, workspace, "alias", previousId="anon-1", userId="user-2")

    assert Visitor.objects.get(workspace=other).profile is None
    assert Profile.objects.filter(workspace=other).count() == 1
    assert Profile.objects.filter(workspace=workspace).count() == 2


def test_a_retried_identify_changes_nothing_the_second_time(
    client, workspace, django_capture_on_commit_callbacks
):
    body = {"userId": "u", "traits": {"plan": "pro"}, "messageId": "id-1"}
    with django_capture_on_commit_callbacks(execute=False) as first:
        call(client, workspace, "identify", **body)
    Profile.objects.update(traits={"plan": "enterprise"})  # changed since, by a later identify
    with django_capture_on_commit_callbacks(execute=False) as retry:
        call(client, workspace, "identify", **body)

    assert Profile.objects.get().traits == {"plan": "enterprise"}
    assert len(first) == 1
    assert retry == []
