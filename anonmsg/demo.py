"""The demo workspace that `make run` seeds, so a newcomer has something to look at."""

from django.contrib.auth import get_user_model
from django.db import transaction

from anonmsg.models import Membership, Plan, Role, Workspace

DEMO_EMAIL = "demo@anonmsg.local"
DEMO_PASSWORD = "anonmsg-demo"
DEMO_WORKSPACE = "Demo workspace"


@transaction.atomic
def seed_demo() -> Workspace:
    """Create (or repair) the demo owner and premium workspace. Safe to run again."""
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=DEMO_EMAIL, defaults={"email": DEMO_EMAIL})
    if not user.check_password(DEMO_PASSWORD):
        user.set_password(DEMO_PASSWORD)
        user.save(update_fields=["password"])
    workspace = (
        Workspace.objects.filter(name=DEMO_WORKSPACE, memberships__user=user).order_by("pk").first()
    )
    if workspace is None:
        workspace = Workspace.objects.create(name=DEMO_WORKSPACE, plan=Plan.PREMIUM)
        workspace.rotate_api_key()
    Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": Role.ADMIN}
    )
    if workspace.plan == Plan.FREE:
        workspace.plan = Plan.PREMIUM
        workspace.save(update_fields=["plan"])
    return workspace
