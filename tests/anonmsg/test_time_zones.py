from datetime import UTC, datetime

from django.urls import reverse

from anonmsg.forms import COMMON_TIME_ZONES, _offset, time_zone_choices


def test_common_time_zones_come_first_with_their_offset_and_every_zone_once():
    (common_title, common), (all_title, others) = time_zone_choices()
    assert (common_title, all_title) == ("Common time zones", "All time zones")
    assert [name for name, _ in common] == list(COMMON_TIME_ZONES)
    labels = dict(common)
    assert labels["UTC"] == "UTC"
    assert labels["Asia/Kolkata"] == "Asia/Kolkata (UTC+05:30)"
    names = [name for name, _ in common + others]
    assert len(names) == len(set(names))
    assert [name for name, _ in others] == sorted(name for name, _ in others)
    assert "America/Argentina/Buenos_Aires" in names


def test_the_offset_follows_summer_time():
    assert _offset("Europe/Paris", datetime(2026, 1, 15, tzinfo=UTC)) == "UTC+01:00"
    assert _offset("Europe/Paris", datetime(2026, 7, 15, tzinfo=UTC)) == "UTC+02:00"
    assert _offset("America/New_York", datetime(2026, 1, 15, tzinfo=UTC)) == "UTC−05:00"


def test_the_general_settings_offer_common_zones_first_and_save_any_zone(owner_client, workspace):
    url = reverse("settings-general", args=[workspace.pk])
    body = owner_client.get(url).content.decode()
    common = body.index('<optgroup label="Common time zones">')
    everything = body.index('<optgroup label="All time zones">')
    assert common < body.index('value="Europe/Paris"') < everything
    assert everything < body.index('value="Europe/Vienna"')
    owner_client.post(url, {"name": "Acme", "time_zone": "Europe/Vienna"})
    workspace.refresh_from_db()
    assert workspace.time_zone == "Europe/Vienna"
