"""App API: GET /api/v1/anonymous-messages/{id}/metrics?from=&to= (DESIGN.md §3)."""

from django.http import JsonResponse
from django.utils import timezone

from anonmsg.api import BadInput, allow_methods, api_key_required, error
from campaigns.models import AnonymousMessage
from metrics.ranges import RangeError, api_range
from metrics.summary import message_report


@allow_methods("GET")
@api_key_required
def message_metrics(request, message_id):
    workspace = request.workspace
    message_id = int(message_id) if message_id.isascii() and message_id.isdigit() else None
    # One query: whether the message is this workspace's, and its stats version (None before
    # its first rollup).
    found = (
        list(
            AnonymousMessage.objects.filter(workspace=workspace, pk=message_id).values_list(
                "stats_version__token", flat=True
            )
        )
        if message_id is not None and message_id < 2**63
        else []
    )
    if not found:
        return error(404, "not_found", "There is no such anonymous message in this workspace.")
    try:
        date_range = api_range(
            request.GET.get("from"), request.GET.get("to"), now=timezone.now(), tz=workspace.tz
        )
    except RangeError as exc:
        raise BadInput(exc.message, field=exc.field) from None
    report = message_report(
        message_id=message_id, date_range=date_range, tz=workspace.tz, version=found[0]
    )
    return JsonResponse(report.as_api())
