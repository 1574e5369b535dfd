"""What an invitation link offers, as a table: state × who is logged in × account exists."""

from datetime import UTC, datetime, timedelta

import pytest

from anonmsg.invitation_steps import State, Step, invitation_state, next_step

NOW = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=7)


@pytest.mark.parametrize(
    ("accepted_at", "revoked_at", "expires_at", "state"),
    [
        (None, None, LATER, State.PENDING),
        (None, None, NOW + timedelta(seconds=1), State.PENDING),
        (None, None, NOW, State.EXPIRED),  # expiry is exclusive
        (None, None, NOW - timedelta(days=1), State.EXPIRED),
        (None, NOW, LATER, State.REVOKED),
        (None, NOW, NOW - timedelta(days=1), State.REVOKED),  # revoked says more than expired
        (NOW, None, LATER, State.ACCEPTED),
        (NOW, None, NOW - timedelta(days=1), State.ACCEPTED),  # used, then its time ran out
    ],
)
def test_invitation_state(accepted_at, revoked_at, expires_at, state):
    assert (
        invitation_state(
            accepted_at=accepted_at, revoked_at=revoked_at, expires_at=expires_at, now=NOW
        )
        is state
    )


@pytest.mark.parametrize(
    ("state", "account_exists", "username", "step"),
    [
        (None, False, None, Step.INVALID),
        (None, True, "pat@example.com", Step.INVALID),
        (State.ACCEPTED, True, None, Step.USED),
        (State.ACCEPTED, True, "pat@example.com", Step.USED),
        (State.REVOKED, False, None, Step.REVOKED),
        (State.EXPIRED, False, "pat@example.com", Step.EXPIRED),
        (State.PENDING, False, None, Step.SIGN_UP),
        (State.PENDING, True, None, Step.LOG_IN),
        (State.PENDING, True, "pat@example.com", Step.ACCEPT),
        (State.PENDING, True, " Pat@Example.COM ", Step.ACCEPT),
        (State.PENDING, True, "carol@example.com", Step.WRONG_ACCOUNT),
        (State.PENDING, False, "carol@example.com", Step.WRONG_ACCOUNT),
        (State.PENDING, True, "pat@example.com.evil.test", Step.WRONG_ACCOUNT),
    ],
)
def test_next_step(state, account_exists, username, step):
    assert (
        next_step(
            state=state,
            invited_email="pat@example.com",
            account_exists=account_exists,
            username=username,
        )
        is step
    )
