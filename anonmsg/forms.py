import zoneinfo
from datetime import UTC, datetime, timedelta
from functools import cache
from urllib.parse import urlsplit

from django import forms
from django.contrib.auth import get_user_model
from django.contrib.auth.forms import SetPasswordMixin

from anonmsg.models import MAX_EMAIL_LENGTH, Role, Workspace

# Where most workspaces are, west to east: offered first, with their offset today.
COMMON_TIME_ZONES = (
    "UTC",
    "America/Los_Angeles",
    "America/Denver",
    "America/Chicago",
    "America/New_York",
    "America/Sao_Paulo",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Amsterdam",
    "Europe/Istanbul",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Singapore",
    "Asia/Shanghai",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
)


def _label(name: str) -> str:
    return name.replace("_", " ")


def _offset(name: str, now: datetime) -> str:
    """ "UTC+05:30" for a zone at `now` (today's offset: it changes with summer time)."""
    offset = now.astimezone(zoneinfo.ZoneInfo(name)).utcoffset() or timedelta(0)
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "−"
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@cache
def _other_time_zones() -> list[tuple[str, str]]:
    names = sorted(zoneinfo.available_timezones() - {"localtime", "Factory", *COMMON_TIME_ZONES})
    return [(name, _label(name)) for name in names]


def time_zone_choices() -> list[tuple[str, list[tuple[str, str]]]]:
    """The common zones first (with today's offset), then every other zone A–Z, each once."""
    now = datetime.now(UTC)
    common = [
        (name, name if name == "UTC" else f"{_label(name)} ({_offset(name, now)})")
        for name in COMMON_TIME_ZONES
    ]
    return [("Common time zones", common), ("All time zones", _other_time_zones())]


class WorkspaceForm(forms.ModelForm):
    """The general settings an admin may change (the plan is changed by staff in the admin)."""

    time_zone = forms.ChoiceField(
        choices=time_zone_choices,
        help_text="Schedules (start and end dates) are read in this time zone.",
    )

    class Meta:
        model = Workspace
        fields = ["name", "time_zone"]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        if not name:
            raise forms.ValidationError("Give the workspace a name.")
        return name


class AllowedOriginsForm(forms.ModelForm):
    class Meta:
        model = Workspace
        fields = ["allowed_origins"]
        labels = {"allowed_origins": "Origins"}
        help_texts = {"allowed_origins": ""}
        widgets = {
            "allowed_origins": forms.Textarea(
                attrs={"rows": 4, "placeholder": "https://www.example.com\nhttps://app.example.com"}
            )
        }

    def clean_allowed_origins(self):
        origins = []
        for line in self.cleaned_data["allowed_origins"].splitlines():
            line = line.strip().rstrip("/")
            if not line:
                continue
            try:
                parts = urlsplit(line)
                parts.port  # noqa: B018 - raises ValueError on a malformed port
            except ValueError:
                parts = None
            if (
                parts is None
                or parts.scheme not in ("http", "https")
                or not parts.hostname
                or parts.path
                or parts.query
                or parts.fragment
                or parts.username
            ):
                raise forms.ValidationError(
                    f"“{line}” is not an origin. Write the scheme and host only, "
                    "e.g. https://www.example.com"
                )
            origins.append(f"{parts.scheme}://{parts.netloc}".lower())
        if len(origins) > 50:
            raise forms.ValidationError("List at most 50 origins.")
        return "\n".join(dict.fromkeys(origins))


class InviteForm(forms.Form):
    email = forms.EmailField(
        label="E-mail",
        max_length=MAX_EMAIL_LENGTH,
        help_text="They get a link to join, valid for 7 days and usable once.",
        widget=forms.EmailInput(attrs={"placeholder": "name@example.com", "autocomplete": "off"}),
    )
    role = forms.ChoiceField(
        choices=Role.choices,
        initial=Role.MEMBER,
        help_text="Admins also change settings, keys and members.",
    )


class SignUpForm(SetPasswordMixin, forms.Form):
    """The invitee's own password for the new account of the invited address."""

    password1, password2 = SetPasswordMixin.create_password_fields(label2="Password again")

    def __init__(self, *args, email: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.email = email
        # AUTH_PASSWORD_VALIDATORS in one line; a violated rule is named under the field.
        self.fields[
            "password1"
        ].help_text = (
            "At least 8 characters, not only digits, not a common password, not like your e-mail."
        )
        self.fields["password2"].help_text = ""

    def clean(self):
        self.validate_passwords()
        # Checked against the account-to-be, so the e-mail itself is refused as a password.
        user = get_user_model()(username=self.email, email=self.email)
        self.validate_password_for_user(user)
        return super().clean()


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)
