"""The demo workspace that `make run` seeds, so a newcomer has something to look at.

Its messages are shown by the demo website (delivery/demo_site.py, /demo/). Lives in delivery
because it needs both campaigns (the messages) and the demo site; apps import one way.
"""

from django.contrib.auth import get_user_model
from django.db import transaction

from anonmsg.demo import DEMO_EMAIL, DEMO_PASSWORD, DEMO_WORKSPACE
from anonmsg.models import Membership, Plan, Role, Workspace
from campaigns.content import build_html
from campaigns.lifecycle import launch_message
from campaigns.models import AnonymousMessage, PageRule


@transaction.atomic
def seed_demo() -> Workspace:
    """Create (or repair) the demo owner and premium workspace. Safe to run again.

    The demo owner is also staff, so a newcomer can open the admin (where plans change).
    """
    User = get_user_model()
    user, _ = User.objects.get_or_create(username=DEMO_EMAIL, defaults={"email": DEMO_EMAIL})
    if not (user.check_password(DEMO_PASSWORD) and user.is_staff and user.is_superuser):
        user.set_password(DEMO_PASSWORD)
        user.is_active = user.is_staff = user.is_superuser = True
        user.save(update_fields=["password", "is_active", "is_staff", "is_superuser"])
    workspace = (
        Workspace.objects.filter(name=DEMO_WORKSPACE, memberships__user=user).order_by("pk").first()
    )
    if workspace is None:
        workspace = Workspace.objects.create(name=DEMO_WORKSPACE, plan=Plan.PREMIUM)
        workspace.rotate_api_key()
    Membership.objects.update_or_create(
        user=user, workspace=workspace, defaults={"role": Role.ADMIN}
    )
    if not workspace.has_anonymous_messages:
        workspace.plan = Plan.PREMIUM
        workspace.save(update_fields=["plan"])
        workspace.bump_content_version()
    seed_demo_messages(workspace)
    return workspace


# The demo website (delivery/demo_site.py, /demo/) shows these. Created once, by name, and
# launched; left alone afterwards, so a newcomer's edits, pauses or deletions stick.
DEMO_MESSAGES = [
    {
        "name": "Pricing: 20% off the first year",
        "description": "Demo: a centred modal on the demo site's pricing page.",
        "priority": 1,
        "display_type": "modal",
        "display_position": "center",
        "frequency_mode": "until_dismissed",
        "rules": [{"platform": "web", "operator": "is", "value": "/demo/pricing"}],
        "builder": {
            "heading": "20% off your first year",
            "text": "Start a Team trial today and keep the discount when you upgrade.",
            "buttons": [
                {"label": "Claim my discount", "action": "claim-offer", "url": "/demo/signup/"},
                {"kind": "close", "label": "Not now"},
            ],
        },
    },
    {
        "name": "Blog: weekly newsletter",
        "description": (
            "Demo: a corner message on every blog post, at most 3 times per visitor. Its lead "
            "form identifies a visitor by their e-mail address and counts a click on "
            "“subscribe”, so it converts them (the default goal: identified within 7 days of "
            "a click)."
        ),
        "priority": 2,
        "display_type": "overlay",
        "display_position": "bottom-right",
        "frequency_mode": "times",
        "frequency_times": 3,
        "rules": [{"platform": "web", "operator": "matches", "value": "/demo/blog/*"}],
        "builder": {
            "heading": "Enjoying the blog?",
            "text": "One e-mail a week with what we shipped and what we learned.",
            "lead": {
                "action": "subscribe",
                "button": "Subscribe",
                "ask_name": False,
                "thanks": "Thanks! The next issue is on its way to your inbox.",
            },
        },
    },
]


def seed_demo_messages(workspace: Workspace) -> None:
    for spec in DEMO_MESSAGES:
        if AnonymousMessage.objects.filter(workspace=workspace, name=spec["name"]).exists():
            continue
        fields = {k: v for k, v in spec.items() if k not in ("rules", "builder")}
        message = AnonymousMessage.objects.create(
            workspace=workspace,
            content_builder=spec["builder"],
            content_html=build_html(spec["builder"], display_type=spec["display_type"]),
            **fields,
        )
        for position, rule in enumerate(spec["rules"]):
            PageRule.objects.create(message=message, position=position, **rule)
        launch_message(message=message)
