"""The write key → workspace lookup kept in the process (delivery/tracking/write_keys.py):
how long another process's rotation takes to reach this one."""

import time

import pytest
from django.core.cache import cache

from anonmsg.models import Workspace
from delivery.tracking import write_keys
from tests.delivery.tracking_helpers import send

TRACK = {"anonymousId": "a-1", "event": "Signed up"}


@pytest.mark.django_db(transaction=True)
def test_a_key_rotated_by_another_process_stops_working_here_within_seconds(
    client, workspace, redis_cache, monkeypatch
):
    monkeypatch.setattr(write_keys, "LOCAL_KEY_SECONDS", 0.3)
    old = workspace.write_key
    assert send(client, "track", TRACK, write_key=old).status_code == 200
    # Another process rotates the key: it forgets the shared entry; this one hears nothing.
    Workspace.objects.filter(pk=workspace.pk).update(write_key="wk_rotated_elsewhere_0000000")
    cache.delete(f"delivery:write-key:{old}")

    assert send(client, "track", TRACK, write_key=old).status_code == 200  # known here still
    time.sleep(0.35)
    assert send(client, "track", TRACK, write_key=old).status_code == 401
    assert send(client, "track", TRACK, write_key="wk_rotated_elsewhere_0000000").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_rotation_in_this_process_is_forgotten_here_at_once(client, workspace, redis_cache):
    old = workspace.write_key
    assert send(client, "track", TRACK, write_key=old).status_code == 200

    write_keys.forget_write_key(old)  # what the rotation's signal does (delivery/invalidation.py)
    Workspace.objects.filter(pk=workspace.pk).update(write_key="wk_rotated_here_000000000000")

    assert send(client, "track", TRACK, write_key=old).status_code == 401
