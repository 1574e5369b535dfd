import json

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email

from anonmsg.models import Plan
from anonmsg.workspaces import create_workspace


class Command(BaseCommand):
    help = (
        "Create a workspace and its owner (an admin member; created if the e-mail is new). "
        "Prints the write key and the App API key, which is shown only here."
    )

    def add_arguments(self, parser):
        parser.add_argument("name", help="The workspace's name.")
        parser.add_argument("--plan", default=Plan.FREE, help="free (default), premium, enterprise")
        parser.add_argument("--owner", required=True, help="The owner's e-mail (created if new).")
        parser.add_argument(
            "--password",
            help="The owner's password. A new owner without one gets a generated password; "
            "an existing owner's password is replaced only when this is given.",
        )
        parser.add_argument(
            "--json",
            action="store_true",
            help='Print one JSON object: {"id", "name", "plan", "writeKey", "apiKey", "owner"}.',
        )

    def handle(self, *args, name, plan, owner, password, json: bool, **options):
        name = name.strip()
        if not name:
            raise CommandError("The workspace name cannot be empty.")
        plan = plan.strip().lower()
        if plan not in Plan.values:
            raise CommandError(
                f"--plan {plan!r} is not a plan: use one of {', '.join(Plan.values)}."
            )
        owner = owner.strip()
        try:
            validate_email(owner)
        except ValidationError:
            raise CommandError(
                f"--owner {owner!r} is not a valid e-mail address (e.g. you@example.com)."
            ) from None
        if password is not None and not password:
            raise CommandError("--password cannot be empty.")
        try:
            created = create_workspace(name=name, plan=plan, owner_email=owner, password=password)
        except ValidationError as exc:
            raise CommandError(_describe(exc)) from None
        workspace = created.workspace
        if json:
            payload = {
                "id": workspace.pk,
                "name": workspace.name,
                "plan": workspace.plan,
                "writeKey": workspace.write_key,
                "apiKey": created.api_key,
                "owner": created.owner.get_username(),
            }
            self.stdout.write(_dumps(payload))
            if created.generated_password:
                # stdout carries exactly the documented object; the password goes to stderr.
                self.stderr.write(
                    f"Generated password for {created.owner.get_username()}: "
                    f"{created.generated_password}"
                )
            return
        self.stdout.write(
            self.style.SUCCESS(
                f"Created workspace {workspace.name!r} (id {workspace.pk}, plan {workspace.plan})."
            )
        )
        state = "new user" if created.owner_created else "existing user"
        self.stdout.write(f"Owner:       {created.owner.get_username()} ({state}, admin)")
        if created.generated_password:
            self.stdout.write(f"Password:    {created.generated_password}")
        elif password and not created.owner_created:
            self.stdout.write("Password:    updated to the one given")
        self.stdout.write(f"Write key:   {workspace.write_key}")
        self.stdout.write(f"App API key: {created.api_key}")
        self.stdout.write("The App API key is shown only now: store it in a secret manager.")


def _describe(exc: ValidationError) -> str:
    if hasattr(exc, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in exc.message_dict.items()
        )
    return " ".join(exc.messages)


def _dumps(payload: dict) -> str:
    return json.dumps(payload)
