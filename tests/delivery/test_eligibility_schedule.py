"""`eligibility.next_schedule_change`: until when the answer for a visitor without state holds
(live_messages.stateless_body memoises it until then)."""

from datetime import UTC, datetime, timedelta

import pytest

from delivery.sdk_api.eligibility import LiveMessage, next_schedule_change, select_candidates

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def message(number, **fields):
    return LiveMessage(id=number, name=f"m{number}", **fields)


@pytest.mark.parametrize(
    ("messages", "expected"),
    [
        ([], None),
        ([message(1)], None),
        ([message(1, starts_at=NOW - HOUR, ends_at=NOW - HOUR / 2)], None),
        ([message(1, starts_at=NOW + HOUR)], NOW + HOUR),
        (
            [message(1, ends_at=NOW + 2 * HOUR), message(2, starts_at=NOW + 3 * HOUR)],
            NOW + 2 * HOUR,
        ),
        ([message(1, starts_at=NOW - HOUR, ends_at=NOW + 5 * HOUR)], NOW + 5 * HOUR),
        ([message(1, ends_at=NOW)], None),  # an end equal to now has already ended
    ],
)
def test_the_next_start_or_end_still_ahead(messages, expected):
    assert next_schedule_change(messages, now=NOW) == expected


def test_the_answer_without_state_holds_until_the_next_change():
    messages = [
        message(1, starts_at=NOW + HOUR),
        message(2, ends_at=NOW + 3 * HOUR, display_type="banner", display_position="top"),
        message(3, display_type="inline", display_element_id="slot"),
    ]
    change = next_schedule_change(messages, now=NOW)
    answer = select_candidates(messages, now=NOW, states={})
    moment = NOW
    while moment < change:
        assert select_candidates(messages, now=moment, states={}) == answer
        moment += timedelta(minutes=7)
    assert select_candidates(messages, now=change, states={}) != answer
