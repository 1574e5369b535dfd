"""Creating workspaces and their owners (used by commands, the demo and tests)."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db import transaction

from anonmsg.models import Membership, Plan, Role, Workspace


@dataclass
class NewWorkspace:
    workspace: Workspace
    owner: object
    api_key: str
    # Set only when the owner was created here without a given password.
    generated_password: str | None = None


@transaction.atomic
def create_workspace(
    *, name: str, plan: str = Plan.FREE, owner_email: str, password: str | None = None
) -> NewWorkspace:
    """Create a workspace, its owner (if the e-mail is new) as admin member, and an App API key."""
    User = get_user_model()
    owner = User.objects.filter(username__iexact=owner_email).first()
    generated = None
    if owner is None:
        generated = None if password else secrets.token_urlsafe(12)
        owner = User.objects.create_user(
            username=owner_email, email=owner_email, password=password or generated
        )
    elif password:
        owner.set_password(password)
        owner.save(update_fields=["password"])
    workspace = Workspace(name=name, plan=plan)
    workspace.full_clean()
    workspace.save()
    Membership.objects.create(user=owner, workspace=workspace, role=Role.ADMIN)
    api_key = workspace.rotate_api_key()
    return NewWorkspace(
        workspace=workspace, owner=owner, api_key=api_key, generated_password=generated
    )
