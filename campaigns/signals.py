"""Any change to a message, its rules or its variants bumps the workspace's content version.

Delivery caches live messages keyed on that version, so this is what makes an edit reach SDKs
on their next request. Signals (rather than explicit calls) also cover admin edits. Bulk
`QuerySet.update()` bypasses them: call `workspace.bump_content_version()` after one.
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import Signal, receiver

from anonmsg.models import Workspace
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
# The Content step asks whether visitors were exposed to a variant before it lets one be
# removed from a launched message: sent with message= and key=; a receiver answers True when
# exposures were recorded (delivery: a view or a held-out report carrying that variant).
variant_exposed = Signal()


def _bump(workspace_id: int) -> None:
    Workspace.objects.filter(pk=workspace_id).bump_content_version()


@receiver([post_save, post_delete], sender=AnonymousMessage)
def message_changed(sender, instance, **kwargs):
    _bump(instance.workspace_id)


@receiver([post_save, post_delete], sender=PageRule)
@receiver([post_save, post_delete], sender=MessageVariant)
def rule_changed(sender, instance, **kwargs):
    """A rule or a variant (B–D) changed: its message's workspace."""
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
