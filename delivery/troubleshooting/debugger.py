"""What one visitor gets on one page now, and why every other message is left out.

It reads what the delivery API reads (`visitor_state.workspace_and_visitor`: the same cache and
database answer) and decides with eligibility's reference, `decide`, on the delivery cache's
live messages: its answer is the delivery API's, with the reasons delivery does not spend
time on. A message that is not live (the draft whose page the panel is on) is added, so that
the panel can say why it is not shown.
"""

from dataclasses import dataclass
from datetime import datetime

from django import forms

from campaigns.models import AnonymousMessage
from campaigns.rules import Page, screen_page, web_page
from delivery.models import Visitor
from delivery.sdk_api import eligibility, visitor_state
from delivery.sdk_api.live_messages import live_messages, rule_of, to_live_message
from delivery.troubleshooting.explanations import Explanation, explain_all

RECENT_VISITORS = 20
PLATFORMS = [("web", "Web page"), ("ios", "iOS screen"), ("android", "Android screen")]


class DebugVisitorForm(forms.Form):
    anonymous_id = forms.CharField(
        label="Anonymous ID",
        max_length=255,
        help_text="The visitor's ID from Activity, or cioanalytics.user().anonymousId() in "
        "their browser's console.",
    )
    platform = forms.ChoiceField(label="On", choices=PLATFORMS, initial="web")
    location = forms.CharField(
        label="Page URL or screen",
        max_length=2000,
        help_text="A URL or path (https://example.com/pricing, /pricing), or an app screen name.",
    )
    message = forms.IntegerField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, prefix_id: str = "debug", **kwargs):
        super().__init__(*args, auto_id=f"{prefix_id}-%s", **kwargs)
        self.fields["anonymous_id"].widget.attrs.update(
            {"list": f"{prefix_id}-recent", "autocomplete": "off", "spellcheck": "false"}
        )
        self.fields["location"].widget.attrs["placeholder"] = "/pricing"

    def clean_anonymous_id(self):
        value = self.cleaned_data["anonymous_id"].strip()
        if "\x00" in value:
            raise forms.ValidationError("The anonymous ID contains a NUL character.")
        return value

    def clean(self):
        data = super().clean()
        location = (data.get("location") or "").strip()
        if not location or "location" in self.errors:
            return data
        if "\x00" in location:
            self.add_error("location", "The page contains a NUL character.")
        elif data.get("platform") == "web":
            try:
                data["page"] = web_page(location)
            except ValueError:
                self.add_error("location", "This is not a URL a browser could be on.")
        elif data.get("platform"):
            data["page"] = screen_page(data["platform"], location)
        return data


@dataclass(frozen=True)
class VisitorReport:
    anonymous_id: str
    page: Page
    visitor: Visitor | None  # None: never seen (delivery treats it as a new visitor)
    explanations: list[Explanation]

    @property
    def shown(self) -> list[Explanation]:
        return [explanation for explanation in self.explanations if explanation.shown]

    @property
    def not_shown(self) -> list[Explanation]:
        return [explanation for explanation in self.explanations if not explanation.shown]


def debug_visitor(
    *, workspace, anonymous_id: str, page: Page, now: datetime, focus: AnonymousMessage | None
) -> VisitorReport:
    current, visitor = visitor_state.workspace_and_visitor(workspace.write_key, anonymous_id)
    if current is None:  # the key was rotated during the request: read the workspace as is
        current = workspace
        plan_allows = workspace.has_anonymous_messages
    else:
        plan_allows = current.has_anonymous_messages
    messages = list(
        live_messages(workspace_id=workspace.pk, content_version=current.content_version)
    )
    if focus is not None and all(message.id != focus.pk for message in messages):
        rules = [rule_of(rule) for rule in focus.rules.all()]
        messages.append(to_live_message(focus, rules=rules))
    decisions = eligibility.decide(
        messages=messages,
        page=page,
        now=now,
        states=visitor.states,
        identified=visitor.identified,
        inapp_enabled=current.inapp_enabled,
        plan_allows=plan_allows,
        time_zone=current.time_zone,
        anonymous_id=anonymous_id,
    )
    return VisitorReport(
        anonymous_id=anonymous_id,
        page=page,
        visitor=Visitor.objects.filter(workspace=workspace, anonymous_id=anonymous_id)
        .select_related("profile")
        .first(),
        explanations=explain_all(decisions, states=visitor.states, time_zone=current.time_zone),
    )


def recent_visitors(workspace) -> list[Visitor]:
    """The latest anonymous visitors, to pick from (index visitor_ws_last_seen)."""
    return list(
        Visitor.objects.filter(workspace=workspace, profile=None)
        .order_by("-last_seen_at")
        .only("anonymous_id", "last_seen_at", "last_page")[:RECENT_VISITORS]
    )
