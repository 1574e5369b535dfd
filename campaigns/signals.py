"""Any change to a message, its rules or its variants bumps the workspace's content version.

Delivery caches live messages keyed on that version, so this is what makes an edit reach SDKs
on their next request. Signals (rather than explicit calls) also cover admin edits. Bulk
`QuerySet.update()` bypasses them: call `workspace.bump_content_version()` after one.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from anonmsg.models import Workspace
from campaigns import split
from campaigns.models import AnonymousMessage, MessageVariant, PageRule, Segment

# The message list asks the apps above campaigns for numbers per message without importing
# them (apps import one way: README, Layout). Sent with workspace= and message_ids=; each
# receiver answers {message id: {column: value}} (metrics: views, clicks, conversions).
message_list_numbers = Signal()
# Review and the message page ask the same apps for warnings (campaigns.warnings): sent with
# message= and workspace=; each receiver answers a list of campaigns.warnings.Warning.
message_warnings = Signal()
# The message list asks them for a marker per message: sent with workspace= and message_ids=;
# each receiver answers {message id: {"text", "url", "title"}} (delivery: "Blocked by …").
message_list_markers = Signal()
# Editing an experiment asks which of its arms already have exposed visitors (a variant with
# exposures cannot be removed while the message is live): sent with message=; each receiver
# answers a set of arm keys ("A"–"D", "holdout"). Delivery counts exposures.
experiment_exposures = Signal()


def _bump(workspace_id: int) -> None:
    Workspace.objects.filter(pk=workspace_id).bump_content_version()


@receiver([post_save, post_delete], sender=AnonymousMessage)
def message_changed(sender, instance, **kwargs):
    _bump(instance.workspace_id)


@receiver([post_save, post_delete], sender=PageRule)
@receiver([post_save, post_delete], sender=MessageVariant)
def rule_changed(sender, instance, **kwargs):
    """A page rule or an experiment's variant: a part of its message."""
    workspace_id = (
        AnonymousMessage.objects.filter(pk=instance.message_id)
        .values_list("workspace_id", flat=True)
        .first()
    )
    if workspace_id is not None:
        _bump(workspace_id)


@receiver([post_save, post_delete], sender=Segment)
def segment_changed(sender, instance, **kwargs):
    _bump(instance.workspace_id)


@receiver(post_save, sender=AnonymousMessage)
def message_experiment_seeded(sender, instance, **kwargs):
    """An experiment gets its seed when it is first created, whichever surface creates it (App
    API, wizard, admin): campaigns/assignment.py hashes it with each visitor's id."""
    if instance.holdout_percent and not instance.experiment_seed:
        _seed(instance.pk)


@receiver(post_save, sender=MessageVariant)
def variant_experiment_seeded(sender, instance, created, **kwargs):
    if created:
        _seed(instance.message_id)


def _seed(message_id: int) -> None:
    # Only where there is none yet: a running experiment's seed never changes.
    AnonymousMessage.objects.filter(pk=message_id, experiment_seed="").update(
        experiment_seed=split.new_experiment_seed()
    )
