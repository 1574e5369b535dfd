"""Invitations: how someone joins a workspace (decisions in docs/operations.md, "Members").

An admin invites an e-mail address with a role. The invitee gets a link carrying a random
token (256 bits; only its SHA-256 is stored) that works once, for INVITATION_LIFETIME. They
accept it logged in as the account whose user name is that address, or create that account
with a password of their own. Nobody is ever shown another person's password, and the admin
learns nothing about whether the address already has an account.
"""

import hashlib
import logging
import secrets
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from anonmsg.invitation_steps import same_address
from anonmsg.members import check_role, lock_workspace
from anonmsg.models import MAX_EMAIL_LENGTH, Invitation, Membership, Workspace

logger = logging.getLogger(__name__)

INVITATION_LIFETIME = timedelta(days=7)
# Caps that keep one workspace from turning the server into a mailer: pending invitations at
# once, and invitations sent (re-invitations included) in any 24 hours.
PENDING_LIMIT = 100
DAILY_LIMIT = 300
# Tokens are token_urlsafe(32): 43 characters. Anything much longer is not one of ours.
_MAX_TOKEN_LENGTH = 100


class InvitationUnavailable(Exception):
    """The invitation was used, revoked or expired while the invitee was looking at it."""


@dataclass(frozen=True)
class NewInvitation:
    invitation: Invitation
    # The only copy of the secret part of the link: put it in the e-mail and show it once.
    token: str


def hash_token(token: str) -> str:
    # 256 random bits: a fast hash is enough, and keeps the lookup to one indexed query.
    return hashlib.sha256(token.encode()).hexdigest()


def normalize_email(email: str) -> str:
    """Lower-case and validated, as user names are stored (ValidationError otherwise)."""
    email = email.strip().lower()
    validate_email(email)
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"Use an e-mail of at most {MAX_EMAIL_LENGTH} characters.")
    return email


def account_for(email: str) -> AbstractBaseUser | None:
    """The account that logs in as `email` (user names match case-insensitively)."""
    return get_user_model()._default_manager.filter(username__iexact=email).order_by("pk").first()


@transaction.atomic
def invite(
    *,
    workspace: Workspace,
    email: str,
    role: str,
    invited_by: AbstractBaseUser,
    now: datetime | None = None,
) -> NewInvitation:
    """Invite `email` to `workspace`, replacing any open invitation to the same address.

    Raises ValidationError (nothing written) for a bad address or role, a current member, or a
    workspace over its invitation caps. Says the same whether or not the address has an account.
    """
    now = now or timezone.now()
    email = normalize_email(email)
    check_role(role)
    lock_workspace(workspace)
    if Membership.objects.filter(workspace=workspace, user__username__iexact=email).exists():
        raise ValidationError(f"{email} is already a member of this workspace.")
    invitations = Invitation.objects.filter(workspace=workspace)
    invitations.open().filter(email=email).update(revoked_at=now)
    if invitations.pending(now).count() >= PENDING_LIMIT:
        raise ValidationError(
            f"This workspace already has {PENDING_LIMIT} pending invitations: revoke some, or "
            "wait until they are accepted or expire."
        )
    if invitations.filter(created_at__gt=now - timedelta(days=1)).count() >= DAILY_LIMIT:
        raise ValidationError(
            f"This workspace sent {DAILY_LIMIT} invitations in the last 24 hours, the most it "
            "may: try again tomorrow."
        )
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        workspace=workspace,
        email=email,
        role=role,
        invited_by=invited_by,
        token_hash=hash_token(token),
        created_at=now,
        expires_at=now + INVITATION_LIFETIME,
    )
    return NewInvitation(invitation=invitation, token=token)


def find_by_token(token: str) -> Invitation | None:
    if not isinstance(token, str) or not 0 < len(token) <= _MAX_TOKEN_LENGTH:
        return None
    return (
        Invitation.objects.select_related("workspace", "invited_by")
        .filter(token_hash=hash_token(token))
        .first()
    )


def revoke(*, invitation: Invitation, now: datetime | None = None) -> bool:
    """Stop the link from working. False if it was already accepted or revoked."""
    now = now or timezone.now()
    revoked = Invitation.objects.open().filter(pk=invitation.pk).update(revoked_at=now)
    if revoked:
        invitation.revoked_at = now
    return bool(revoked)


@transaction.atomic
def accept(*, invitation: Invitation, user: AbstractBaseUser) -> Membership:
    """Make `user`, who must be the invited address's account, a member (once).

    An invitee who is already a member keeps their role. Raises PermissionDenied for another
    account and InvitationUnavailable when the link no longer works.
    """
    if not same_address(user.get_username(), invitation.email):
        raise PermissionDenied("This invitation is for another e-mail address.")
    _claim(invitation, user)
    membership, _ = Membership.objects.get_or_create(
        workspace_id=invitation.workspace_id, user=user, defaults={"role": invitation.role}
    )
    return membership


@transaction.atomic
def create_account_and_accept(*, invitation: Invitation, password: str) -> AbstractBaseUser:
    """Create the invited address's account with the invitee's own password, and accept.

    Raises ValidationError when that account exists (the invitee must log in instead) and
    InvitationUnavailable when the link no longer works. `password` is validated by the form.
    """
    if account_for(invitation.email) is not None:
        raise _account_exists(invitation.email)
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User._default_manager.create_user(
                username=invitation.email, email=invitation.email, password=password
            )
    except IntegrityError:
        # Created a moment ago, e.g. through another workspace's invitation.
        raise _account_exists(invitation.email) from None
    _claim(invitation, user)
    Membership.objects.create(workspace_id=invitation.workspace_id, user=user, role=invitation.role)
    return user


def _claim(invitation: Invitation, user: AbstractBaseUser) -> None:
    """Mark the invitation used, if it still works: exactly one request can."""
    now = timezone.now()
    claimed = (
        Invitation.objects.pending(now)
        .filter(pk=invitation.pk)
        .update(accepted_at=now, accepted_by=user)
    )
    if claimed != 1:
        raise InvitationUnavailable
    invitation.accepted_at, invitation.accepted_by = now, user


def _account_exists(email: str) -> ValidationError:
    return ValidationError(
        f"An account for {email} already exists. Log in with it to accept the invitation."
    )


def send_invitation_email(*, invitation: Invitation, link: str) -> bool:
    """E-mail the link to the invitee. False (logged) if the mail server refused it."""
    inviter = invitation.invited_by.get_username() if invitation.invited_by else "An admin"
    context = {
        "invitation": invitation,
        "inviter": inviter,
        "link": link,
        "role": invitation.get_role_display().lower(),
    }
    # One line: a workspace name is the admins' text, and a header must not break.
    subject = " ".join(render_to_string("anonmsg/email/invitation_subject.txt", context).split())
    body = render_to_string("anonmsg/email/invitation.txt", context)
    try:
        EmailMessage(subject, body, settings.DEFAULT_FROM_EMAIL, [invitation.email]).send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning("Invitation %s: e-mail not sent (%s)", invitation.pk, exc)
        return False
    return True
