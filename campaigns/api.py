"""The App API for anonymous messages (DESIGN.md §3; decisions in docs/app-api.md).

Thin views: `api_key_required` authorises the Bearer App API key, gates the plan and turns
`BadInput` into a 400; campaigns/serializers.py reads and writes the JSON; campaigns/lifecycle.py
does the transitions. Every error is JSON: `{"error", "message"[, "field"]}`.
"""

from django.db import transaction
from django.http import JsonResponse
from django.utils import timezone

from anonmsg.api import BadInput, allow_methods, api_key_required, error, parse_json_body
from campaigns import experiments, lifecycle
from campaigns.models import AnonymousMessage, State, Status
from campaigns.serializers import (
    MAX_ID,
    message_to_json,
    parse_message_payload,
    save_message,
)


def _not_found(message_id: str) -> JsonResponse:
    return error(
        404, "not_found", f"There is no anonymous message “{message_id[:40]}” in this workspace."
    )


def _messages(workspace):
    return AnonymousMessage.objects.filter(workspace=workspace).prefetch_related(
        "rules", "variants", "winner_chosen_by"
    )


def _get_message(workspace, message_id: str, *, for_update: bool = False):
    """The workspace's message, or None (another workspace's message does not exist here)."""
    # ASCII digits only ("²".isdigit() is true), and short enough for int() to take.
    if not (message_id.isascii() and message_id.isdigit() and len(message_id) <= 19):
        return None
    if not 0 < int(message_id) <= MAX_ID:
        return None
    messages = _messages(workspace)
    if for_update:
        messages = messages.select_for_update()
    return messages.filter(pk=int(message_id)).first()


def _json(request, message: AnonymousMessage, *, status: int = 200) -> JsonResponse:
    return JsonResponse(message_to_json(message, tz=request.workspace.tz), status=status)


@allow_methods("GET", "POST")
@api_key_required
def message_collection(request):
    if request.method == "POST":
        return _create_message(request)
    state = request.GET.get("state")
    messages = _messages(request.workspace).order_by("-created_at", "-id")
    if state is not None:
        if state not in State.values:
            raise BadInput(
                f"Unknown state “{state[:40]}”: use one of {', '.join(State.values)}.",
                field="state",
            )
        messages = messages.in_state(state)
    now, tz = timezone.now(), request.workspace.tz
    return JsonResponse(
        {"messages": [message_to_json(message, now=now, tz=tz) for message in messages]}
    )


def _create_message(request):
    data = parse_json_body(request)
    values = parse_message_payload(data, workspace=request.workspace)
    # The answer is built inside the transaction: if it cannot be, nothing was saved.
    with transaction.atomic():
        message = save_message(
            message=AnonymousMessage(workspace=request.workspace, status=Status.DRAFT),
            values=values,
        )
        response = _json(request, message, status=201)
    response["Location"] = f"/api/v1/anonymous-messages/{message.pk}"
    return response


@allow_methods("GET", "PATCH")
@api_key_required
def message_detail(request, message_id: str):
    if request.method in ("GET", "HEAD"):
        message = _get_message(request.workspace, message_id)
        return _json(request, message) if message else _not_found(message_id)
    data = parse_json_body(request)
    with transaction.atomic():
        message = _get_message(request.workspace, message_id, for_update=True)
        if message is None:
            return _not_found(message_id)
        if not message.is_editable:
            return error(
                409,
                "not_editable",
                f"This message is {message.state}: ended and archived messages are kept as they "
                "ran. Create a new message to run it again.",
                state=message.state,
            )
        values = parse_message_payload(data, workspace=request.workspace, message=message)
        save_message(message=message, values=values)
        # Re-read the rules written by save_message rather than the ones prefetched before;
        # inside the transaction, so that an answer that cannot be built saves nothing.
        return _json(request, _get_message(request.workspace, message_id))


def _launch_text(problem) -> str:
    """A launch problem without the wizard's step, for a developer: full sentences only.

    The sentences the review step ends with the step keep it (“… (step 5).”), as the
    App API has always answered them.
    """
    return problem.launch if problem.launch.endswith(".") else lifecycle.with_step(problem)


def _transition(action):
    @allow_methods("POST")
    @api_key_required
    def view(request, message_id: str):
        with transaction.atomic():
            message = _get_message(request.workspace, message_id, for_update=True)
            if message is None:
                return _not_found(message_id)
            if action is lifecycle.launch_message and message.status == Status.DRAFT:
                problems = [_launch_text(problem) for problem in lifecycle.launch_checks(message)]
                if problems:
                    return error(
                        409,
                        "not_ready",
                        "This message cannot be launched yet: " + " ".join(problems),
                        problems=problems,
                    )
            try:
                message = action(message=message)
            except lifecycle.LifecycleError as exc:
                return error(409, "invalid_transition", exc.message, state=message.state)
            return _json(request, message)

    view.__name__ = view.__qualname__ = f"message_{action.__name__.removesuffix('_message')}"
    return view


message_launch = _transition(lifecycle.launch_message)
message_pause = _transition(lifecycle.pause_message)
message_resume = _transition(lifecycle.resume_message)
message_end = _transition(lifecycle.end_message)


@allow_methods("POST")
@api_key_required
def message_choose_winner(request, message_id: str):
    """`{"variant": "B", "holdoutPercent": 0}`: end the experiment, all traffic to B."""
    data = parse_json_body(request)
    if not isinstance(data, dict):
        raise BadInput('The request body must be a JSON object: {"variant": "B"}.')
    for key in data:
        if key not in ("variant", "holdoutPercent"):
            raise BadInput(
                f"Unknown field `{key}`: send variant and, optionally, holdoutPercent.",
                field=key,
                code="unknown_field",
            )
    if not isinstance(data.get("variant"), str):
        raise BadInput("Name the winning variant: A, B, C or D.", field="variant", code="required")
    with transaction.atomic():
        message = _get_message(request.workspace, message_id, for_update=True)
        if message is None:
            return _not_found(message_id)
        try:
            experiments.choose_winner(
                message=message,
                key=data["variant"],
                holdout_percent=data.get("holdoutPercent", 0),
            )
        except experiments.WinnerError as exc:
            if exc.field == "state":
                return error(409, "not_editable", exc.message, state=message.state)
            raise BadInput(exc.message, field=exc.field) from None
        return _json(request, _get_message(request.workspace, message_id))
