"""Dashboard views of anonymous messages: the list, the wizard, the detail page, lifecycle.

Every view is behind `campaign_view`: a member of the workspace (else 404), on a plan with
anonymous messages (else the upgrade page), with the workspace's time zone active (dates are
shown and typed in it). Messages are loaded with `get_for_workspace`: another workspace's is
a 404. htmx requests get the region they refresh; the same URLs work as plain pages.
"""

from collections import Counter
from dataclasses import dataclass
from functools import wraps

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Exists, OuterRef
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect, push_url, trigger_client_event

from anonmsg.htmx import render_page, vary_on_htmx, wants_partial
from anonmsg.plans import anonymous_messages_required
from anonmsg.tenancy import get_for_workspace, scoped, workspace_required
from campaigns import (
    audience,
    content,
    experiments,
    form_rows,
    lifecycle,
    split,
    visit_tester,
    wizard,
)
from campaigns.audience_forms import AUDIENCE_PREFIX, AudienceForm, AudienceFormSet, edited_rows
from campaigns.forms import (
    ContentStepForm,
    MessageFilterForm,
    PageRuleForm,
    PriorityForm,
    RuleTestForm,
)
from campaigns.models import (
    AnonymousMessage,
    DisplayType,
    MessageVariant,
    State,
    Status,
    derive_state,
)
from campaigns.signals import message_list_markers, message_list_numbers
from campaigns.warnings import message_warnings, platform_note

LIST_PAGE_SIZE = 50


def campaign_view(view):
    """A workspace member's view of anonymous messages, in the workspace's time zone."""

    @workspace_required
    @anonymous_messages_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        with timezone.override(request.workspace.tz):
            return view(request, *args, **kwargs)

    return wrapper


def _get_message(request, message_id: int) -> AnonymousMessage:
    return get_for_workspace(
        AnonymousMessage.objects.select_related("goal_segment"), request.workspace, pk=message_id
    )


def _step_url(message: AnonymousMessage, step: wizard.Step) -> str:
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, step.slug])


# --- The list --------------------------------------------------------------------------------


@campaign_view
@require_GET
@vary_on_htmx
def message_list(request):
    workspace = request.workspace
    filters = MessageFilterForm(request.GET)
    filters.is_valid()
    state = filters.cleaned_data.get("state") or ""
    if state not in State.values:
        state = ""
    query = (filters.cleaned_data.get("q") or "").strip()

    # One query for the tab counts: the state is derived from three columns.
    now = timezone.now()
    counts = Counter(
        derive_state(status=status, starts_at=starts_at, ends_at=ends_at, now=now)
        for status, starts_at, ends_at in scoped(AnonymousMessage, workspace).values_list(
            "status", "starts_at", "ends_at"
        )
    )
    found = scoped(AnonymousMessage, workspace)
    found = found.in_state(state, now=now) if state else found.exclude(status=Status.ARCHIVED)
    if query:
        found = found.filter(name__icontains=query)
    # "Experiment" in the list: a variant besides A (or a holdout), in the same query.
    found = found.annotate(
        has_variants=Exists(MessageVariant.objects.filter(message=OuterRef("pk")))
    )
    page = Paginator(found.order_by("-created_at", "-id"), LIST_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    # Metrics columns: the metrics app answers `message_list_numbers` ({message id: numbers},
    # metrics.summary.headline_numbers) and campaigns/_list_metrics_head.html and
    # campaigns/_list_metrics_cells.html render them.
    list_metrics = {}
    for _receiver, numbers in message_list_numbers.send(
        sender=AnonymousMessage, workspace=workspace, message_ids=[m.pk for m in page.object_list]
    ):
        list_metrics.update(numbers)
    # "Blocked by …" markers (delivery: another live message takes the slot on its pages).
    list_markers = {}
    for _receiver, markers in message_list_markers.send(
        sender=AnonymousMessage, workspace=workspace, message_ids=[m.pk for m in page.object_list]
    ):
        list_markers.update(markers)
    for message in page.object_list:
        message.list_marker = list_markers.get(message.pk)
        message.in_experiment = split.is_experiment(
            variant_count=int(message.has_variants),
            holdout_percent=message.holdout_percent,
        )
    tabs = [("", "All", sum(n for s, n in counts.items() if s != State.ARCHIVED))] + [
        (value, label, counts.get(value, 0)) for value, label in State.choices
    ]
    context = {
        "page": page,
        "state": state,
        "query": query,
        "tabs": tabs,
        "has_any": sum(counts.values()) > 0,
        "list_metrics": list_metrics,
    }
    return render_page(request, "campaigns/message_list.html", context, partial="message-table")


# --- The wizard ------------------------------------------------------------------------------


@campaign_view
@require_http_methods(["GET", "POST"])
@vary_on_htmx
def message_create(request):
    """Step 1 of a new message; saving it creates the draft."""
    step = wizard.FIRST
    data = request.POST if request.method == "POST" else None
    form = step.form_class(data, message=None, workspace=request.workspace)
    if request.method == "POST" and form.is_valid():
        message = form.save()
        wizard.record_progress(message, step)
        return _after_step(request, message, step, "next")
    status = 400 if request.method == "POST" else 200
    return _render_step(request, None, step, form, status=status)


@campaign_view
@require_GET
def message_edit(request, message_id):
    message = _get_message(request, message_id)
    return redirect(_step_url(message, wizard.resume_step(message)))


@campaign_view
@require_http_methods(["GET", "POST"])
@vary_on_htmx
def wizard_step(request, message_id, step):
    message = _get_message(request, message_id)
    current = wizard.get_step(step)
    if current is None:
        raise Http404("No such step.")
    refused = _refuse_edit(request, message)
    if refused:
        return refused
    if not wizard.can_open(message, current):
        resume = wizard.resume_step(message)
        messages.info(request, f"Finish “{resume.title}” first: steps open one after another.")
        return _redirect(request, _step_url(message, resume))

    form = current.form_class(
        request.POST if request.method == "POST" else None,
        message=message,
        workspace=request.workspace,
    )
    if request.method == "GET":
        if "tab" in request.GET and "tab" in form.fields:  # e.g. after "Add as a variant"
            form.initial["tab"] = request.GET["tab"]
        return _render_step(request, message, current, form)
    if current.slug == "rules" and form_rows.edits_rows(request.POST):
        return _render_audience_rows(request, message, current)
    go = request.POST.get("go", "next")
    if go.startswith("preview"):  # "Update preview" without JavaScript: show, do not save.
        if go.startswith("preview-"):  # "preview-B": that variant's
            form = current.form_class(
                _with(request.POST, tab=go.removeprefix("preview-")),
                message=message,
                workspace=request.workspace,
            )
        form.is_valid()
        return _render_step(request, message, current, form)
    if current.slug == "content" and (go == "add-variant" or go.startswith("remove-")):
        # The page again with one variant more or fewer; "Save" writes it (nothing yet).
        return _render_step(request, message, current, form.rearranged(go))
    if not form.is_valid():
        previous = wizard.previous_step(message, current) if message and go == "back" else None
        if previous is not None:
            # Back never traps the marketer in a step: it leaves, saying what was not kept.
            problem = next(iter(form.errors.values()))[0]
            messages.warning(
                request, f"Your changes to “{current.title}” were not saved: {problem}"
            )
            return _open_step(request, message, previous)
        return _render_step(request, message, current, form, status=400)
    form.save()
    wizard.record_progress(message, current)
    return _after_step(request, message, current, go)


def _with(data, **values):
    data = data.copy()
    for name, value in values.items():
        data[name] = value
    return data


def _after_step(request, message, step, go):
    """Where a saved step leads: the next step, the previous one, or out of the wizard."""
    if go == "back":
        target = wizard.previous_step(message, step) or step
    elif go == "exit":
        target = None
        messages.success(request, _saved_text(message))
    else:
        target = wizard.next_step(message, step)
        if target is None:
            messages.success(request, _saved_text(message))
    if target is None:
        return _redirect(request, message.get_absolute_url())
    return _open_step(request, message, target)


def _open_step(request, message, step):
    """Show `step` after a POST: its fresh form in place (htmx) or a redirect to it."""
    url = _step_url(message, step)
    if wants_partial(request):
        form = step.form_class(message=message, workspace=request.workspace)
        return push_url(_render_step(request, message, step, form), url)
    return redirect(url)


def _saved_text(message) -> str:
    if message.status == Status.DRAFT:
        return f"Draft “{message.name}” saved. Continue editing and launch it when it is ready."
    return f"Changes to “{message.name}” saved: SDKs get them on their next request."


def _refuse_edit(request, message):
    if message.is_editable:
        return None
    messages.error(
        request,
        f"“{message.name}” is {message.get_state_display().lower()} and can no longer be edited. "
        "Duplicate it to run it again with changes.",
    )
    return _redirect(request, message.get_absolute_url())


def _redirect(request, url):
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


def _render_step(request, message, step, form, *, status=200, **extra):
    context = _step_context(request, message, step, form)
    context.update(extra)
    return render_page(request, "campaigns/wizard.html", context, partial="wizard", status=status)


def _step_context(request, message, step, form) -> dict:
    items = []
    for item in wizard.progress(message, step):
        url = _step_url(message, item.step) if message and item.openable else None
        items.append({"item": item, "step": item.step, "status": item.status, "url": url})
    previous = wizard.previous_step(message, step)
    following = wizard.next_step(message, step)
    context = {
        "message": message,
        "step": step,
        "form": form,
        "progress": items,
        "step_count": len(items),
        "previous_step": previous,
        "next_step": following,
        "back_url": _step_url(message, previous) if message and previous else None,
        "action_url": _step_url(message, step)
        if message
        else reverse("campaigns:message-create", args=[request.workspace.pk]),
        "launched": message is not None and message.status != Status.DRAFT,
    }
    if message is not None and step.slug == "rules":
        context.update(_rules_context(request, message))
    elif message is not None and step.slug == "content":
        context["preview"] = _content_preview(form, message)
    elif message is not None and step.slug == "review":
        context.update(_review_context(request, message))
    return context


# --- Step 2: page rules, audience and the tester ---------------------------------------------


def _tested_audience(request, message) -> tuple[list[dict], bool]:
    """The conditions the tester uses: those on the screen (htmx sends the rows along) when
    they are valid, else the saved ones; and whether the saved ones stand in."""
    if f"{AUDIENCE_PREFIX}-TOTAL_FORMS" not in request.GET:
        return message.audience, False
    rows = AudienceFormSet(request.GET, prefix=AUDIENCE_PREFIX)
    if not rows.is_valid():
        return message.audience, True
    return rows.conditions(), False


def _rules_context(request, message, *, rule_form=None, tester=None) -> dict:
    message_rules = list(message.rules.all())
    if tester is None:
        tester = RuleTestForm(request.GET if "test-target" in request.GET else None)
    page = tester.page() if tester.is_bound else None
    verdict, saved_audience = None, False
    if page:
        conditions, saved_audience = _tested_audience(request, message)
        verdict = visit_tester.evaluate_visit(
            [r.as_rule() for r in message_rules], page, conditions, tester.visit()
        )
    platforms = {rule.platform for rule in message_rules}
    return {
        "message": message,
        "page_rules": [{"rule": rule} for rule in message_rules],
        "rule_form": rule_form or PageRuleForm(message=message),
        "tester": tester,
        "verdict": verdict,
        "tested_saved_audience": saved_audience,
        "platform_note": platform_note(platforms),
    }


def _render_audience_rows(request, message, step):
    """The rows as typed, with one more ("+ Add condition") or one less ("Remove"); nothing is
    saved (as the segment form does). htmx gets the Who section, a plain request the step."""
    rows = edited_rows(request.POST)
    form = AudienceForm(message=message, workspace=request.workspace, rows=rows)
    if "add_condition" in request.POST and rows:
        form.conditions.forms[-1].fields["attribute"].widget.attrs["autofocus"] = True
    if wants_partial(request):
        context = _step_context(request, message, step, form)
        response = render(request, "campaigns/wizard/step_rules.html#audience", context)
        return trigger_client_event(response, "audience-changed")
    return _render_step(request, message, step, form)


def _render_rules(request, message, *, status=200, **kwargs):
    """The rules region for htmx (the tester hears "rules-changed" and asks again), or the
    whole rules step for a plain request."""
    step = wizard.get_step("rules")
    if wants_partial(request):
        # htmx swaps only 2xx answers: an invalid rule comes back as 200 with its errors.
        context = _rules_context(request, message, **kwargs)
        response = render(request, "campaigns/wizard/step_rules.html#rules", context)
        return trigger_client_event(response, "rules-changed")
    form = step.form_class(message=message, workspace=request.workspace)
    context = _step_context(request, message, step, form)
    context.update(_rules_context(request, message, **kwargs))
    return render(request, "campaigns/wizard.html", context, status=status)


def _rules_message(request, message_id):
    message = _get_message(request, message_id)
    refused = _refuse_edit(request, message)
    if refused is None and not wizard.can_open(message, wizard.get_step("rules")):
        raise Http404("Save the first step before adding page rules.")
    return message, refused


@campaign_view
@require_POST
@vary_on_htmx
def rule_add(request, message_id):
    message, refused = _rules_message(request, message_id)
    if refused:
        return refused
    form = PageRuleForm(request.POST, message=message)
    tester = RuleTestForm(request.POST) if "test-target" in request.POST else None
    if not form.is_valid():
        return _render_rules(request, message, rule_form=form, tester=tester, status=400)
    rule = form.save()
    if not wants_partial(request):
        messages.success(request, f"Rule added: {rule.describe()}.")
        return redirect(_step_url(message, wizard.get_step("rules")))
    return _render_rules(request, message, tester=tester)


@campaign_view
@require_POST
@vary_on_htmx
def rule_delete(request, message_id, rule_id):
    message, refused = _rules_message(request, message_id)
    if refused:
        return refused
    rule = get_object_or_404(message.rules, pk=rule_id)
    rule.delete()
    if not wants_partial(request):
        messages.success(request, f"Rule removed: {rule.describe()}.")
        return redirect(_step_url(message, wizard.get_step("rules")))
    tester = RuleTestForm(request.POST) if "test-target" in request.POST else None
    return _render_rules(request, message, tester=tester)


@campaign_view
@require_GET
@vary_on_htmx
def rule_test(request, message_id):
    message, refused = _rules_message(request, message_id)
    if refused:
        return refused
    tester = RuleTestForm(request.GET)
    if wants_partial(request):
        context = _rules_context(request, message, tester=tester)
        return render(request, "campaigns/wizard/step_rules.html#rule-test", context)
    return _render_rules(request, message, tester=tester)


# --- Step 5: content and the live preview ----------------------------------------------------


def preview_context(
    *, html: str, display_type: str, position: str, element_id: str, actions=None
) -> dict:
    """The mock page (for an iframe's srcdoc) and the tracked actions of the HTML (`actions`
    when the caller has them stored, else read from the HTML: bounded, as posted content may
    be anything)."""
    if actions is None:
        try:
            actions = content.extract_actions(html)
        except content.ContentError:  # the form reports it; the preview shows no actions
            actions = []
    mock_page = render_to_string(
        "campaigns/_mock_page.html",
        {
            "message_html": html,
            "display_type": display_type,
            "position": position,
            "element_id": element_id or "your-element",
        },
    )
    return {
        "mock_page": mock_page,
        "actions": actions,
        "display_type": display_type,
        "display_label": DisplayType(display_type).label
        if display_type in DisplayType
        else display_type,
        "has_content": bool(html.strip()),
    }


def _saved_preview(message) -> dict:
    preview = preview_context(
        html=message.content_html,
        display_type=message.display_type,
        position=message.display_position,
        element_id=message.display_element_id,
        actions=message.tracked_actions,
    )
    preview["built_html"] = message.content_html if message.content_builder else ""
    return preview


def _saved_variant_preview(editor) -> dict:
    variant = editor.variant
    html = variant.content_html if variant else ""
    preview = preview_context(
        html=html,
        display_type=editor.display["display_type"],
        position=editor.display["display_position"],
        element_id=editor.display["display_element_id"],
        actions=[content.Action(**action) for action in variant.content_actions]
        if variant
        else None,
    )
    preview["built_html"] = html if variant and variant.content_builder else ""
    return preview


def _content_preview(form, message) -> dict:
    """The live preview of the tab the marketer is on (variant A, the message, by default)."""
    key = form.active_tab
    editor = form.editor(key)
    if not form.is_bound:
        preview = _saved_preview(message) if key == "A" else _saved_variant_preview(editor)
    else:
        values = editor.preview_values()
        preview = preview_context(
            html=values["html"],
            display_type=values["display_type"],
            position=values["display_position"],
            element_id=values["display_element_id"],
        )
        preview["errors"] = [e for errors in editor.errors.values() for e in errors]
        # What the builder makes of its fields: switching to HTML starts from it (wizard.js).
        mode = editor.cleaned_data.get("mode")
        preview["built_html"] = values["html"] if mode == "builder" else ""
    if len(form.keys) > 1:
        preview["variant"] = key
    return preview


@campaign_view
@require_http_methods(["GET", "POST"])
def message_preview(request, message_id):
    """The live preview region: the posted content form (not saved), or the saved message."""
    message = _get_message(request, message_id)
    if request.method == "POST":
        form = ContentStepForm(request.POST, message=message, workspace=request.workspace)
        form.is_valid()
        preview = _content_preview(form, message)
    else:
        preview = _saved_preview(message)
    return render(request, "campaigns/_preview.html", {"preview": preview, "message": message})


# --- Step 7: review, and the detail page -----------------------------------------------------


def _review_context(request, message) -> dict:
    warnings = message_warnings(message, workspace=request.workspace)
    return {
        "problems": lifecycle.launch_problems(message),
        "warnings": warnings,
        # What keeps it from every visitor on its pages, for the state line ("Live, but …").
        "blocked": next((warning.blocks for warning in warnings if warning.blocks), ""),
        "limited": next((warning.limits for warning in warnings if warning.limits), ""),
        "preview": _saved_preview(message),
        # Edit links only for the steps the wizard lets the marketer open.
        "step_urls": {
            step.slug: _step_url(message, step)
            for step in wizard.STEPS
            if wizard.can_open(message, step)
        },
        "page_rules": [{"rule": rule} for rule in message.rules.all()],
        "audience_lines": [audience.describe_condition(c) for c in message.audience],
        **_experiment_context(message),
    }


def _experiment_context(message) -> dict:
    variants = list(message.variants.all())
    return {
        "variants": variants,
        "split_text": split.describe_split(
            experiments.weights_of(message, variants), message.holdout_percent
        ),
    }


@campaign_view
@require_GET
def message_detail(request, message_id):
    message = _get_message(request, message_id)
    context = _review_context(request, message)
    context.update(
        {
            "message": message,
            "state": message.state,
            "priority_form": PriorityForm(initial={"priority": message.priority}),
            "resume_url": _step_url(message, wizard.resume_step(message)),
            "just_launched": request.GET.get("launched") == "1" and message.state != State.DRAFT,
            "duplicate_outranked": lifecycle.copy_would_be_outranked(message),
        }
    )
    return render(request, "campaigns/message_detail.html", context)


# --- Lifecycle -------------------------------------------------------------------------------


@dataclass(frozen=True)
class LifecycleAction:
    verb: str
    run: object
    done: str
    confirm: str = ""  # destructive actions ask first
    button: str = ""


ACTIONS = {
    "launch": LifecycleAction("Launch", lifecycle.launch_message, "“{name}” is {state}."),
    "pause": LifecycleAction(
        "Pause", lifecycle.pause_message, "“{name}” is paused: visitors no longer see it."
    ),
    "resume": LifecycleAction("Resume", lifecycle.resume_message, "“{name}” is {state} again."),
    "end": LifecycleAction(
        "End",
        lifecycle.end_message,
        "“{name}” has ended. Its metrics stay available.",
        confirm="Visitors stop seeing it at once. An ended message cannot be restarted "
        "(you can duplicate it).",
        button="End now",
    ),
    "archive": LifecycleAction(
        "Archive",
        lifecycle.archive_message,
        "“{name}” is archived. Find it under the Archived tab.",
        confirm="It moves to the Archived tab and can no longer be edited. Metrics are kept.",
        button="Archive",
    ),
    "delete": LifecycleAction(
        "Delete",
        lifecycle.delete_draft,
        "Draft “{name}” deleted.",
        confirm="The draft and its page rules are deleted for good.",
        button="Delete draft",
    ),
    "duplicate": LifecycleAction(
        "Duplicate",
        lifecycle.duplicate_message,
        "This is a copy of “{name}”, saved as a draft: rename it, check the settings and "
        "launch it.",
    ),
}


@campaign_view
@require_http_methods(["GET", "POST"])
def message_action(request, message_id, action):
    spec = ACTIONS[action]
    message = _get_message(request, message_id)
    if request.method == "GET":
        if action == "duplicate":
            return _duplicate_choice(request, message)
        if not spec.confirm:
            return HttpResponseNotAllowed(["POST"])
        return render(
            request,
            "campaigns/confirm.html",
            {"message": message, "spec": spec, "action": action},
        )
    name = message.name
    try:
        result = spec.run(message=message)
    except lifecycle.LifecycleError as exc:
        if action == "launch" and message.status == Status.DRAFT:
            messages.error(request, exc.message)  # lists what to fix, step by step
            return _redirect(request, _step_url(message, wizard.LAST))
        # Usually a stale page (another tab or a colleague acted first): the message page
        # shows its current state and the actions it allows now.
        messages.error(request, f"{exc.message} The page now shows what you can do with it.")
        return _redirect(request, message.get_absolute_url())

    state = result.get_state_display().lower() if result is not None else ""
    text = spec.done.format(name=name, state=state)
    if action == "launch" and result.state == State.SCHEDULED:
        starts = date_format(timezone.localtime(result.starts_at), "DATETIME_FORMAT")
        text = f"“{name}” is scheduled: it starts on {starts} ({request.workspace.time_zone})."
    elif action == "launch":
        # Not "visitors see it": the message page says whether anything keeps it from them.
        text = f"“{name}” is live."
    messages.success(request, text)

    if action == "delete":
        url = reverse("campaigns:message-list", args=[request.workspace.pk])
    elif action == "duplicate":
        result.wizard_step = wizard.LAST.number
        result.save(update_fields=["wizard_step", "updated_at"])
        url = _step_url(result, wizard.FIRST)
    elif action == "launch":
        # The message page, with the next steps for a message that was just launched.
        url = f"{message.get_absolute_url()}?launched=1"
    else:
        url = message.get_absolute_url()
    return _redirect(request, url)


@campaign_view
@require_POST
def message_priority(request, message_id):
    message = _get_message(request, message_id)
    form = PriorityForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(form.errors["priority"]))
    else:
        lifecycle.change_priority(message=message, priority=form.cleaned_data["priority"])
        messages.success(
            request, f"Priority of “{message.name}” set to {message.priority} (1 shows first)."
        )
    return _redirect(request, message.get_absolute_url())


# --- Duplicate, or add as a variant ----------------------------------------------------------


def _duplicate_choice(request, message):
    """Before duplicating: a copy of a running message would be outranked by it everywhere
    (same pages and place, same priority, newer), so offer to add it as a variant instead."""
    keys = ["A", *message.variants.values_list("key", flat=True)]
    return render(
        request,
        "campaigns/duplicate_choice.html",
        {
            "message": message,
            "outranked": lifecycle.copy_would_be_outranked(message),
            "next_key": split.next_key(keys) if message.is_editable else None,
            "slot": message.describe_display().split(",")[0].lower(),
        },
    )


@campaign_view
@require_POST
def message_add_variant(request, message_id):
    """ "Add as a variant instead": variant B (or the next letter) from A's content."""
    message = _get_message(request, message_id)
    try:
        variant = lifecycle.add_variant_copy(message=message)
    except lifecycle.LifecycleError as exc:
        messages.error(request, exc.message)
        return _redirect(request, message.get_absolute_url())
    message.refresh_from_db()
    weights = experiments.weights_of(message, message.variants.all())
    split_text = split.describe_split(weights, message.holdout_percent)
    live = message.status != Status.DRAFT
    messages.success(
        request,
        f"Variant {variant.key} of “{message.name}” starts as a copy of variant A: change its "
        f"content here and save. Split: {split_text}"
        + (" The message is live: visitors already get either variant." if live else ""),
    )
    step = wizard.get_step("content")
    if not wizard.can_open(message, step):
        return _redirect(request, message.get_absolute_url())
    return _redirect(request, f"{_step_url(message, step)}?tab={variant.key}")
