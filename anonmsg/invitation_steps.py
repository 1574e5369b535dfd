"""What the holder of an invitation link sees and may do next. Pure: plain values in and out.

The rule that stops a forwarded link from being used by someone else: only the account whose
user name is the invited address accepts, and a new account can only be created for that
address, never for another one.
"""

from datetime import datetime
from enum import StrEnum


class State(StrEnum):
    PENDING = "pending"
    EXPIRED = "expired"
    REVOKED = "revoked"
    ACCEPTED = "accepted"


class Step(StrEnum):
    INVALID = "invalid"  # no invitation has this token
    USED = "used"
    REVOKED = "revoked"
    EXPIRED = "expired"
    ACCEPT = "accept"  # logged in as the invited address: one click
    WRONG_ACCOUNT = "wrong_account"  # logged in as someone else: log out first
    LOG_IN = "log_in"  # the invited address has an account: log in as it
    SIGN_UP = "sign_up"  # no account yet: choose a password for the invited address


# What the link answers in each step that is a dead end (the others are 200).
DEAD_END_STATUS = {Step.INVALID: 404, Step.USED: 410, Step.REVOKED: 410, Step.EXPIRED: 410}


def invitation_state(
    *,
    accepted_at: datetime | None,
    revoked_at: datetime | None,
    expires_at: datetime,
    now: datetime,
) -> State:
    if accepted_at is not None:
        return State.ACCEPTED
    if revoked_at is not None:
        return State.REVOKED
    if now >= expires_at:
        return State.EXPIRED
    return State.PENDING


def same_address(a: str, b: str) -> bool:
    """User names are e-mail addresses, matched case-insensitively (anonmsg/auth.py)."""
    return a.strip().casefold() == b.strip().casefold()


def next_step(
    *, state: State | None, invited_email: str, account_exists: bool, username: str | None
) -> Step:
    """`state` None: the token matches no invitation. `username`: who is logged in, if anyone."""
    if state is None:
        return Step.INVALID
    if state is not State.PENDING:
        return {State.ACCEPTED: Step.USED, State.REVOKED: Step.REVOKED}.get(state, Step.EXPIRED)
    if username is not None:
        return Step.ACCEPT if same_address(username, invited_email) else Step.WRONG_ACCOUNT
    return Step.LOG_IN if account_exists else Step.SIGN_UP
