"""What one visitor gets on one page now, and why every other message is left out.

It reads what the delivery API reads (`visitor_state.workspace_and_visitor`: the same cache and
database answer) and decides with eligibility's reference, `decide`, on the delivery cache's
live messages: its answer is the delivery API's, with the reasons delivery does not spend
time on. A message that is not live (the draft whose page the panel is on) is added, so that
the panel can say why it is not shown.
"""

from dataclasses import dataclass, field
from datetime import datetime

from django import forms

from campaigns.audience import CHOICES, DEVICE, MAX_COUNT, MAX_VALUE, Visit
from campaigns.models import AnonymousMessage
from campaigns.rules import Page, screen_page, web_page
from delivery.models import Visitor
from delivery.sdk_api import eligibility, visitor_state
from delivery.sdk_api.live_messages import live_messages, rule_of, to_live_message
from delivery.sdk_api.visit_context import (
    MAX_LANGUAGE,
    MAX_REFERRER,
    page_host,
    referrer_domain,
)
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


class VisitContextForm(forms.Form):
    """What the SDK would tell delivery about the visit (docs/delivery-api.md), for audience
    conditions. Left as it is: a direct visit on a desktop, the first page of a first
    session, language unknown (a condition on the language is then false, as in delivery)."""

    referrer = forms.CharField(
        label="Came from",
        required=False,
        max_length=MAX_REFERRER,
        help_text="The referrer's URL or domain (google.com). Empty: a direct visit.",
    )
    utm_source = forms.CharField(label="UTM source", required=False, max_length=MAX_VALUE)
    utm_medium = forms.CharField(label="UTM medium", required=False, max_length=MAX_VALUE)
    utm_campaign = forms.CharField(label="UTM campaign", required=False, max_length=MAX_VALUE)
    device = forms.ChoiceField(
        label="Device", choices=[(d, d.capitalize()) for d in CHOICES[DEVICE]], required=False
    )
    language = forms.CharField(
        label="Browser language",
        required=False,
        max_length=MAX_LANGUAGE,
        help_text="e.g. de-CH. Empty: unknown.",
    )
    sessions = forms.IntegerField(
        label="Session number", required=False, min_value=1, max_value=MAX_COUNT
    )
    pageviews = forms.IntegerField(
        label="Page view in the session", required=False, min_value=1, max_value=MAX_COUNT
    )

    DEFAULTS = {"device": "desktop", "sessions": 1, "pageviews": 1}

    def __init__(self, *args, prefix_id: str = "debug", **kwargs):
        kwargs.setdefault("initial", self.DEFAULTS)
        super().__init__(*args, prefix="visit", auto_id=f"{prefix_id}-%s", **kwargs)
        self.fields["referrer"].widget.attrs["placeholder"] = "https://www.google.com/"
        for name in ("utm_source", "utm_medium", "utm_campaign"):
            self.fields[name].widget.attrs["placeholder"] = "(none)"

    def clean(self):
        data = super().clean()
        for name, value in data.items():
            if isinstance(value, str) and "\x00" in value:
                self.add_error(name, "This contains a NUL character.")
        referrer = (data.get("referrer") or "").strip()
        if referrer and referrer_domain(referrer, page_host=None) is None:
            self.add_error("referrer", "Enter a URL or a domain, e.g. https://www.google.com/.")
        return data

    @property
    def is_default(self) -> bool:
        """Whether it describes the default visit (the panel then shows it folded)."""
        if not self.is_bound:
            return True
        data = getattr(self, "cleaned_data", {})
        return not self.errors and all(
            (data.get(name) or self.DEFAULTS.get(name)) == self.DEFAULTS.get(name)
            for name in self.fields
        )

    def visit(self, *, location: str) -> Visit:
        """The visit as delivery would read it (a referrer on the page's own site, when
        `location` is a URL, is a direct visit)."""
        data = self.cleaned_data
        referrer = (data.get("referrer") or "").strip()
        return Visit(
            referrer_domain=referrer_domain(referrer, page_host=page_host(location)),
            utm_source=(data.get("utm_source") or "").strip() or None,
            utm_medium=(data.get("utm_medium") or "").strip() or None,
            utm_campaign=(data.get("utm_campaign") or "").strip() or None,
            device=data.get("device") or self.DEFAULTS["device"],
            language=(data.get("language") or "").strip().lower().replace("_", "-") or None,
            sessions=data.get("sessions") or self.DEFAULTS["sessions"],
            session_pageviews=data.get("pageviews") or self.DEFAULTS["pageviews"],
        )


def describe_visit(visit: Visit) -> str:
    """“a direct visit on a desktop, session 1, page view 1” — the visit the report assumes."""
    source = f"a visit from {visit.referrer_domain}" if visit.referrer_domain else "a direct visit"
    utm = ", ".join(
        f"{name} {value}"
        for name, value in (
            ("utm_source", visit.utm_source),
            ("utm_medium", visit.utm_medium),
            ("utm_campaign", visit.utm_campaign),
        )
        if value
    )
    parts = [
        f"{source}{f' ({utm})' if utm else ''} on a {visit.device}",
        f"session {visit.sessions}",
        f"page view {visit.session_pageviews}",
        f"language {visit.language}" if visit.language else "language unknown",
    ]
    return ", ".join(parts)


@dataclass(frozen=True)
class VisitorReport:
    anonymous_id: str
    page: Page
    visitor: Visitor | None  # None: never seen (delivery treats it as a new visitor)
    explanations: list[Explanation]
    visit: Visit = field(default_factory=Visit)

    @property
    def visit_text(self) -> str:
        return describe_visit(self.visit)

    @property
    def shown(self) -> list[Explanation]:
        return [explanation for explanation in self.explanations if explanation.shown]

    @property
    def not_shown(self) -> list[Explanation]:
        return [explanation for explanation in self.explanations if not explanation.shown]


def debug_visitor(
    *,
    workspace,
    anonymous_id: str,
    page: Page,
    now: datetime,
    focus: AnonymousMessage | None,
    visit: Visit | None = None,
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
        visit=visit or Visit(),
        anonymous_id=anonymous_id,
    )
    return VisitorReport(
        anonymous_id=anonymous_id,
        page=page,
        visit=visit or Visit(),
        visitor=Visitor.objects.filter(workspace=workspace, anonymous_id=anonymous_id)
        .select_related("profile")
        .first(),
        explanations=explain_all(decisions, states=visitor.states, time_zone=current.time_zone),
    )


def recent_visitors(workspace) -> list[Visitor]:
    """The latest anonymous visitors, to pick from (index anon_visitor_ws_last_seen)."""
    return list(
        Visitor.objects.filter(workspace=workspace, profile=None)
        .order_by("-last_seen_at")
        .only("anonymous_id", "last_seen_at", "last_page")[:RECENT_VISITORS]
    )
