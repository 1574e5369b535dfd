"""Which changes make delivery's cached workspace rows and visitor states stale
(delivery/sdk_api/visitor_state.py), and a rotated write key's tracking map entry.

Tracking says which visitors it changed itself (delivery/tracking/recording.py), and so does
retention.
The receivers here cover the rest: the content version, workspace settings, and edits made
through the ORM one object at a time (admin, shell), which invalidate the whole workspace.

Deliberately no `post_delete` receiver on Visitor or VisitorMessageState: one would stop
Django from deleting them in bulk (it would load every cascaded row to send the signal).
Deleting them follows a change that already invalidates: a message or workspace deleted
(content version, workspace), or retention (which forgets what it purges).
"""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from anonmsg.models import Workspace, content_version_bumped, write_key_rotated
from delivery.models import Profile, Visitor, VisitorMessageState
from delivery.sdk_api import visitor_state
from delivery.tracking import write_keys


@receiver(content_version_bumped, sender=Workspace)
def content_version_changed(sender, queryset, **kwargs):
    if visitor_state.enabled():
        visitor_state.forget_workspaces(queryset.values_list("pk", flat=True))


@receiver(write_key_rotated, sender=Workspace)
def write_key_changed(sender, old_write_key, **kwargs):
    write_keys.forget_write_key(old_write_key)


@receiver([post_save, post_delete], sender=Workspace)
def workspace_changed(sender, instance, **kwargs):
    visitor_state.forget_workspaces([instance.pk])


@receiver(post_delete, sender=Profile)  # its visitors become anonymous again (SET_NULL)
def profile_deleted(sender, instance, **kwargs):
    visitor_state.forget_workspaces([instance.workspace_id])


@receiver(post_save, sender=Visitor)
def visitor_changed(sender, instance, **kwargs):
    visitor_state.forget_workspaces([instance.workspace_id])
    # The visitor's own token too: its SDK may still call it fresh (visitor_state.py).
    visitor_state.forget_visitors(instance.workspace_id, [instance.anonymous_id])


@receiver(post_save, sender=VisitorMessageState)
def message_state_changed(sender, instance, **kwargs):
    if visitor_state.enabled():
        for workspace_id, anonymous_id in Visitor.objects.filter(
            pk=instance.visitor_id
        ).values_list("workspace_id", "anonymous_id"):
            visitor_state.forget_workspaces([workspace_id])
            visitor_state.forget_visitors(workspace_id, [anonymous_id])
