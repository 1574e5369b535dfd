"""Workspace members: who may use a workspace, and as what (admin or member).

Every workspace keeps at least one admin who can log in: the last one can be neither demoted
nor removed. Changes to one workspace's members lock the workspace row first, so two admins
demoting or removing each other at the same moment cannot both succeed.
"""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction

from anonmsg.models import Membership, Role, Workspace

# auth.User's username column; usernames are e-mail addresses here.
MAX_EMAIL_LENGTH = 150


@dataclass(frozen=True)
class AddedMember:
    membership: Membership
    # Set when an account was created: shown to the admin once, stored only as a hash.
    one_time_password: str | None = None


@transaction.atomic
def add_member(*, workspace: Workspace, email: str, role: str) -> AddedMember:
    """Add the user whose user name is `email` (creating the account if there is none).

    Raises ValidationError (nothing written) for an invalid e-mail or role, or someone who is
    already a member.
    """
    email = email.strip().lower()
    validate_email(email)
    if len(email) > MAX_EMAIL_LENGTH:
        raise ValidationError(f"Use an e-mail of at most {MAX_EMAIL_LENGTH} characters.")
    _check_role(role)
    _lock(workspace)
    user = _find_user(email)
    password = None
    if user is None:
        password = secrets.token_urlsafe(12)
        user, created = _create_user(email, password)
        if not created:
            password = None
    if Membership.objects.filter(workspace=workspace, user=user).exists():
        raise ValidationError(f"{email} is already a member of this workspace.")
    membership = Membership.objects.create(workspace=workspace, user=user, role=role)
    return AddedMember(membership=membership, one_time_password=password)


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    _check_role(role)
    current = _locked_current(membership)
    if current.is_admin and role != Role.ADMIN and not _other_admins(current).exists():
        raise ValidationError(
            f"{current.user.get_username()} is the only admin of this workspace. "
            "Make someone else an admin first."
        )
    membership.role = current.role = role
    current.save(update_fields=["role"])
    return membership


@transaction.atomic
def remove_member(*, membership: Membership) -> None:
    current = _locked_current(membership)
    if current.is_admin and not _other_admins(current).exists():
        raise ValidationError(
            f"{current.user.get_username()} is the only admin of this workspace and cannot be "
            "removed. Make someone else an admin first."
        )
    current.delete()


def _check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(f"Choose a role: {', '.join(Role.labels)}.")


def _lock(workspace: Workspace) -> None:
    list(Workspace.objects.select_for_update().filter(pk=workspace.pk).values_list("pk"))


def _locked_current(membership: Membership) -> Membership:
    """The membership as stored now, read under the workspace lock."""
    _lock(membership.workspace)
    current = (
        Membership.objects.select_related("user")
        .filter(pk=membership.pk, workspace_id=membership.workspace_id)
        .first()
    )
    if current is None:
        raise ValidationError("This person is no longer a member of this workspace.")
    return current


def _other_admins(membership: Membership):
    return Membership.objects.filter(
        workspace_id=membership.workspace_id, role=Role.ADMIN, user__is_active=True
    ).exclude(pk=membership.pk)


def _find_user(email: str) -> AbstractBaseUser | None:
    """The account that logs in with `email` (auth.py matches user names case-insensitively)."""
    users = get_user_model()._default_manager.filter(username__iexact=email)
    exact = users.filter(username=email).first()
    if exact is not None:
        return exact
    matches = list(users[:2])
    if len(matches) > 1:
        raise ValidationError(
            f"Several accounts match {email} in different cases: add the right one in the admin."
        )
    return matches[0] if matches else None


def _create_user(email: str, password: str) -> tuple[AbstractBaseUser, bool]:
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User._default_manager.create_user(username=email, email=email, password=password)
            return user, True
    except IntegrityError:
        # Another request created this account a moment ago (adding them to another workspace).
        return User._default_manager.get(username=email), False
