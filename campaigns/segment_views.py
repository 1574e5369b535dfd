"""Segments pages: list, create, edit and delete segments (conditions on profile traits).

Adding and removing condition rows posts the form to the same view with `add_condition` or
`remove_condition`; the view re-shows the form with one row more or less and saves nothing. With
htmx only the conditions region is swapped; without JavaScript the whole page is re-rendered.
"""

from django.contrib import messages
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from anonmsg.htmx import render_page, vary_on_htmx
from anonmsg.tenancy import get_for_workspace, scoped, workspace_required
from campaigns import form_rows
from campaigns.models import AnonymousMessage, Segment, State
from campaigns.segment_conditions import describe_condition
from campaigns.segment_forms import (
    BLANK_CONDITION,
    CONDITIONS_PREFIX,
    ConditionFormSet,
    SegmentForm,
    condition_rows,
    edited_rows,
)

RUNNING_STATES = (State.ACTIVE, State.SCHEDULED, State.PAUSED)


def _goal_messages(workspace, segment_ref):
    return AnonymousMessage.objects.filter(workspace=workspace, goal_segment=segment_ref)


@workspace_required
def segment_list(request):
    goal_count = (
        _goal_messages(request.workspace, OuterRef("pk"))
        .values("goal_segment")
        .annotate(count=Count("pk"))
        .values("count")
    )
    segments = scoped(Segment, request.workspace).annotate(
        goal_count=Coalesce(Subquery(goal_count, output_field=IntegerField()), 0),
        # People in it now: their open stays, which the metrics app records (`memberships`).
        member_count=Count("memberships", filter=Q(memberships__left_at__isnull=True)),
    )
    rows = [(segment, [describe_condition(c) for c in segment.conditions]) for segment in segments]
    return render(request, "campaigns/segment_list.html", {"rows": rows})


@workspace_required
@require_http_methods(["GET", "POST"])
@vary_on_htmx
def segment_create(request):
    return _segment_form_page(request, Segment(workspace=request.workspace))


@workspace_required
@require_http_methods(["GET", "POST"])
@vary_on_htmx
def segment_edit(request, segment_id):
    segment = get_for_workspace(Segment, request.workspace, pk=segment_id)
    return _segment_form_page(request, segment)


def _segment_form_page(request, segment):
    workspace = request.workspace
    if request.method == "POST" and form_rows.edits_rows(request.POST):
        rows = edited_rows(request.POST)
        form = SegmentForm(
            instance=segment,
            workspace=workspace,
            initial={"name": request.POST.get("name", ""), "match": request.POST.get("match")},
        )
        formset = ConditionFormSet(
            initial=rows or [dict(BLANK_CONDITION)], prefix=CONDITIONS_PREFIX
        )
        if "add_condition" in request.POST:
            form.fields["name"].widget.attrs.pop("autofocus", None)
            formset.forms[-1].fields["trait"].widget.attrs["autofocus"] = True
        context = {"form": form, "formset": formset, "segment": segment}
        return render_page(request, "campaigns/segment_form.html", context, partial="conditions")

    if request.method == "POST":
        form = SegmentForm(request.POST, instance=segment, workspace=workspace)
        formset = ConditionFormSet(request.POST, prefix=CONDITIONS_PREFIX)
        if form.is_valid() and formset.is_valid():
            creating = segment.pk is None
            segment = form.save(commit=False)
            segment.conditions = formset.conditions()
            segment.save()
            messages.success(
                request, f"Segment “{segment.name}” {'created' if creating else 'saved'}."
            )
            return redirect("campaigns:segment-list", workspace_id=workspace.pk)
        status = 400
    else:
        form = SegmentForm(instance=segment, workspace=workspace)
        formset = ConditionFormSet(
            initial=condition_rows(segment.conditions), prefix=CONDITIONS_PREFIX
        )
        status = 200
    context = {"form": form, "formset": formset, "segment": segment}
    return render(request, "campaigns/segment_form.html", context, status=status)


@workspace_required
@require_http_methods(["GET", "POST"])
def segment_delete(request, segment_id):
    segment = get_for_workspace(Segment, request.workspace, pk=segment_id)
    goal_messages = list(_goal_messages(request.workspace, segment).order_by("name"))
    # A running message would silently stop counting conversions: change its goal first.
    live_messages = [m for m in goal_messages if m.state in RUNNING_STATES]
    if request.method == "POST" and not live_messages:
        name = segment.name
        segment.delete()
        messages.success(request, f"Segment “{name}” deleted.")
        return redirect("campaigns:segment-list", workspace_id=request.workspace.pk)
    context = {
        "segment": segment,
        "conditions": [describe_condition(c) for c in segment.conditions],
        "goal_messages": goal_messages,
        "live_messages": live_messages,
    }
    status = 409 if request.method == "POST" else 200
    return render(request, "campaigns/segment_confirm_delete.html", context, status=status)
