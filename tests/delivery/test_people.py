import re
from datetime import UTC, datetime

import pytest
from django.db import connection
from django.urls import reverse

from tests.factories import EventFactory, ProfileFactory, VisitorFactory, WorkspaceFactory


def people_url(workspace, query=""):
    return reverse("delivery:people", args=[workspace.pk]) + query


def person_url(workspace, profile):
    return reverse("delivery:person", args=[workspace.pk, profile.pk])


def shown_people(response) -> list[int]:
    assert response.status_code == 200
    return [
        int(pk)
        for pk in re.findall(
            r'class="person-link" href="/w/\d+/people/(\d+)/"', response.content.decode()
        )
    ]


def test_people_lists_identified_profiles_not_anonymous_visitors(owner_client, workspace):
    ann = ProfileFactory(workspace=workspace, user_id="ann", email="ann@example.com")
    VisitorFactory(workspace=workspace, anonymous_id="anon-ann", profile=ann)
    VisitorFactory(workspace=workspace, anonymous_id="anon-stranger")

    response = owner_client.get(people_url(workspace))

    assert shown_people(response) == [ann.pk]
    body = response.content.decode()
    assert "ann@example.com" in body
    assert "anon-stranger" not in body


def test_people_never_lists_another_workspaces_profiles(owner_client, workspace):
    ProfileFactory(workspace=WorkspaceFactory(), user_id="their-user")
    response = owner_client.get(people_url(workspace))
    assert shown_people(response) == []
    assert "their-user" not in response.content.decode()


def test_people_shows_how_to_get_people_when_there_are_none(owner_client, workspace):
    VisitorFactory(workspace=workspace)
    body = owner_client.get(people_url(workspace)).content.decode()
    assert "No identified people yet" in body
    assert "you have 1 of them" in body


def test_people_search_by_user_id_or_email(owner_client, workspace):
    ann = ProfileFactory(workspace=workspace, user_id="ann-1", email="ann@example.com")
    bob = ProfileFactory(workspace=workspace, user_id="bob-2", email="bob@corp.test")

    assert shown_people(owner_client.get(people_url(workspace, "?q=ANN"))) == [ann.pk]
    assert shown_people(owner_client.get(people_url(workspace, "?q=corp.test"))) == [bob.pk]
    response = owner_client.get(people_url(workspace, "?q=zed"))
    assert shown_people(response) == []
    assert "Nobody matches" in response.content.decode()


@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite's LIKE folds ASCII letters only"
)
def test_people_search_folds_the_case_of_any_letter_in_a_user_id(owner_client, workspace):
    # userIds compare byte for byte ("C" collation, delivery/identifier_field.py), where
    # UPPER() leaves "É" alone; the search reads them in the database's own collation.
    emile = ProfileFactory(workspace=workspace, user_id="émile-7", email="")
    ProfileFactory(workspace=workspace, user_id="emile-8", email="")

    assert shown_people(owner_client.get(people_url(workspace, "?q=ÉMILE"))) == [emile.pk]


def test_people_are_paginated_most_recently_seen_first(owner_client, workspace):
    profiles = [
        ProfileFactory(workspace=workspace, last_seen_at=datetime(2025, 1, 1 + n % 28, tzinfo=UTC))
        for n in range(55)
    ]
    expected = [p.pk for p in sorted(profiles, key=lambda p: (p.last_seen_at, p.pk), reverse=True)]

    first = shown_people(owner_client.get(people_url(workspace)))
    second = shown_people(owner_client.get(people_url(workspace, "?page=2")))
    assert first + second == expected
    assert len(first) == 50


def test_an_htmx_search_gets_only_the_results(owner_client, workspace):
    ProfileFactory(workspace=workspace, user_id="ann")
    response = owner_client.get(people_url(workspace, "?q=ann"), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert body.lstrip().startswith('<section id="people-results"')
    assert "<html" not in body


def test_a_person_shows_traits_anonymous_ids_and_all_activity(owner_client, workspace):
    ann = ProfileFactory(
        workspace=workspace, user_id="ann", traits={"plan": "pro", "name": "Ann Lee"}
    )
    VisitorFactory(workspace=workspace, anonymous_id="laptop-id", profile=ann)
    VisitorFactory(workspace=workspace, anonymous_id="phone-id", profile=ann)
    EventFactory(workspace=workspace, anonymous_id="laptop-id", name="Viewed Pricing")
    EventFactory(workspace=workspace, anonymous_id="phone-id", name="Read Blog")
    EventFactory(workspace=workspace, anonymous_id="", user_id="ann", name="Paid")
    EventFactory(workspace=workspace, anonymous_id="someone-else", name="Not Ann's")
    EventFactory(workspace=WorkspaceFactory(), anonymous_id="laptop-id", name="Other workspace")

    response = owner_client.get(person_url(workspace, ann))

    body = response.content.decode()
    assert response.status_code == 200
    assert "Ann Lee" in body and "pro" in body
    assert "laptop-id" in body and "phone-id" in body
    for name in ("Viewed Pricing", "Read Blog", "Paid"):
        assert name in body
    assert "Not Ann" not in body
    assert "Other workspace" not in body


def test_an_outsider_gets_404_on_people_and_on_a_person(outsider_client, workspace):
    ann = ProfileFactory(workspace=workspace)
    assert outsider_client.get(people_url(workspace)).status_code == 404
    assert outsider_client.get(person_url(workspace, ann)).status_code == 404


def test_another_workspaces_person_is_404_through_this_workspace(owner_client, workspace):
    theirs = ProfileFactory(workspace=WorkspaceFactory())
    assert owner_client.get(person_url(workspace, theirs)).status_code == 404
