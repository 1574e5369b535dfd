"""Workspace members: who may use a workspace, and as what (admin or member).

People join through invitations (anonmsg/invitations.py); this module changes and removes them.
Every workspace keeps at least one admin who can log in: the last one can be neither demoted
nor removed. Changes to one workspace's members lock the workspace row first, so two admins
demoting or removing each other at the same moment cannot both succeed. Removing or demoting an
admin revokes the invitations they sent that are still open.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from anonmsg.models import Invitation, Membership, Role, Workspace


@transaction.atomic
def change_role(*, membership: Membership, role: str) -> Membership:
    check_role(role)
    current = _locked_current(membership)
    if current.is_admin and role != Role.ADMIN and not _other_admins(current).exists():
        raise ValidationError(
            f"{current.user.get_username()} is the only admin of this workspace. "
            "Make someone else an admin first."
        )
    if current.is_admin and role != Role.ADMIN:
        _revoke_invitations_sent_by(current)
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
    _revoke_invitations_sent_by(current)
    current.delete()


def _revoke_invitations_sent_by(membership: Membership) -> None:
    """An admin who is removed or demoted must not come back (or bring anyone) through an
    invitation they sent while they were an admin."""
    Invitation.objects.open().filter(
        workspace_id=membership.workspace_id, invited_by_id=membership.user_id
    ).update(revoked_at=timezone.now())


def check_role(role: str) -> None:
    if role not in Role.values:
        raise ValidationError(f"Choose a role: {', '.join(Role.labels)}.")


def lock_workspace(workspace: Workspace) -> None:
    """Serialise changes to one workspace's members and invitations (until the commit)."""
    list(Workspace.objects.select_for_update().filter(pk=workspace.pk).values_list("pk"))


def _locked_current(membership: Membership) -> Membership:
    """The membership as stored now, read under the workspace lock."""
    lock_workspace(membership.workspace)
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
