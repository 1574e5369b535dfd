"""Forms of the Segments pages: the segment (name, match) and one form per condition row.

Validation of a condition is campaigns/segment_conditions.py's `clean_condition`, shared with
the admin and metrics; these forms only put its errors on the right field.
"""

from django import forms
from django.forms import BaseFormSet, formset_factory

from campaigns import form_rows
from campaigns.models import Segment, SegmentMatch, SegmentOperator
from campaigns.segment_conditions import (
    MAX_CONDITIONS,
    MAX_TRAIT_LENGTH,
    MAX_VALUE_LENGTH,
    ConditionError,
    clean_condition,
)

CONDITIONS_PREFIX = "conditions"
BLANK_CONDITION = {"trait": "", "operator": SegmentOperator.EQUALS, "value": ""}


class SegmentForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["name", "match"]
        labels = {"match": "Profiles must match"}
        widgets = {
            "name": forms.TextInput(attrs={"placeholder": "e.g. Pro customers", "autofocus": True}),
            "match": forms.RadioSelect,
        }
        error_messages = {"name": {"required": "Give the segment a name."}}

    def __init__(self, *args, workspace, **kwargs):
        super().__init__(*args, **kwargs)
        self.workspace = workspace
        self.fields["match"].choices = [
            (SegmentMatch.ALL, "All conditions"),
            (SegmentMatch.ANY, "Any condition"),
        ]

    def clean_name(self):
        name = self.cleaned_data["name"].strip()
        taken = Segment.objects.filter(workspace=self.workspace, name__iexact=name)
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError(
                "Another segment already has this name: goals pick segments by name, so choose "
                "another one."
            )
        return name


class ConditionForm(forms.Form):
    trait = forms.CharField(
        required=False,
        max_length=MAX_TRAIT_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "trait, e.g. plan", "aria-label": "Trait"}),
    )
    operator = forms.ChoiceField(
        choices=SegmentOperator.choices,
        initial=SegmentOperator.EQUALS,
        widget=forms.Select(attrs={"aria-label": "Operator"}),
    )
    value = forms.CharField(
        required=False,
        max_length=MAX_VALUE_LENGTH,
        widget=forms.TextInput(attrs={"placeholder": "value, e.g. pro", "aria-label": "Value"}),
    )

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        try:
            data["condition"] = clean_condition(
                trait=data.get("trait"), operator=data.get("operator"), value=data.get("value")
            )
        except ConditionError as exc:
            self.add_error(exc.field, exc.message)
        return data


class BaseConditionFormSet(BaseFormSet):
    default_error_messages = {
        **BaseFormSet.default_error_messages,
        "too_few_forms": "Add at least one condition.",
        "too_many_forms": f"A segment has at most {MAX_CONDITIONS} conditions.",
    }

    def initial_form_count(self):
        # Every posted row is optional: a row left blank is ignored, not an error.
        return 0 if self.is_bound else super().initial_form_count()

    def conditions(self) -> list[dict]:
        return [
            form.cleaned_data["condition"]
            for form in self.forms
            if form.cleaned_data.get("condition")
        ]


ConditionFormSet = formset_factory(
    ConditionForm,
    formset=BaseConditionFormSet,
    extra=0,
    min_num=1,
    validate_min=True,
    max_num=MAX_CONDITIONS,
    validate_max=True,
)


def condition_rows(conditions: list[dict]) -> list[dict]:
    """Stored conditions as form rows (exists has no value: an empty box)."""
    return [
        {
            "trait": condition.get("trait", ""),
            "operator": condition.get("operator", SegmentOperator.EQUALS),
            "value": "" if condition.get("value") is None else str(condition.get("value")),
        }
        for condition in conditions
    ] or [dict(BLANK_CONDITION)]


def edited_rows(data) -> list[dict]:
    """The condition rows of a POST as typed, one added or removed (campaigns.form_rows), for
    re-showing the form (nothing is validated or saved then)."""
    return form_rows.edited_rows(
        data,
        prefix=CONDITIONS_PREFIX,
        names=("trait", "operator", "value"),
        limit=MAX_CONDITIONS,
        blank=BLANK_CONDITION,
    )
