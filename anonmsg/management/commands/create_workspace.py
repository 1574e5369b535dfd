import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from anonmsg.models import Plan
from anonmsg.workspaces import create_workspace


class Command(BaseCommand):
    help = "Create a workspace and its owner; print its write key and App API key."

    def add_arguments(self, parser):
        parser.add_argument("name")
        parser.add_argument("--plan", default=Plan.FREE, choices=Plan.values)
        parser.add_argument("--owner", required=True, help="The owner's e-mail (created if new).")
        parser.add_argument(
            "--password", help="The owner's password (generated for a new owner if omitted)."
        )
        parser.add_argument("--json", action="store_true", help="Print one JSON object.")

    def handle(self, *args, name, plan, owner, password, json: bool, **options):
        name = name.strip()
        if not name:
            raise CommandError("The workspace name cannot be empty.")
        try:
            validate_email(owner)
        except ValidationError:
            raise CommandError(f"--owner {owner!r} is not a valid e-mail address.") from None
        try:
            created = create_workspace(name=name, plan=plan, owner_email=owner, password=password)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from None
        ws = created.workspace
        if json:
            self.stdout.write(_json_line(ws, created))
            return
        self.stdout.write(
            self.style.SUCCESS(f"Created workspace {ws.name!r} (id {ws.pk}, plan {ws.plan}).")
        )
        self.stdout.write(f"Owner:       {created.owner.username}")
        if created.generated_password:
            self.stdout.write(f"Password:    {created.generated_password}")
        self.stdout.write(f"Write key:   {ws.write_key}")
        self.stdout.write(f"App API key: {created.api_key}  (shown once; store it now)")


def _json_line(ws, created) -> str:
    payload = {
        "id": ws.pk,
        "name": ws.name,
        "plan": ws.plan,
        "writeKey": ws.write_key,
        "apiKey": created.api_key,
        "owner": created.owner.username,
    }
    if created.generated_password:
        payload["password"] = created.generated_password
    return json.dumps(payload)
