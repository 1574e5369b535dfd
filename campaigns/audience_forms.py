"""The "Who" section of the Page rules step: audience conditions as formset rows.

Validation is campaigns/validation.py's `check_audience` (campaigns/audience.py's rules, shared
with the App API and the admin); these forms only put its errors under the right field. Each
row has one value box per kind of value (text, device, visitor, number) so that the page works
without JavaScript; CSS shows the one its attribute needs, and only that one is read.
"""

from django import forms
from django.forms import BaseFormSet, formset_factory

from campaigns import audience, form_rows, validation
from campaigns.forms import DEVICE_CHOICES, StepForm

AUDIENCE_PREFIX = "audience"

# The row's box that holds the value, by attribute (others use "value", a text box).
VALUE_FIELDS = {
    audience.DEVICE: "device",
    audience.VISITOR: "visitor",
    audience.SESSIONS: "count",
    audience.SESSION_PAGEVIEWS: "count",
}
VISITOR_CHOICES = [("new", "new (first session)"), ("returning", "returning")]
VALUE_PLACEHOLDERS = {
    audience.REFERRER: "google.com",
    audience.UTM_SOURCE: "newsletter",
    audience.UTM_MEDIUM: "email",
    audience.UTM_CAMPAIGN: "spring-sale",
    audience.LANGUAGE: "de",
}


def value_field(attribute: str) -> str:
    return VALUE_FIELDS.get(attribute, "value")


def condition_row(condition: dict) -> dict:
    """A stored condition as the initial values of a row."""
    attribute = condition["attribute"]
    return {
        "attribute": attribute,
        "operator": condition["operator"],
        value_field(attribute): str(condition["value"]),
    }


class AttributeSelect(forms.Select):
    """Each attribute names its operators, so that wizard.js offers only those."""

    def create_option(self, name, value, *args, **kwargs):
        option = super().create_option(name, value, *args, **kwargs)
        option["attrs"]["data-operators"] = " ".join(audience.OPERATORS.get(value, ()))
        return option


class AudienceConditionForm(forms.Form):
    attribute = forms.ChoiceField(
        label="Attribute",
        choices=[("", "Choose…"), *audience.ATTRIBUTE_LABELS.items()],
        required=False,
        widget=AttributeSelect(attrs={"data-audience-attribute": ""}),
        error_messages={
            "invalid_choice": "Unknown attribute “%(value)s”: choose one from the list."
        },
    )
    operator = forms.ChoiceField(
        label="Condition",
        choices=list(audience.OPERATOR_LABELS.items()),
        required=False,
        widget=forms.Select(attrs={"data-audience-operator": ""}),
        error_messages={
            "invalid_choice": "Unknown condition “%(value)s”: choose one from the list."
        },
    )
    # The value boxes are plain text to Django: only the box the attribute uses is read, and
    # campaigns/audience.py checks it (a hidden box holding anything is never an error).
    value = forms.CharField(
        label="Value",
        required=False,
        strip=False,
        widget=forms.TextInput(attrs={"placeholder": "google.com"}),
    )
    device = forms.CharField(
        label="Device", required=False, widget=forms.Select(choices=DEVICE_CHOICES)
    )
    visitor = forms.CharField(
        label="Visitor", required=False, widget=forms.Select(choices=VISITOR_CHOICES)
    )
    count = forms.CharField(
        label="At least",
        required=False,
        widget=forms.NumberInput(attrs={"min": 1, "max": audience.MAX_COUNT, "placeholder": "2"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each input names the row it is in, for screen readers (the grid has column heads).
        number = (self.prefix or "").rsplit("-", 1)[-1]
        row = f" of condition {int(number) + 1}" if number.isdigit() else ""
        for field in self.fields.values():
            field.widget.attrs["aria-label"] = f"{field.label}{row}"
        attribute = self.attribute_value()
        if attribute in VALUE_PLACEHOLDERS:
            self.fields["value"].widget.attrs["placeholder"] = VALUE_PLACEHOLDERS[attribute]

    def attribute_value(self) -> str:
        if self.is_bound:
            return self.data.get(self.add_prefix("attribute"), "")
        return (self.initial or {}).get("attribute", "")

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        attribute = data.get("attribute") or ""
        box = value_field(attribute)
        if not attribute:
            if any((data.get(name) or "").strip() for name in ("value", "count")):
                self.add_error("attribute", "Choose what to check, or remove the condition.")
            return data  # an empty row is left out
        operators = audience.OPERATORS.get(attribute, ())
        # Attributes with one operator show none (CSS): whatever the hidden box says is moot.
        operator = data.get("operator") if len(operators) > 1 else operators[0]
        if operator not in operators:
            allowed = " or ".join(f"“{audience.OPERATOR_LABELS[o]}”" for o in operators)
            self.add_error("operator", f"{audience.ATTRIBUTE_LABELS[attribute]} takes {allowed}.")
            return data
        raw = {"attribute": attribute, "operator": operator, "value": data.get(box) or ""}
        problems = validation.check_audience([raw])
        for problem in problems:
            field = (problem.form_field or "").rsplit("-", 1)[-1]
            self.add_error(box if field == "value" else field or None, problem.form)
        if not problems:
            data["condition"] = audience.normalise_condition(raw)
        return data


class BaseAudienceFormSet(BaseFormSet):
    def conditions(self) -> list[dict]:
        return [
            form.cleaned_data["condition"]
            for form in self.forms
            if form.cleaned_data.get("condition")
        ]


AudienceFormSet = formset_factory(
    AudienceConditionForm,
    formset=BaseAudienceFormSet,
    extra=0,
    max_num=audience.MAX_CONDITIONS,
)


def edited_rows(data) -> list[dict]:
    """The rows of a POST as typed (not validated), one added or removed
    (campaigns.form_rows)."""
    return form_rows.edited_rows(
        data,
        prefix=AUDIENCE_PREFIX,
        names=("attribute", "operator", "value", "device", "visitor", "count"),
        limit=audience.MAX_CONDITIONS,
        blank={},
    )


class AudienceForm(StepForm):
    """Step 2's own form: the audience conditions (page rules are saved by their own buttons).

    A POST without the formset (an older page, a script) leaves the audience as it is."""

    def __init__(self, data=None, *, message, workspace, rows: list[dict] | None = None):
        super().__init__(data, message=message, workspace=workspace)
        posted = data is not None and f"{AUDIENCE_PREFIX}-TOTAL_FORMS" in data
        if rows is None:
            rows = [condition_row(c) for c in (message.audience if message else [])]
        self.conditions = AudienceFormSet(
            data if posted else None, prefix=AUDIENCE_PREFIX, initial=rows
        )
        self.posted = posted

    def clean(self):
        data = super().clean()
        if not self.posted:
            return data
        if not self.conditions.is_valid():
            raise forms.ValidationError(
                "Check the audience conditions: each one needs what it checks and a value."
                if not self.conditions.non_form_errors()
                else self.conditions.non_form_errors()[0]
            )
        conditions = self.conditions.conditions()
        problems = validation.check_audience(conditions)
        if problems:
            raise forms.ValidationError(problems[0].form)
        data["audience"] = conditions
        return data

    def save(self):
        # Unchanged conditions are not saved: a save bumps the workspace's content version,
        # which makes every SDK's next delivery request miss the cache.
        if self.posted and self.cleaned_data["audience"] != self.message.audience:
            self.message.audience = self.cleaned_data["audience"]
            self.message.save(update_fields=["audience", "updated_at"])
        return self.message
