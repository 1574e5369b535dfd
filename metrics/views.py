"""The message metrics page (htmx-refreshed) and its CSV export. They read rollups only."""

import csv

from django import forms
from django.conf import settings
from django.http import HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET

from anonmsg.htmx import render_page, vary_on_htmx, wants_partial
from anonmsg.plans import anonymous_messages_required
from anonmsg.tenancy import get_for_workspace, workspace_required
from campaigns.models import AnonymousMessage
from metrics.charts import bar_chart, funnel, lift_chart, time_axis
from metrics.experiment_report import ExperimentReport, experiment_report, with_variants_flag
from metrics.experiment_stats import LOSER, WINNER, signed_percent
from metrics.freshness import freshness
from metrics.guidance import advise
from metrics.models import RollupState
from metrics.ranges import DEFAULT_PRESET, PRESETS, RangeError, custom_range, preset_range
from metrics.rollups import STATE_NAME
from metrics.schedules import ROLL_UP_EVERY_MINUTES
from metrics.summary import message_report, stats_version

DEFINITIONS = {
    "views": "Times the message was displayed.",
    "clicks": "Clicks on its tracked actions (elements with data-action).",
    "conversions": "People who met the goal: {goal}.",
    "unique_viewers": "Distinct anonymous visitors who saw it at least once.",
    "dismissals": "Times a visitor closed it.",
    "ctr": "Clicks ÷ views.",
    "conversion_rate": "Converted ÷ unique viewers.",
}


def poll_seconds() -> int:
    return getattr(settings, "METRICS_POLL_SECONDS", 30)


class RangeForm(forms.Form):
    range = forms.ChoiceField(
        choices=[*PRESETS.items(), ("custom", "Custom")], required=False, initial=DEFAULT_PRESET
    )
    start = forms.DateField(required=False, label="From", widget=forms.DateInput({"type": "date"}))
    end = forms.DateField(required=False, label="To", widget=forms.DateInput({"type": "date"}))

    def clean(self):
        data = super().clean()
        key = data.get("range") or DEFAULT_PRESET
        if key == "custom":
            if not data.get("start"):
                self.add_error("start", "Choose the first day.")
            if not data.get("end"):
                self.add_error("end", "Choose the last day.")
        data["range"] = key
        return data

    def date_range(self, *, workspace):
        """The chosen range, or the default one when the input is not valid."""
        tz = workspace.tz
        now = timezone.now()
        if self.is_valid():
            data = self.cleaned_data
            if data["range"] != "custom":
                return preset_range(data["range"], now=now, tz=tz)
            try:
                return custom_range(data["start"], data["end"], tz=tz)
            except RangeError as exc:
                self.add_error("start" if exc.field == "from" else "end", exc.message)
        return preset_range(DEFAULT_PRESET, now=now, tz=tz)


def _goal_text(message: AnonymousMessage) -> str:
    trigger = "clicking" if message.goal_trigger == "click" else "seeing"
    hours = message.goal_window_hours
    window = f"{hours // 24} days" if hours % 24 == 0 and hours >= 48 else f"{hours} hours"
    if hours == 24:
        window = "1 day"
    text = f"identified within {window} of {trigger} it"
    if message.goal_condition == "event" and message.goal_event:
        return text + f", and performed “{message.goal_event}” in that window"
    if message.goal_condition in ("segment_entered", "segment_left"):
        verb = "entered" if message.goal_condition == "segment_entered" else "left"
        name = message.goal_segment.name if message.goal_segment else "a deleted segment"
        return text + f", and {verb} the segment “{name}” in that window"
    return text


def _exposure_goal_text(message: AnonymousMessage) -> str:
    """The exposure-based conversion rule, in the words of the goal's."""
    return _goal_text(message).replace(
        "clicking it" if message.goal_trigger == "click" else "seeing it",
        "their first exposure (a variant's first view, or being held out)",
    )


GUIDANCE_LEVEL = {WINNER: "success", LOSER: "warning"}


def _experiment_context(message: AnonymousMessage, experiment: ExperimentReport) -> dict:
    """The per-arm table, the lift chart and the guidance lines of the page."""
    lift_of = {comparison.key: comparison for comparison in experiment.comparisons}
    controls = {comparison.versus for comparison in experiment.comparisons}
    rows = []
    for arm in experiment.arms:
        comparison = lift_of.get(arm.key)
        lift = None
        if comparison is not None and comparison.lift.estimate is not None:
            lift = {
                "versus": comparison.versus_label,
                "estimate": signed_percent(comparison.lift.estimate),
                "low": signed_percent(comparison.lift.low),
                "high": signed_percent(comparison.lift.high),
                "decision": comparison.lift.decision,
            }
        rows.append({"arm": arm, "lift": lift, "is_control": arm.key in controls})
    actions = sorted({name for arm in experiment.arms for name in arm.clicks_by_action})
    chart = lift_chart(
        [
            (
                comparison.key,
                f"{comparison.key} vs {comparison.versus}",
                comparison.lift.estimate,
                comparison.lift.low,
                comparison.lift.high,
                comparison.lift.decision,
            )
            for comparison in experiment.comparisons
        ]
    )
    return {
        "report": experiment,
        "rows": rows,
        "actions": [
            {"name": name, "counts": [arm.clicks_by_action.get(name, 0) for arm in experiment.arms]}
            for name in actions
        ],
        "chart": chart,
        "guidance": [
            (GUIDANCE_LEVEL.get(comparison.lift.decision, "info"), text)
            for comparison, text in experiment.guidance
        ],
        "conversion_definition": (
            f"Exposed visitors {_exposure_goal_text(message)}. The same rule for every arm, "
            "holdout included; converted ÷ exposed."
        ),
    }


def labelled_actions(report_actions, content_actions) -> list[dict]:
    """The clicks per action with the button's label from the message's current content
    (None for an action no longer in it, e.g. renamed since)."""
    labels = {action["name"]: action["label"] for action in content_actions}
    return [
        {
            "name": name,
            "label": labels.get(name),
            "clicks": clicks,
            "share": share,
            "per_view": per_view,
        }
        for name, clicks, share, per_view in report_actions
    ]


def _charts(report):
    labels = [bucket.label for bucket in report.buckets]
    return [
        bar_chart("Views", [b.views for b in report.buckets], labels),
        bar_chart("Clicks", [b.clicks for b in report.buckets], labels),
        bar_chart("Converted", [b.conversions for b in report.buckets], labels),
    ]


def _freshness():
    ran_at = RollupState.objects.filter(name=STATE_NAME).values_list("ran_at", flat=True).first()
    return freshness(ran_at=ran_at, now=timezone.now(), every_minutes=ROLL_UP_EVERY_MINUTES)


@require_GET
@workspace_required
@anonymous_messages_required
@vary_on_htmx
def message_metrics(request, message_id):
    message = get_for_workspace(
        with_variants_flag(
            AnonymousMessage.objects.select_related("goal_segment", "stats_version")
        ),
        request.workspace,
        pk=message_id,
    )
    form = RangeForm(request.GET or None)
    date_range = form.date_range(workspace=request.workspace)
    report = message_report(
        message_id=message.pk,
        date_range=date_range,
        tz=request.workspace.tz,
        version=stats_version(message),
    )
    counted = _freshness()
    if (
        wants_partial(request)
        and request.GET.get("fingerprint") == report.fingerprint
        and request.GET.get("counted", counted.token) == counted.token
    ):
        # Polling and nothing changed (numbers, nor the "updated" stamp): htmx keeps the panel.
        return HttpResponse(status=204)
    query = request.GET.copy()
    query.pop("fingerprint", None)
    query.pop("counted", None)
    query["fingerprint"] = report.fingerprint
    query["counted"] = counted.token
    definitions = {
        **DEFINITIONS,
        "conversions": DEFINITIONS["conversions"].format(goal=_goal_text(message)),
    }
    steps = funnel(
        views=report.views,
        unique_viewers=report.unique_viewers,
        clicks=report.clicks,
        conversions=report.conversions,
    )
    context = {
        "message": message,
        "form": form,
        "date_range": date_range,
        "presets": PRESETS,
        "report": report,
        "charts": _charts(report),
        "actions": labelled_actions(report.actions, message.content_actions),
        "time_axis": time_axis([bucket.label for bucket in report.buckets]),
        "funnel": [(step, definitions[step.key]) for step in steps],
        "freshness": counted,
        "advice": advise(
            views=report.views,
            unique_viewers=report.unique_viewers,
            clicks=report.clicks,
            dismissals=report.dismissals,
            conversions=report.conversions,
        ),
        "definitions": definitions,
        "poll_query": query.urlencode(),
        "poll_seconds": poll_seconds(),
        "export_query": _without(request.GET, "fingerprint", "counted"),
    }
    experiment = experiment_report(message=message, version=stats_version(message))
    if experiment is not None:
        context["experiment"] = _experiment_context(message, experiment)
    return render_page(request, "metrics/message_metrics.html", context, partial="metrics-panel")


def _without(query, *keys) -> str:
    query = query.copy()
    for key in keys:
        query.pop(key, None)
    return query.urlencode()


@require_GET
@workspace_required
@anonymous_messages_required
def message_metrics_csv(request, message_id):
    message = get_for_workspace(
        AnonymousMessage.objects.select_related("stats_version"), request.workspace, pk=message_id
    )
    form = RangeForm(request.GET or None)
    date_range = form.date_range(workspace=request.workspace)
    report = message_report(
        message_id=message.pk,
        date_range=date_range,
        tz=request.workspace.tz,
        version=stats_version(message),
    )
    actions = [name for name, *_ in report.actions]
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"message-{message.pk}-metrics-{date_range.first_day}-{date_range.last_day}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    tz = request.workspace.tz
    writer.writerow(
        [
            f"{date_range.bucket}_start ({request.workspace.time_zone})",
            "views",
            "clicks",
            "dismissals",
            "conversions",
            *[f"clicks: {name}" for name in actions],
        ]
    )
    for bucket in report.buckets:
        writer.writerow(
            [
                bucket.start.astimezone(tz).isoformat(),
                bucket.views,
                bucket.clicks,
                bucket.dismissals,
                bucket.conversions,
                *[bucket.clicks_by_action.get(name, 0) for name in actions],
            ]
        )
    return response


@require_GET
@workspace_required
@anonymous_messages_required
def experiment_arms_csv(request, message_id):
    """One row per arm of the message's experiment (only the header when it has none)."""
    message = get_for_workspace(
        with_variants_flag(AnonymousMessage.objects.select_related("stats_version")),
        request.workspace,
        pk=message_id,
    )
    experiment = experiment_report(message=message, version=stats_version(message))
    if experiment is None:
        experiment = ExperimentReport(arms=[], comparisons=[], frozen_at=None)
    lift_of = {comparison.key: comparison for comparison in experiment.comparisons}
    actions = sorted({name for arm in experiment.arms for name in arm.clicks_by_action})
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    filename = f"message-{message.pk}-experiment-arms-{timezone.now():%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "arm", "exposed", "views", "clicks", "dismissals", "converted", "conversion_rate",
            "lift_versus", "lift_estimate", "lift_low_95", "lift_high_95", "decision",
            *[f"clicks: {name}" for name in actions],
        ]
    )  # fmt: skip
    for arm in experiment.arms:
        comparison = lift_of.get(arm.key)
        lift = comparison.lift if comparison is not None else None
        writer.writerow(
            [
                arm.key, arm.exposed, arm.views, arm.clicks, arm.dismissals, arm.converted,
                f"{arm.conversion_rate:.4f}",
                comparison.versus if comparison else "",
                *(_csv_number(value) for value in (
                    (lift.estimate, lift.low, lift.high) if lift else (None, None, None)
                )),
                lift.decision if lift else "",
                *[arm.clicks_by_action.get(name, 0) for name in actions],
            ]
        )  # fmt: skip
    return response


def _csv_number(value: float | None) -> str:
    return "" if value is None else f"{value:.4f}"
