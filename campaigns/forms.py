"""Forms of the create-message wizard and the lifecycle actions.

Every wizard step form takes the message (None only for step 1 of a new message) and the
workspace, validates, and `save()`s its part of the message. Errors say what to do next.
"""

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from anonmsg.dates import validate_supported_date
from campaigns import audience, content, rules, split, triggers, validation, visit_tester
from campaigns.models import (
    POSITIONS_BY_DISPLAY,
    AnonymousMessage,
    DisplayType,
    FrequencyMode,
    GoalCondition,
    GoalTrigger,
    MessageVariant,
    PageRule,
    Position,
    Segment,
)
from campaigns.validation import ELEMENT_ID_HELP, MAX_PRIORITY, MIN_PRIORITY

MAX_BUTTONS = 3
BUTTON_KIND_CHOICES = [
    (content.ACTION_BUTTON, "Tracked action"),
    (content.CLOSE_BUTTON, "Close"),
    (content.LINK_BUTTON, "Link"),
]


def add_problems(form: forms.Form, problems: list[validation.Problem]) -> None:
    """Show the validation problems that the wizard checks, on their form fields."""
    for problem in problems:
        if problem.form is not None:
            form.add_error(problem.form_field, problem.form)


class StepForm(forms.Form):
    """A wizard step: reads its initial values from the message and writes them back."""

    def __init__(self, data=None, *, message: AnonymousMessage | None, workspace):
        self.message = message
        self.workspace = workspace
        super().__init__(data, initial=self.initial_from(message) if message else None)

    def initial_from(self, message: AnonymousMessage) -> dict:
        return {}

    def save(self) -> AnonymousMessage:
        return self.message


class NameForm(StepForm):
    name = forms.CharField(
        max_length=120,
        error_messages={
            "required": "Give the message a name, e.g. “Pricing page sign-up offer”.",
            "max_length": "Keep the name under 120 characters; use the description for more.",
        },
        widget=forms.TextInput(
            attrs={"placeholder": "Pricing page sign-up offer", "autofocus": True}
        ),
        help_text="Only your team sees it, in lists and metrics.",
    )
    description = forms.CharField(
        required=False,
        max_length=2000,
        widget=forms.Textarea(
            attrs={"rows": 3, "placeholder": "What the message is for and who asked for it."}
        ),
        help_text="Optional. A note for your team.",
    )

    def initial_from(self, message):
        return {"name": message.name, "description": message.description}

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        for problem in validation.check_name(name):
            raise forms.ValidationError(problem.form)
        return name

    def save(self):
        if self.message is None:
            self.message = AnonymousMessage(workspace=self.workspace)
        self.message.name = self.cleaned_data["name"]
        self.message.description = self.cleaned_data["description"].strip()
        self.message.save()
        return self.message


class EmptyStepForm(StepForm):
    """Steps whose content is saved by their own inline actions (page rules, review)."""


class PageRuleForm(forms.ModelForm):
    exclude = forms.TypedChoiceField(
        label="Rule",
        choices=[("0", "Show on"), ("1", "Don't show on")],
        coerce=lambda value: value == "1",
        initial="0",
    )

    class Meta:
        model = PageRule
        fields = ["exclude", "platform", "operator", "value", "case_sensitive"]
        labels = {"case_sensitive": "Case sensitive"}
        widgets = {"value": forms.TextInput(attrs={"placeholder": "/pricing"})}

    def __init__(self, *args, message: AnonymousMessage, **kwargs):
        super().__init__(*args, **kwargs)
        self.message = message
        self.fields["value"].error_messages["required"] = (
            "Enter a value, e.g. /pricing (web) or Checkout (mobile screen)."
        )
        self.fields["operator"].error_messages["invalid_choice"] = (
            "Unknown operator “%(value)s”: choose one from the list."
        )
        self.fields["platform"].error_messages["invalid_choice"] = (
            "Unknown platform “%(value)s”: choose web, iOS or Android."
        )

    def clean(self):
        data = super().clean()
        for problem in validation.check_rule_count(self.message.rules.count() + 1):
            raise forms.ValidationError(problem.form)
        if self.errors:
            return data
        add_problems(
            self,
            validation.check_rule(
                platform=data["platform"], operator=data["operator"], value=data["value"]
            ),
        )
        data["value"] = (data.get("value") or "").strip()
        return data

    def save(self, commit=True):
        rule = super().save(commit=False)
        rule.message = self.message
        last = self.message.rules.order_by("-position").values_list("position", flat=True).first()
        rule.position = (last or 0) + 1
        if commit:
            rule.save()
        return rule


DEVICE_CHOICES = [("desktop", "a desktop"), ("tablet", "a tablet"), ("phone", "a phone")]


class RuleTestForm(forms.Form):
    # Prefixed: the tester's fields travel with the add-rule form (hx-include), whose own
    # fields have the same names.
    prefix = "test"

    platform = forms.ChoiceField(
        choices=[("web", "Web page"), ("ios", "iOS screen"), ("android", "Android screen")],
        initial="web",
    )
    target = forms.CharField(
        label="URL or screen name",
        max_length=2000,
        required=False,
        widget=forms.TextInput(
            attrs={"placeholder": "https://example.com/pricing?plan=pro", "type": "search"}
        ),
    )

    # The visit (campaigns/visit_tester.py): what the SDK would send along with the page.
    referrer = forms.CharField(
        label="From (referrer)",
        max_length=2000,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "google.com, empty: direct"}),
    )
    device = forms.ChoiceField(
        label="On",
        choices=DEVICE_CHOICES,
        initial="desktop",
        required=False,
    )
    language = forms.CharField(
        label="Browser language",
        max_length=35,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "en-US"}),
    )
    sessions = forms.IntegerField(
        label="Session number",
        min_value=1,
        max_value=10_000,
        required=False,
        initial=1,
        widget=forms.NumberInput(attrs={"placeholder": "1"}),
    )
    pageviews = forms.IntegerField(
        label="Page view in session",
        min_value=1,
        max_value=10_000,
        required=False,
        initial=1,
        widget=forms.NumberInput(attrs={"placeholder": "1"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The tester's boxes sit inside the step's form on the page but belong to the
        # tester's own GET form (step_rules.html): Enter in them tests, it does not save.
        for field in self.fields.values():
            field.widget.attrs["form"] = "rule-test-form"

    def visit(self) -> audience.Visit:
        """The visit to test (call after `page()`); blanks are a first page view, on a desktop."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        return visit_tester.build_visit(
            platform=data.get("platform") or "web",
            url=data.get("target") or "",
            referrer=data.get("referrer") or "",
            device=data.get("device") or "desktop",
            language=data.get("language") or "",
            sessions=data.get("sessions") or 1,
            pageviews=data.get("pageviews") or 1,
        )

    def page(self) -> rules.Page | None:
        if not self.is_valid() or not self.cleaned_data["target"].strip():
            return None
        platform, target = self.cleaned_data["platform"], self.cleaned_data["target"]
        if platform == "web":
            try:
                return rules.web_page(target)
            except ValueError:
                self.add_error("target", "This is not a URL a browser could be on: check it.")
                return None
        return rules.screen_page(platform, target)


FREQUENCY_OPTIONS = {
    FrequencyMode.UNTIL_DISMISSED: (
        "Until dismissed",
        "On every matching page until the visitor closes it or clicks one of its actions.",
    ),
    FrequencyMode.TIMES: (
        "Up to a number of times",
        "At most N views per visitor; closing it also stops it.",
    ),
    FrequencyMode.ALWAYS: (
        "Show always",
        "On every matching page, even after the visitor closed it.",
    ),
}

INTERVAL_UNITS = [("minutes", "minutes"), ("hours", "hours"), ("days", "days")]
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def split_duration(seconds: int, units=("days", "hours", "minutes")) -> tuple[int, str]:
    """The largest listed unit that divides `seconds` exactly: 7200 → (2, "hours")."""
    for unit in units:
        if seconds and seconds % UNIT_SECONDS[unit] == 0:
            return seconds // UNIT_SECONDS[unit], unit
    return seconds // UNIT_SECONDS[units[-1]], units[-1]


class ChoiceCardsMixin:
    """Radio choices rendered as cards with a title and a description."""

    def cards(self, field_name: str, options: dict):
        for radio in self[field_name]:
            title, text = options[radio.data["value"]]
            yield {"radio": radio, "title": title, "text": text, "value": radio.data["value"]}


DISPLAY_TRIGGER_OPTIONS = {
    triggers.PAGE_LOAD: ("On page load", "As soon as the page loads."),
    triggers.DELAY: ("After a delay", "Once the visitor has been on the page for some seconds."),
    triggers.SCROLL: ("After scrolling", "Once the visitor has scrolled part of the page."),
    triggers.EXIT_INTENT: (
        "On exit intent",
        "When the pointer leaves the window through the top, as if to close the tab (desktop).",
    ),
    triggers.INACTIVITY: (
        "After inactivity",
        "When the visitor has not moved, typed, scrolled or touched for some seconds.",
    ),
    triggers.CLICK: ("On click", "When the visitor clicks an element of your page."),
}
# The trigger's form fields, by the App API key they fill (campaigns/validation.check_trigger
# names its problems `trigger_<key>`).
TRIGGER_FIELDS = {
    "seconds": "trigger_seconds",
    "percent": "trigger_percent",
    "selector": "trigger_selector",
    "fallbackSeconds": "trigger_fallbackSeconds",
}
SECONDS_RANGE = f"{triggers.MIN_SECONDS} to {triggers.MAX_SECONDS}"


def _number_box(label: str, *, placeholder: str, high: int, what: str) -> forms.CharField:
    # Text, not IntegerField: the trigger's own check words the errors (and skips the boxes
    # that the chosen type does not use).
    return forms.CharField(
        label=label,
        max_length=6,
        required=False,
        error_messages={"max_length": f"Enter {what} from 1 to {high}."},
        widget=forms.NumberInput(
            attrs={"class": "input-inline", "min": 1, "max": high, "placeholder": placeholder}
        ),
    )


class FrequencyForm(ChoiceCardsMixin, StepForm):
    trigger_type = forms.ChoiceField(
        label="When it appears",
        choices=list(triggers.TYPES.items()),
        widget=forms.RadioSelect,
        initial=triggers.PAGE_LOAD,
        required=False,  # a POST without it (a script, an older page) keeps the trigger
        error_messages={"invalid_choice": "Choose when the message appears from the list."},
    )
    trigger_seconds = _number_box(
        "Seconds", placeholder="5", high=triggers.MAX_SECONDS, what="seconds"
    )
    trigger_percent = _number_box(
        "Scrolled", placeholder="50", high=triggers.MAX_PERCENT, what="a percentage"
    )
    trigger_selector = forms.CharField(
        label="CSS selector of the element",
        max_length=triggers.MAX_SELECTOR * 2,  # the check says “under 200” itself
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "#signup-button, .pricing .cta"}),
        help_text="Any element matching it, now or added later, shows the message on click.",
    )
    trigger_fallbackSeconds = _number_box(
        "On touch devices, after", placeholder="10", high=triggers.MAX_SECONDS, what="seconds"
    )
    mode = forms.ChoiceField(
        label="How often",
        choices=FrequencyMode.choices,
        widget=forms.RadioSelect,
        initial=FrequencyMode.UNTIL_DISMISSED,
    )
    times = forms.IntegerField(
        label="Number of views",
        min_value=1,
        max_value=100,
        required=False,
        initial=1,
        widget=forms.NumberInput(
            attrs={
                "class": "input-inline",
                "aria-label": "Number of views",
                "data-selects": "times",
            }
        ),
        error_messages={
            "min_value": "Show it at least once: enter a number from 1 to 100.",
            "max_value": "Enter a number from 1 to 100 (or choose “Show always”).",
        },
    )
    min_interval = forms.IntegerField(
        label="Minimum time between two views",
        min_value=0,
        max_value=100_000,
        required=False,
        widget=forms.NumberInput(attrs={"class": "input-inline", "placeholder": "0"}),
        error_messages={"min_value": "Enter 0 (no minimum) or more."},
        help_text="Optional. 0 shows it again on the next matching page.",
    )
    min_interval_unit = forms.ChoiceField(
        label="Unit", choices=INTERVAL_UNITS, initial="hours", required=False
    )

    def initial_from(self, message):
        value, unit = split_duration(message.min_interval_seconds)
        trigger = message.trigger or triggers.default_trigger()
        return {
            "trigger_type": trigger.get("type", triggers.PAGE_LOAD),
            **{
                name: "" if trigger.get(key) is None else str(trigger[key])
                for key, name in TRIGGER_FIELDS.items()
            },
            "mode": message.frequency_mode,
            "times": message.frequency_times,
            "min_interval": value or "",
            "min_interval_unit": unit if value else "hours",
        }

    def options(self):
        return self.cards("mode", FREQUENCY_OPTIONS)

    def trigger_options(self):
        return self.cards("trigger_type", DISPLAY_TRIGGER_OPTIONS)

    def seconds_range(self):
        return SECONDS_RANGE

    def clean(self):
        data = super().clean()
        self._clean_trigger(data)
        seconds = (data.get("min_interval") or 0) * UNIT_SECONDS[
            data.get("min_interval_unit") or "hours"
        ]
        add_problems(
            self,
            validation.check_frequency(
                mode=data.get("mode"), times=data.get("times"), min_interval_seconds=seconds
            ),
        )
        data["min_interval_seconds"] = seconds
        return data

    def _clean_trigger(self, data):
        kind = data.get("trigger_type")
        if not kind:
            if "trigger_type" not in self.errors:
                data["trigger"] = self.message.trigger or triggers.default_trigger()
            return
        raw = {"type": kind}
        for key in triggers.KEYS_BY_TYPE[kind]:
            name = TRIGGER_FIELDS[key]
            if name in self.errors:
                return
            raw[key] = (data.get(name) or "").strip() or None
        problems = validation.check_trigger(raw)
        add_problems(self, problems)
        if not problems:
            data["trigger"] = triggers.normalise_trigger(raw)

    def save(self):
        message, data = self.message, self.cleaned_data
        message.frequency_mode = data["mode"]
        if data["mode"] == FrequencyMode.TIMES:
            message.frequency_times = data["times"]
        message.min_interval_seconds = data["min_interval_seconds"]
        message.trigger = data["trigger"]
        message.save()
        return message


TRIGGER_OPTIONS = {
    GoalTrigger.CLICK: (
        "Clicked an action",
        "The visitor clicked one of the message's tracked actions (e.g. “Sign up”).",
    ),
    GoalTrigger.VIEW: ("Saw the message", "The visitor was shown the message."),
}

CONDITION_OPTIONS = {
    GoalCondition.NONE: ("Nothing else", "Signing up or logging in is the conversion."),
    GoalCondition.EVENT: (
        "Also performed an event",
        "For example “Started Trial”, sent with track() after they were identified.",
    ),
    GoalCondition.SEGMENT_ENTERED: (
        "Also entered a segment",
        "Their profile joined the segment, e.g. “Paying customers”.",
    ),
    GoalCondition.SEGMENT_LEFT: (
        "Also left a segment",
        "Their profile left the segment, e.g. “Free plan”.",
    ),
}

WINDOW_UNITS = [("hours", "hours"), ("days", "days")]


class GoalForm(ChoiceCardsMixin, StepForm):
    trigger = forms.ChoiceField(
        label="Count a conversion when a visitor",
        choices=GoalTrigger.choices,
        widget=forms.RadioSelect,
        initial=GoalTrigger.CLICK,
    )
    window = forms.IntegerField(
        label="Conversion window",
        min_value=1,
        initial=7,
        widget=forms.NumberInput(attrs={"class": "input-inline"}),
        error_messages={
            "required": "Enter the conversion window: 1 hour to 30 days (7 days is usual).",
            "min_value": "The window must be at least 1 hour.",
        },
    )
    window_unit = forms.ChoiceField(label="Unit", choices=WINDOW_UNITS, initial="days")
    condition = forms.ChoiceField(
        label="Condition",
        choices=GoalCondition.choices,
        widget=forms.RadioSelect,
        initial=GoalCondition.NONE,
    )
    event = forms.CharField(
        label="Event name",
        max_length=200,
        required=False,
        # The goal step lists the event names this workspace has received (a <datalist>).
        widget=forms.TextInput(attrs={"placeholder": "Started Trial", "list": "seen-event-names"}),
    )
    segment = forms.ModelChoiceField(
        label="Segment",
        queryset=Segment.objects.none(),
        required=False,
        empty_label="Choose a segment…",
        error_messages={
            "invalid_choice": "That segment does not exist in this workspace: choose one from "
            "the list."
        },
    )

    def __init__(self, data=None, *, message, workspace):
        super().__init__(data, message=message, workspace=workspace)
        self.fields["segment"].queryset = Segment.objects.filter(workspace=workspace)

    def initial_from(self, message):
        value, unit = split_duration(message.goal_window_hours * 3600, units=("days", "hours"))
        return {
            "trigger": message.goal_trigger,
            "window": value,
            "window_unit": unit,
            "condition": message.goal_condition,
            "event": message.goal_event,
            "segment": message.goal_segment_id,
        }

    def trigger_options(self):
        return self.cards("trigger", TRIGGER_OPTIONS)

    def condition_options(self):
        return self.cards("condition", CONDITION_OPTIONS)

    def clean(self):
        data = super().clean()
        hours = None
        if data.get("window") and data.get("window_unit"):
            hours = data["window"] * (24 if data["window_unit"] == "days" else 1)
            data["window_hours"] = hours
        condition = data.get("condition")
        data["event"] = (data.get("event") or "").strip()
        segment = data.get("segment")
        problems = validation.check_goal(
            condition=condition,
            event=data["event"],
            segment_id=segment.pk if segment else None,
            window_hours=hours,
        )
        no_segments = condition in validation.SEGMENT_CONDITIONS and (
            not self.fields["segment"].queryset.exists()
        )
        if no_segments:
            self.add_error(
                "segment",
                "This workspace has no segments yet: create one under Segments, or choose "
                "another condition.",
            )
        if no_segments or "segment" in self.errors:  # that error says it already
            problems = [p for p in problems if p.code != "segment_required"]
        add_problems(self, problems)
        return data

    def save(self):
        message, data = self.message, self.cleaned_data
        message.goal_trigger = data["trigger"]
        message.goal_window_hours = data["window_hours"]
        message.goal_condition = data["condition"]
        message.goal_event = data["event"] if data["condition"] == GoalCondition.EVENT else ""
        segment_condition = data["condition"] in (
            GoalCondition.SEGMENT_ENTERED,
            GoalCondition.SEGMENT_LEFT,
        )
        message.goal_segment = data["segment"] if segment_condition else None
        message.save()
        return message


class PositionSelect(forms.Select):
    """Positions carry the display types they are valid for (data-for), for the page's script."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        valid_for = [kind for kind, positions in POSITIONS_BY_DISPLAY.items() if value in positions]
        option["attrs"]["data-for"] = " ".join(valid_for)
        return option


class DisplayTypeSelect(forms.Select):
    """Display types carry their default position (data-default-position) for the script."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        positions = POSITIONS_BY_DISPLAY.get(value) or [""]
        option["attrs"]["data-default-position"] = positions[0]
        return option


CONTENT_MODES = {
    "builder": ("Simple builder", "Heading, text, image and buttons. No code."),
    "html": ("HTML", "Write your own HTML and CSS."),
}


def content_initial(*, builder: dict | None, html: str) -> dict:
    """The content editor's initial values for saved content (the builder's fields, or HTML)."""
    initial = {
        "mode": "builder" if builder is not None or not html else "html",
        "html": html,
        "close_button": True,
    }
    if builder:
        initial.update({key: builder.get(key, "") for key in ("heading", "text", "image_url")})
        # Builders without the key (the demo's) have the close button, as build_html does.
        initial["close_button"] = builder.get("close_button", True)
        for index, button in enumerate((builder.get("buttons") or [])[:MAX_BUTTONS], 1):
            initial[f"button{index}_kind"] = button.get("kind") or content.ACTION_BUTTON
            initial[f"button{index}_label"] = button.get("label", "")
            initial[f"button{index}_action"] = button.get("action", "")
            initial[f"button{index}_url"] = button.get("url", "")
        lead = builder.get("lead")
        if lead:
            initial.update(
                {
                    "lead_enabled": True,
                    "lead_ask_name": bool(lead.get("ask_name")),
                    "lead_button": lead.get("button", ""),
                    "lead_action": lead.get("action", ""),
                    "lead_thanks": lead.get("thanks", ""),
                }
            )
    return initial


class ContentForm(ChoiceCardsMixin, StepForm):
    key = "A"  # the variant it edits: A is the message's own content

    mode = forms.ChoiceField(
        label="Write the content with",
        choices=[(key, title) for key, (title, _) in CONTENT_MODES.items()],
        widget=forms.RadioSelect,
        initial="builder",
    )
    heading = forms.CharField(
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Get 20% off your first month"}),
    )
    text = forms.CharField(
        max_length=2000,
        required=False,
        widget=forms.Textarea(
            attrs={
                "rows": 3,
                "class": "prose",
                "placeholder": "Create a free account to unlock the offer.",
            }
        ),
        help_text="A blank line starts a new paragraph.",
    )
    image_url = forms.URLField(
        label="Image URL",
        max_length=500,
        required=False,
        assume_scheme="https",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/offer.png"}),
        error_messages={"invalid": "Enter the full address of the image, starting https://."},
    )
    close_button = forms.BooleanField(label="Show a close button (×)", required=False, initial=True)
    html = forms.CharField(
        label="HTML",
        required=False,
        strip=False,
        widget=forms.Textarea(
            attrs={
                "rows": 14,
                "spellcheck": "false",
                "placeholder": (
                    '<div style="padding:24px;text-align:center;font-family:sans-serif">\n'
                    "  <h2>Get 20% off</h2>\n"
                    '  <a href="/signup" data-action="signup">Sign up</a>\n'
                    "  <button data-dismiss>No thanks</button>\n"
                    "</div>"
                ),
            }
        ),
        help_text=(
            'Tracked actions: <code>data-action="name"</code> (and <code>data-url</code> for a '
            "link); close controls: <code>data-dismiss</code>. Up to 64 KB. "
            "No Liquid: visitors are anonymous."
        ),
    )
    display_type = forms.ChoiceField(
        label="Display as",
        choices=DisplayType.choices,
        initial=DisplayType.MODAL,
        widget=DisplayTypeSelect,
    )
    display_position = forms.ChoiceField(
        label="Position",
        choices=Position.choices,
        initial=Position.CENTER,
        widget=PositionSelect,
        required=False,
    )
    display_element_id = forms.CharField(
        label="Page element id",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "signup-slot"}),
        help_text=ELEMENT_ID_HELP + " The message is not shown on pages without it.",
    )
    close_on_backdrop = forms.BooleanField(
        label="Close when the visitor clicks outside the modal", required=False
    )

    lead_enabled = forms.BooleanField(
        label="Ask for an e-mail address (lead capture)",
        required=False,
    )
    lead_ask_name = forms.BooleanField(
        label="Also ask for a name (optional for visitors)", required=False
    )
    lead_button = forms.CharField(
        label="Submit button label",
        max_length=60,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "Subscribe"}),
    )
    lead_action = forms.CharField(
        label="Action name",
        max_length=content.MAX_ACTION_NAME,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": "from the label"}),
    )
    lead_thanks = forms.CharField(
        label="Thank-you text",
        max_length=200,
        required=False,
        widget=forms.TextInput(attrs={"placeholder": content.DEFAULT_LEAD_THANKS}),
        help_text="Shown in the message once the address is sent.",
    )

    def __init__(self, data=None, *, message, workspace):
        super().__init__(data, message=message, workspace=workspace)
        for index in range(1, MAX_BUTTONS + 1):
            self.fields[f"button{index}_kind"] = forms.ChoiceField(
                label=f"Button {index} kind",
                choices=BUTTON_KIND_CHOICES,
                required=False,
                initial=content.ACTION_BUTTON,
                widget=forms.Select(attrs={"data-button-kind": ""}),
            )
            self.fields[f"button{index}_label"] = forms.CharField(
                label=f"Button {index} label",
                max_length=60,
                required=False,
                widget=forms.TextInput(
                    attrs={"placeholder": {1: "Sign up", 2: "Maybe later"}.get(index, "")}
                ),
            )
            self.fields[f"button{index}_action"] = forms.CharField(
                label=f"Button {index} action name",
                max_length=content.MAX_ACTION_NAME,
                required=False,
                widget=forms.TextInput(attrs={"placeholder": "from the label"}),
            )
            self.fields[f"button{index}_url"] = forms.CharField(
                label=f"Button {index} URL",
                max_length=500,
                required=False,
                widget=forms.TextInput(
                    attrs={"placeholder": "/signup" if index == 1 else "https://… or /path"}
                ),
            )

        # The grid shows column headings; each input still carries its own name for readers.
        for name, field in self.fields.items():
            if name.startswith("button"):
                field.widget.attrs["aria-label"] = field.label

    def initial_from(self, message):
        initial = content_initial(builder=message.content_builder, html=message.content_html)
        initial.update(
            {
                "display_type": message.display_type,
                "display_position": message.display_position,
                "display_element_id": message.display_element_id,
                "close_on_backdrop": message.close_on_backdrop,
            }
        )
        return initial

    def mode_options(self):
        return self.cards("mode", CONTENT_MODES)

    def button_rows(self):
        return [
            (
                self[f"button{i}_kind"],
                self[f"button{i}_label"],
                self[f"button{i}_action"],
                self[f"button{i}_url"],
            )
            for i in range(1, MAX_BUTTONS + 1)
        ]

    def clean(self):
        data = super().clean()
        self._clean_display(data)
        if data.get("mode") == "html":
            self._clean_html(data)
        elif data.get("mode") == "builder":
            self._clean_builder(data)
        return data

    def _clean_display(self, data):
        kind = data.get("display_type")
        if kind is None:
            return
        positions = POSITIONS_BY_DISPLAY[DisplayType(kind)]
        if positions and not data.get("display_position"):
            data["display_position"] = positions[0]
        if not positions:
            data["display_position"] = self.message.display_position if self.message else ""
            data["display_position"] = data["display_position"] or Position.CENTER
        element_id = (data.get("display_element_id") or "").strip().lstrip("#")
        add_problems(
            self,
            validation.check_display(
                display_type=kind,
                position=data["display_position"],
                element_id=element_id,
                position_given=bool(positions),
            ),
        )
        if not positions:
            data["display_element_id"] = element_id

    def _clean_html(self, data):
        html = data.get("html") or ""
        add_problems(self, validation.check_content(html))
        data["content_html"] = html
        data["content_builder"] = None

    def _clean_builder(self, data):
        heading = (data.get("heading") or "").strip()
        text = (data.get("text") or "").strip()
        for name, value in (("heading", heading), ("text", text)):
            add_problems(self, validation.check_builder_text(form_field=name, text=value))
        seen: set[str] = set()
        lead = self._clean_lead(data, seen)
        buttons = []
        for index in range(1, MAX_BUTTONS + 1):
            button = self._clean_button(data, index, seen)
            if button:
                buttons.append(button)
        if not heading and not text:
            self.add_error("heading", "Add a heading or some text: the message would be empty.")
        builder = {
            "heading": heading,
            "text": text,
            "image_url": data.get("image_url") or "",
            "buttons": buttons,
            "close_button": bool(data.get("close_button")),
        }
        if lead:
            builder["lead"] = lead
        html = content.build_html(builder, display_type=data.get("display_type") or "modal")
        if not self.errors:  # the builder's HTML as a whole: not one field's fault
            for problem in validation.check_content(html):
                self.add_error(None, problem.form)
        data["content_builder"] = builder
        data["content_html"] = html

    def _clean_lead(self, data, seen) -> dict | None:
        if not data.get("lead_enabled"):
            return None
        button = (data.get("lead_button") or "").strip() or "Subscribe"
        thanks = (data.get("lead_thanks") or "").strip() or content.DEFAULT_LEAD_THANKS
        for name, value in (("lead_button", button), ("lead_thanks", thanks)):
            add_problems(self, validation.check_builder_text(form_field=name, text=value))
        action = (data.get("lead_action") or "").strip() or slugify(button) or "lead"
        add_problems(
            self,
            validation.check_button_action(form_field="lead_action", action=action, taken=seen),
        )
        seen.add(action)
        return {
            "action": action,
            "button": button,
            "ask_name": bool(data.get("lead_ask_name")),
            "thanks": thanks,
        }

    def _clean_button(self, data, index, seen) -> dict | None:
        kind = data.get(f"button{index}_kind") or content.ACTION_BUTTON
        label = (data.get(f"button{index}_label") or "").strip()
        action = (data.get(f"button{index}_action") or "").strip()
        url = (data.get(f"button{index}_url") or "").strip()
        if not label:
            if (action or url) and kind != content.CLOSE_BUTTON:
                self.add_error(f"button{index}_label", "Give the button a label, or clear it.")
            return None
        if kind == content.CLOSE_BUTTON:  # its action name and URL are hidden and ignored
            return {"kind": kind, "label": label}
        url_field = f"button{index}_url"
        add_problems(self, validation.check_button_kind(form_field=url_field, kind=kind, url=url))
        add_problems(self, validation.check_button_url(form_field=url_field, url=url))
        if kind == content.LINK_BUTTON:
            return {"kind": kind, "label": label, "url": url}
        action = action or slugify(label) or f"button-{index}"
        add_problems(
            self,
            validation.check_button_action(
                form_field=f"button{index}_action", action=action, taken=seen
            ),
        )
        seen.add(action)
        return {"kind": kind, "label": label, "action": action, "url": url}

    def save(self):
        message, data = self.message, self.cleaned_data
        message.content_html = data["content_html"]
        message.content_builder = data["content_builder"]
        message.display_type = data["display_type"]
        message.display_position = data["display_position"]
        message.display_element_id = data.get("display_element_id", "").strip().lstrip("#")
        message.close_on_backdrop = bool(data.get("close_on_backdrop"))
        message.save()
        return message

    def preview_values(self) -> dict:
        """What the live preview shows for the submitted data, valid or not."""
        data = self.cleaned_data if hasattr(self, "cleaned_data") else {}
        kind = data.get("display_type") or DisplayType.MODAL
        return {
            "html": data.get("content_html", ""),
            "display_type": kind,
            "display_position": data.get("display_position") or Position.CENTER,
            "display_element_id": data.get("display_element_id", ""),
        }


class VariantContentForm(ContentForm):
    """Variant B, C or D's content: the same editor as A's, its fields prefixed `variant_B-`.

    A variant shows as A does (as typed on this page), unless "Show this variant its own way"
    is ticked: then its own display type, position and page element (whether a click outside a
    modal closes it stays A's: a variant has no such setting, as in the App API)."""

    own_display = forms.BooleanField(label="Show this variant its own way", required=False)

    def __init__(self, data=None, *, message, workspace, key: str, variant=None):
        self.key = key
        self.variant = variant
        self.prefix = f"variant_{key}"
        # What the builder builds for and the preview shows when the variant has no display of
        # its own: A's (as typed; the step form sets it before validating).
        self.display = {
            "display_type": message.display_type,
            "display_position": message.display_position,
            "display_element_id": message.display_element_id,
        }
        super().__init__(data, message=message, workspace=workspace)
        del self.fields["close_on_backdrop"]
        # Checked only when "own display" is ticked (_clean_display).
        self.fields["display_type"].required = False

    @property
    def has_own_display(self) -> bool:
        """Ticked on the page (bound), or saved so."""
        if self.is_bound:
            return bool(self["own_display"].value())
        return self.variant is not None and bool(self.variant.display_type)

    def initial_from(self, message):
        source = self.variant or message  # a new variant starts from A's saved content
        initial = content_initial(builder=source.content_builder, html=source.content_html)
        own = self.variant is not None and bool(self.variant.display_type)
        shown = self.variant if own else message  # the display the fields start from
        initial.update(
            {
                "own_display": own,
                "display_type": shown.display_type,
                "display_position": shown.display_position or message.display_position,
                "display_element_id": shown.display_element_id,
            }
        )
        return initial

    def _clean_display(self, data):
        if not data.get("own_display"):
            data.update(self.display)
            return
        if not data.get("display_type"):
            self.add_error("display_type", "Choose how this variant shows, or untick its own way.")
            data.update(self.display)
            return
        super()._clean_display(data)

    def own_display_values(self) -> dict:
        """The variant's display fields to store: empty = the same as A."""
        data = self.cleaned_data
        if not data.get("own_display"):
            return {"display_type": "", "display_position": "", "display_element_id": ""}
        inline = data["display_type"] == DisplayType.INLINE
        return {
            "display_type": data["display_type"],
            "display_position": "" if inline else data["display_position"],
            "display_element_id": data.get("display_element_id", "") if inline else "",
        }


class ContentStepForm(StepForm):
    """The Content step: variant A's editor (the message's own content and display), an
    editor per variant B–D, and the experiment's split (weights, holdout).

    All of it is validated together and saved in one transaction: nothing partial is written.
    `variants` lists the keys the page shows ("A,B"); "Add variant" and "Remove" re-render the
    form with one more or one fewer (`rearranged`), and only "Save" writes them."""

    pending = False  # set on a page that "Add variant" or "Remove" changed: not saved yet

    variants = forms.CharField(widget=forms.HiddenInput, required=False)
    # The tab the marketer was on, to open it again after a round trip to the server.
    tab = forms.CharField(widget=forms.HiddenInput, required=False)
    holdout_percent = forms.IntegerField(
        label="Holdout",
        min_value=0,
        max_value=validation.MAX_HOLDOUT_PERCENT,
        required=False,
        widget=forms.NumberInput(attrs={"class": "input-inline", "placeholder": "0"}),
        error_messages={
            "invalid": "Enter a whole number of percent from 0 to 50.",
            "min_value": "Enter a whole number of percent from 0 to 50.",
            "max_value": "Hold out at most 50 %% of visitors: enter a number from 0 to 50.",
        },
        help_text="Optional. This share of eligible visitors sees nothing, so that metrics can "
        "show what the message adds. 0 = none.",
    )

    def __init__(self, data=None, *, message, workspace):
        self.saved_variants = {variant.key: variant for variant in message.variants.all()}
        super().__init__(data, message=message, workspace=workspace)
        # A POST without `variants` (a page from before experiments, a script) edits A only:
        # it neither removes the saved variants nor changes the split.
        self.edits_split = data is None or "variants" in data
        keys = split.parse_keys(data["variants"]) if data is not None and self.edits_split else None
        self.keys_invalid = self.edits_split and data is not None and keys is None
        if not self.edits_split:
            keys = ["A"]
        self.keys = keys or ["A", *sorted(self.saved_variants)]
        for key, weight in zip(self.keys, split.equal_weights(len(self.keys)), strict=True):
            self.fields[f"variant_{key}_weight"] = forms.IntegerField(
                label=f"Variant {key}",
                required=False,
                initial=self._saved_weight(key, weight),
                widget=forms.NumberInput(
                    attrs={
                        "class": "input-inline",
                        "min": 0,
                        "max": 100,
                        "data-weight": key,
                        "aria-label": f"Weight of variant {key} (percent)",
                    }
                ),
                error_messages={"invalid": "Enter a whole number from 0 to 100."},
            )
        self.editor_a = ContentForm(data, message=message, workspace=workspace)
        self.variant_editors = [
            VariantContentForm(
                data,
                message=message,
                workspace=workspace,
                key=key,
                variant=self.saved_variants.get(key),
            )
            for key in self.keys[1:]
        ]

    def _saved_weight(self, key: str, equal: int) -> int:
        """The saved weight, while the saved variants are the ones shown; else the equal share."""
        if self.keys != ["A", *sorted(self.saved_variants)]:
            return equal
        if key == "A":
            return self.message.variant_a_weight
        return self.saved_variants[key].weight

    def initial_from(self, message):
        return {
            "variants": ",".join(["A", *sorted(self.saved_variants)]),
            "tab": "A",
            "holdout_percent": message.holdout_percent,
        }

    # What the template shows.

    @property
    def editors(self) -> list[ContentForm]:
        return [self.editor_a, *self.variant_editors]

    @property
    def weight_fields(self):
        return [self[f"variant_{key}_weight"] for key in self.keys]

    @property
    def can_add(self) -> bool:
        return split.next_key(self.keys) is not None

    @property
    def next_key(self) -> str | None:
        return split.next_key(self.keys)

    @property
    def is_experiment(self) -> bool:
        holdout = self["holdout_percent"].value()
        return len(self.keys) > 1 or str(holdout or "0").strip() not in ("", "0")

    @property
    def active_tab(self) -> str:
        """The requested tab, unless another editor has errors and it has none."""
        wanted = (self["tab"].value() or "A").upper()
        if wanted not in self.keys:
            wanted = self.keys[-1] if wanted in split.VARIANT_KEYS else "A"
        if self.is_bound:
            failing = [
                key for key, editor in zip(self.keys, self.editors, strict=True) if editor.errors
            ]
            if failing and wanted not in failing:
                return failing[0]
        return wanted

    def editor(self, key: str) -> ContentForm:
        return dict(zip(self.keys, self.editors, strict=True)).get(key, self.editor_a)

    def error_items(self) -> list[tuple[str, str, str]]:
        """Every error of the step as (anchor, where, text), for the summary at the top."""
        own = [e for e in self.non_field_errors() if e not in self.editor_a.non_field_errors()]
        items = [("", "", error) for error in own]
        for name in ("holdout_percent", *[f"variant_{key}_weight" for key in self.keys]):
            bound = self[name]
            items += [(bound.id_for_label, f"Split: {bound.label}", e) for e in bound.errors]
        for key, editor in zip(self.keys, self.editors, strict=True):
            where = f"Variant {key}" if len(self.keys) > 1 else ""
            items += [(f"variant-{key}", where, e) for e in editor.non_field_errors()]
            for bound in editor:
                label = f"{where} · {bound.label}" if where else bound.label
                items += [(bound.id_for_label, label, e) for e in bound.errors]
        return items

    # Validation.

    def full_clean(self):
        super().full_clean()
        if not self.is_bound:
            return
        a_valid = self.editor_a.is_valid()
        for editor in self.variant_editors:
            if a_valid:  # B–D without a display of their own show as A is typed here
                editor.display = {name: self.editor_a.cleaned_data[name] for name in editor.display}
            editor.is_valid()
        # The step's errors include its editors' (A's under their own names, as before B–D
        # existed; B–D's prefixed), so that `is_valid()` and the view's messages see them.
        for editor in self.editors:
            for field, errors in editor.errors.items():
                if editor is self.editor_a:
                    name = field
                elif field == NON_FIELD_ERRORS:
                    name = editor.prefix
                else:
                    name = editor.add_prefix(field)
                self._errors.setdefault(name, self.error_class()).extend(errors)

    def clean(self):
        data = super().clean()
        if not self.edits_split:
            return data
        if self.keys_invalid:
            raise forms.ValidationError(
                f"An experiment has 1 to {split.MAX_VARIANTS} variants, named A to D in order."
            )
        removed = [key for key in self.saved_variants if key not in self.keys]
        refusal = lifecycle_refusal(self.message, removed)
        if refusal:
            self.add_error(None, refusal)
        names = [f"variant_{key}_weight" for key in self.keys]
        if len(self.keys) == 1:
            data[names[0]] = 100
        if any(name in self.errors for name in [*names, "holdout_percent"]):
            return data
        for name in names:
            if data.get(name) is None:
                self.add_error(name, "Enter a weight from 0 to 100: the weights add up to 100.")
        if any(name in self.errors for name in names):
            return data
        data["holdout_percent"] = data.get("holdout_percent") or 0
        for problem in validation.check_experiment(
            weights=[(key, data[f"variant_{key}_weight"]) for key in self.keys],
            holdout_percent=data["holdout_percent"],
        ):
            self.add_error(problem.form_field, problem.form)
        return data

    # Add and remove: the same page again, one variant more or fewer, nothing saved yet.

    def rearranged(self, go: str) -> "ContentStepForm":
        """The form after "Add variant" (`go` = "add-variant") or "Remove" ("remove-C")."""
        data = self.data.copy()
        keys = list(self.keys)
        if go == "add-variant":
            key = split.next_key(keys)
            if key is None:
                return self._refused(
                    f"An experiment has at most {split.MAX_VARIANTS} variants (A to D): "
                    "remove one before adding another."
                )
            # A's content and display as typed (its display is used until "own way" is ticked).
            for name in self.editor_a.fields:
                if name != "close_on_backdrop" and name in self.data:
                    data.setlist(f"variant_{key}-{name}", self.data.getlist(name))
            keys.append(key)
            tab = key
        else:
            key = go.removeprefix("remove-").upper()
            if key != keys[-1] or key == "A":
                return self._refused(
                    "Only the last variant can be removed: variants keep their letters, so "
                    "that their metrics stay theirs."
                )
            refusal = lifecycle_refusal(self.message, [key]) if key in self.saved_variants else None
            if refusal:
                return self._refused(refusal)
            keys.pop()
            tab = keys[-1]
        data["variants"] = ",".join(keys)
        data["tab"] = tab
        for key_, weight in zip(keys, split.equal_weights(len(keys)), strict=True):
            data[f"variant_{key_}_weight"] = str(weight)
        form = ContentStepForm(data, message=self.message, workspace=self.workspace)
        form.pending = True  # the page differs from what is saved until "Save"
        return form

    def _refused(self, text: str) -> "ContentStepForm":
        form = ContentStepForm(self.data, message=self.message, workspace=self.workspace)
        form.is_valid()
        form.add_error(None, text)
        form.pending = True
        return form

    def save(self):
        data = self.cleaned_data
        if not self.edits_split:
            return self.editor_a.save()
        with transaction.atomic():
            message = self.editor_a.save()
            message.variant_a_weight = data[f"variant_{self.keys[0]}_weight"]
            message.holdout_percent = data["holdout_percent"]
            if (
                split.is_experiment(
                    variant_count=len(self.keys) - 1, holdout_percent=message.holdout_percent
                )
                and not message.experiment_seed
            ):
                message.experiment_seed = split.new_experiment_seed()
            message.save(
                update_fields=[
                    "variant_a_weight",
                    "holdout_percent",
                    "experiment_seed",
                    "updated_at",
                ]
            )
            for editor in self.variant_editors:
                variant = editor.variant or MessageVariant(message=message, key=editor.key)
                variant.weight = data[f"variant_{editor.key}_weight"]
                variant.content_html = editor.cleaned_data["content_html"]
                variant.content_builder = editor.cleaned_data["content_builder"]
                for name, value in editor.own_display_values().items():
                    setattr(variant, name, value)
                variant.save()
            message.variants.exclude(key__in=self.keys[1:]).delete()
        return message

    def preview_values(self, key: str = "A") -> dict:
        return self.editor(key).preview_values()


def lifecycle_refusal(message, keys) -> str | None:
    # Imported here: campaigns.lifecycle imports the wizard, which imports these forms.
    from campaigns import lifecycle

    return lifecycle.variant_removal_refusal(message=message, keys=keys)


START_OPTIONS = {
    "now": ("As soon as it is launched", ""),
    "at": ("At a date and time", ""),
}
END_OPTIONS = {"never": ("Never", "Until you end it."), "at": ("At a date and time", "")}

DATETIME_WIDGET = forms.DateTimeInput(
    attrs={"type": "datetime-local", "class": "input-inline"}, format="%Y-%m-%dT%H:%M"
)


class ScheduleForm(ChoiceCardsMixin, StepForm):
    start = forms.ChoiceField(
        label="Start", choices=[("now", "Now"), ("at", "At")], widget=forms.RadioSelect
    )
    starts_at = forms.DateTimeField(
        label="Start date and time",
        required=False,
        widget=DATETIME_WIDGET,
        error_messages={"invalid": "Enter a date and time, e.g. 2030-01-31 09:00."},
        validators=[validate_supported_date],
    )
    end = forms.ChoiceField(
        label="End", choices=[("never", "Never"), ("at", "At")], widget=forms.RadioSelect
    )
    ends_at = forms.DateTimeField(
        label="End date and time",
        required=False,
        widget=DATETIME_WIDGET,
        error_messages={"invalid": "Enter a date and time, e.g. 2030-02-28 18:00."},
        validators=[validate_supported_date],
    )

    def initial_from(self, message):
        return {
            "start": "at" if message.starts_at else "now",
            "starts_at": message.starts_at,
            "end": "at" if message.ends_at else "never",
            "ends_at": message.ends_at,
        }

    def start_options(self):
        return self.cards("start", START_OPTIONS)

    def end_options(self):
        return self.cards("end", END_OPTIONS)

    def clean(self):
        data = super().clean()
        missing_start = data.get("start") == "at" and not data.get("starts_at")
        if missing_start and "starts_at" not in self.errors:
            self.add_error("starts_at", "Pick the start date and time, or choose “now”.")
        missing_end = data.get("end") == "at" and not data.get("ends_at")
        if missing_end and "ends_at" not in self.errors:
            self.add_error("ends_at", "Pick the end date and time, or choose “never”.")
        if self.errors:
            return data
        starts_at = data["starts_at"] if data["start"] == "at" else None
        ends_at = data["ends_at"] if data["end"] == "at" else None
        add_problems(
            self,
            validation.check_schedule(starts_at=starts_at, ends_at=ends_at, now=timezone.now()),
        )
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    def save(self):
        self.message.starts_at = self.cleaned_data["starts_at"]
        self.message.ends_at = self.cleaned_data["ends_at"]
        self.message.save()
        return self.message


class PriorityForm(forms.Form):
    priority = forms.IntegerField(
        min_value=MIN_PRIORITY,
        max_value=MAX_PRIORITY,
        widget=forms.NumberInput(attrs={"class": "input-inline"}),
        error_messages={
            "required": f"Enter a priority from {MIN_PRIORITY} (shown first) to {MAX_PRIORITY}.",
            "invalid": f"Enter a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}.",
            "min_value": f"Enter a whole number from {MIN_PRIORITY} (shown first) to "
            f"{MAX_PRIORITY}.",
            "max_value": f"Enter a whole number from {MIN_PRIORITY} to {MAX_PRIORITY}.",
        },
    )


class MessageFilterForm(forms.Form):
    state = forms.CharField(required=False)
    q = forms.CharField(required=False, max_length=120)
