"""Signal receivers: cheap, they only enqueue django-q2 tasks once the data is committed."""

from django.db import transaction
from django.utils import timezone
from django_q.tasks import async_task

from metrics.list_numbers import list_numbers


def _enqueue_on_commit(func: str, *args) -> None:
    transaction.on_commit(lambda: async_task(func, *args, task_name=func.rsplit(".", 1)[-1]))


def on_events_recorded(sender, *, workspace_id, profile_ids=(), **kwargs):
    """Identify / alias / track of identified people may complete a goal: attribute them."""
    if profile_ids:
        _enqueue_on_commit("metrics.tasks.attribute_profiles", workspace_id, sorted(profile_ids))


def on_traits_changed(sender, *, workspace_id, profile_id, **kwargs):
    # The time of the change, not of the task run, is when the profile entered or left.
    _enqueue_on_commit(
        "metrics.tasks.refresh_profile_segments",
        workspace_id,
        profile_id,
        timezone.now().isoformat(),
    )


def on_segment_saved(sender, instance, raw=False, **kwargs):
    """A new or edited segment: re-evaluate it for every profile of its workspace."""
    if raw:
        return
    _enqueue_on_commit(
        "metrics.tasks.refresh_segment",
        instance.workspace_id,
        instance.pk,
        timezone.now().isoformat(),
    )


def on_message_list(sender, *, workspace, message_ids, **kwargs):
    """The message list's metrics columns: all-time numbers and rates from the rollups."""
    return list_numbers(workspace=workspace, message_ids=message_ids)
