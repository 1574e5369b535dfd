"""App API: GET /api/v1/anonymous-messages/{id}/metrics?from=&to= (DESIGN.md §3), with the
experiment's `arms` and `lift` when the message has one (§5; they cover the whole experiment,
whatever the range)."""

from django.http import JsonResponse
from django.utils import timezone

from anonmsg.api import BadInput, allow_methods, api_key_required, error
from campaigns.models import AnonymousMessage
from metrics.experiment_report import experiment_report, with_variants_flag
from metrics.ranges import RangeError, api_range
from metrics.summary import message_report, stats_version


@allow_methods("GET")
@api_key_required
def message_metrics(request, message_id):
    workspace = request.workspace
    message_id = int(message_id) if message_id.isascii() and message_id.isdigit() else None
    # One query: whether the message is this workspace's, its stats version (None before its
    # first rollup) and whether it has variants (an experiment).
    found = (
        list(
            with_variants_flag(
                AnonymousMessage.objects.filter(workspace=workspace, pk=message_id)
            ).select_related("stats_version")
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
    message = found[0]
    version = stats_version(message)
    report = message_report(
        message_id=message_id, date_range=date_range, tz=workspace.tz, version=version
    )
    answer = report.as_api()
    experiment = experiment_report(message=message, version=version)
    if experiment is not None:
        answer.update(experiment.as_api())
    return JsonResponse(answer)
