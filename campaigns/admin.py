"""Django admin for anonymous messages (page rules inline) and segments.

For staff who operate the installation. The forms run the same validation as the dashboard and
the App API (page rules, content, display position, schedule, segment conditions), so the admin
cannot store a message that delivery would choke on.
"""

from django import forms
from django.contrib import admin
from django.utils import timezone

from campaigns import audience, triggers, validation
from campaigns.models import (
    AnonymousMessage,
    MessageVariant,
    PageRule,
    Segment,
    State,
)
from campaigns.rules import MAX_RULES_PER_MESSAGE
from campaigns.segment_conditions import ConditionError, clean_conditions, describe_condition


def add_problems(form: forms.Form, problems: list[validation.Problem]) -> None:
    """The validation problems that the admin checks, on the model's fields."""
    for problem in problems:
        if problem.admin is not None:
            form.add_error(problem.field, problem.admin)


class StateFilter(admin.SimpleListFilter):
    """The derived state (draft, scheduled, active, paused, ended, archived)."""

    title = "state"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return State.choices

    def queryset(self, request, queryset):
        if self.value() in State.values:
            return queryset.in_state(self.value())
        return queryset


class PageRuleForm(forms.ModelForm):
    class Meta:
        model = PageRule
        fields = ["position", "platform", "operator", "value", "exclude", "case_sensitive"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            add_problems(
                self,
                validation.check_rule(
                    platform=data.get("platform"),
                    operator=data.get("operator"),
                    value=data.get("value"),
                ),
            )
        return data


class PageRuleInline(admin.TabularInline):
    model = PageRule
    form = PageRuleForm
    extra = 0
    max_num = MAX_RULES_PER_MESSAGE  # as in the wizard and the App API
    fields = ["position", "platform", "operator", "value", "exclude", "case_sensitive"]

    def get_formset(self, request, obj=None, **kwargs):
        return super().get_formset(request, obj, validate_max=True, **kwargs)


class MessageVariantForm(forms.ModelForm):
    class Meta:
        model = MessageVariant
        fields = ["key", "weight", "content_html", "display_type", "display_position"]

    def clean(self):
        data = super().clean()
        if not self.errors:
            add_problems(self, validation.check_content(data.get("content_html") or ""))
            if data.get("display_type"):
                add_problems(
                    self,
                    validation.check_display(
                        display_type=data["display_type"],
                        position=data.get("display_position"),
                        element_id="",
                    ),
                )
        return data


class MessageVariantFormSet(forms.BaseInlineFormSet):
    def clean(self):
        """The split as a whole: A's weight and the holdout are on the message (already set on
        `self.instance` from its form), B–D's weights here (campaigns.validation)."""
        super().clean()
        if any(self.errors):
            return
        kept = sorted(
            (form.cleaned_data["key"], form.cleaned_data["weight"])
            for form in self.forms
            if form.cleaned_data and not form.cleaned_data.get("DELETE")
        )
        message = self.instance
        weights = [("A", message.variant_a_weight), *kept]
        if weights == [("A", 100)] and not message.holdout_percent:
            return  # no experiment
        problems = validation.check_experiment(
            weights=weights, holdout_percent=message.holdout_percent
        )
        if problems:
            raise forms.ValidationError([problem.admin for problem in problems if problem.admin])


class MessageVariantInline(admin.StackedInline):
    """Variants B–D of an experiment (A is the message's own content)."""

    model = MessageVariant
    form = MessageVariantForm
    formset = MessageVariantFormSet
    extra = 0
    max_num = validation.MAX_VARIANTS - 1
    fields = ["key", "weight", "content_html", "display_type", "display_position"]


class AnonymousMessageAdminForm(forms.ModelForm):
    class Meta:
        model = AnonymousMessage
        # ModelAdmin.fieldsets decides the fields shown; this only satisfies ModelForm.
        fields = ["workspace", "name"]

    def clean(self):
        data = super().clean()
        html = data.get("content_html") or ""
        if html.strip():  # a draft may wait for its content (launching checks it)
            add_problems(self, validation.check_content(html))
        display_type = data.get("display_type")
        if display_type:
            add_problems(
                self,
                validation.check_display(
                    display_type=display_type,
                    position=data.get("display_position"),
                    element_id=data.get("display_element_id") or "",
                ),
            )
        segment, workspace = data.get("goal_segment"), data.get("workspace")
        if segment is not None and workspace is not None and segment.workspace_id != workspace.pk:
            self.add_error("goal_segment", "This segment belongs to another workspace.")
        self._clean_who_and_when(data)
        # Unlike the dashboard, an end in the past is allowed here (ended messages have one):
        # that problem has no admin text.
        add_problems(
            self,
            validation.check_schedule(
                starts_at=data.get("starts_at"), ends_at=data.get("ends_at"), now=timezone.now()
            ),
        )
        return data

    def _clean_who_and_when(self, data: dict) -> None:
        """The trigger and the audience (JSON, as the App API spells them), checked as the
        App API checks them and stored in their one shape."""
        if "trigger" in data:
            problems = validation.check_trigger(data["trigger"])
            add_problems(self, problems)
            if not problems:
                data["trigger"] = triggers.normalise_trigger(data["trigger"])
        if "audience" in data:
            problems = validation.check_audience(data["audience"])
            add_problems(self, problems)
            if not problems:
                data["audience"] = audience.normalise_audience(data["audience"])


@admin.register(AnonymousMessage)
class AnonymousMessageAdmin(admin.ModelAdmin):
    form = AnonymousMessageAdminForm
    list_display = ["name", "workspace", "state", "priority", "updated_at"]
    list_filter = [
        StateFilter,
        "display_type",
        "workspace__plan",
        ("workspace", admin.RelatedOnlyFieldListFilter),
    ]
    search_fields = ["name", "description", "workspace__name"]
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace", "goal_segment"]
    readonly_fields = [
        "state",
        "launched_at",
        "experiment_seed",
        "winner_key",
        "winner_chosen_at",
        "winner_chosen_by",
        "created_at",
        "updated_at",
    ]
    date_hierarchy = "created_at"
    inlines = [PageRuleInline, MessageVariantInline]
    fieldsets = [
        (None, {"fields": ["workspace", "name", "description", "priority"]}),
        ("Lifecycle", {"fields": ["state", "status", "starts_at", "ends_at", "launched_at"]}),
        (
            "Frequency",
            {"fields": ["frequency_mode", "frequency_times", "min_interval_seconds"]},
        ),
        (
            "Goal",
            {
                "fields": [
                    "goal_trigger",
                    "goal_window_hours",
                    "goal_condition",
                    "goal_event",
                    "goal_segment",
                ]
            },
        ),
        (
            "Content and display",
            {
                "fields": [
                    "content_html",
                    "content_builder",
                    "display_type",
                    "display_position",
                    "display_element_id",
                    "close_on_backdrop",
                ]
            },
        ),
        (
            "Who and when",
            {
                "fields": ["audience", "trigger"],
                "description": (
                    'Audience: a list of {"attribute": "device", "operator": "is", "value": '
                    '"phone"}, all must hold (attributes: referrer, utm_source, utm_medium, '
                    "utm_campaign, device, language, visitor, sessions, session_pageviews). "
                    'Trigger: {"type": "page_load"}, or delay/inactivity with "seconds", '
                    'scroll with "percent", click with "selector", exit_intent with '
                    '"fallbackSeconds" (docs/app-api.md).'
                ),
            },
        ),
        (
            "Experiment",
            {
                "fields": [
                    "variant_a_weight",
                    "holdout_percent",
                    "experiment_seed",
                    ("winner_key", "winner_chosen_at", "winner_chosen_by"),
                ],
                "description": (
                    "Variant A is the content above; variants B–D are below. The weights of A "
                    "and the variants add up to 100; the holdout (0–50 %) sees nothing. The "
                    "seed is drawn when the experiment starts (docs/campaigns.md, Experiments)."
                ),
            },
        ),
        ("Bookkeeping", {"fields": ["wizard_step", "created_at", "updated_at"]}),
    ]

    @admin.display(description="state")
    def state(self, message):
        return message.get_state_display()


class SegmentAdminForm(forms.ModelForm):
    class Meta:
        model = Segment
        fields = ["workspace", "name", "match", "conditions"]
        help_texts = {
            "conditions": (
                'A list of {"trait": "plan", "operator": "equals", "value": "pro"}; operators: '
                "equals, not_equals, contains, exists (no value), greater_than, less_than."
            )
        }

    def clean(self):
        data = super().clean()
        if "conditions" in data and "match" in data:
            try:
                data["conditions"] = clean_conditions(
                    match=data["match"], conditions=data["conditions"]
                )
            except ConditionError as exc:
                field = "match" if exc.field == "match" else "conditions"
                self.add_error(field, f"{exc.field}: {exc.message}")
        return data


@admin.register(Segment)
class SegmentAdmin(admin.ModelAdmin):
    form = SegmentAdminForm
    list_display = ["name", "workspace", "match", "summary", "updated_at"]
    list_filter = ["match", ("workspace", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["name", "workspace__name"]
    list_select_related = ["workspace"]
    autocomplete_fields = ["workspace"]
    readonly_fields = ["created_at", "updated_at"]

    @admin.display(description="conditions")
    def summary(self, segment):
        joiner = " or " if segment.match == "any" else " and "
        return joiner.join(describe_condition(c) for c in segment.conditions)
