"""Creating workspaces and their owners (used by commands, the demo and tests)."""

import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from anonmsg.models import Membership, Plan, Role, Workspace


@dataclass
class NewWorkspace:
    workspace: Workspace
    owner: AbstractBaseUser
    api_key: str
    owner_created: bool
    # Set only when the owner was created here without a given password.
    generated_password: str | None = None


@transaction.atomic
def create_workspace(
    *, name: str, plan: str = Plan.FREE, owner_email: str, password: str | None = None
) -> NewWorkspace:
    """Create a workspace, its owner (if the e-mail is new) as admin member, and an App API key.

    Raises ValidationError (nothing written) when the name, plan or time zone is invalid.
    An existing owner keeps their password unless `password` is given.
    """
    User = get_user_model()
    email = owner_email.strip().lower()
    workspace = Workspace(name=name.strip(), plan=plan)
    workspace.full_clean()
    workspace.save()
    owner = User.objects.filter(username__iexact=email).first()
    generated = None
    owner_created = owner is None
    if owner is None:
        generated = None if password else secrets.token_urlsafe(12)
        owner = User.objects.create_user(
            username=email, email=email, password=password or generated
        )
    elif password:
        owner.set_password(password)
        owner.save(update_fields=["password"])
    Membership.objects.create(user=owner, workspace=workspace, role=Role.ADMIN)
    api_key = workspace.rotate_api_key()
    return NewWorkspace(
        workspace=workspace,
        owner=owner,
        api_key=api_key,
        owner_created=owner_created,
        generated_password=generated,
    )
