"""Signals the tracking pipeline sends after a request's events are committed.

Sent from `transaction.on_commit`, so receivers (metrics: attribution, segment membership)
only ever see committed data. Receivers must be cheap: enqueue a django-q2 task, do not
compute inline.
"""

from django.dispatch import Signal

# kwargs: workspace_id: int, event_ids: list[int], profile_ids: set[int] (profiles touched by
# identify/alias/track of identified users, including merges), message_ids: set[int]
# (anonymous messages referenced by message events).
events_recorded = Signal()

# kwargs: workspace_id: int, profile_id: int, old_traits: dict, new_traits: dict
profile_traits_changed = Signal()
