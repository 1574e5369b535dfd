"""django-q2 tasks: thin, take ids, delegate to the idempotent jobs.

Enqueued on commit by the receivers in metrics/apps.py (and scheduled: see metrics/schedules.py).
"""

from datetime import datetime

from metrics.conversions import attribute_conversions, reconcile_conversions
from metrics.memberships import refresh_profile_memberships, refresh_segment_memberships
from metrics.rollups import roll_up


def attribute_profiles(workspace_id: int, profile_ids: list[int]) -> int:
    return attribute_conversions(workspace_id=workspace_id, profile_ids=profile_ids)


def refresh_profile_segments(workspace_id: int, profile_id: int, at: str) -> int:
    """Record segment entries/exits at `at` (ISO time of the trait change), then attribute:
    a goal may have been waiting for exactly this entry or exit."""
    changed = refresh_profile_memberships(profile_id=profile_id, at=datetime.fromisoformat(at))
    if changed:
        attribute_conversions(workspace_id=workspace_id, profile_ids=[profile_id])
    return changed


def refresh_segment(workspace_id: int, segment_id: int, at: str) -> int:
    changed = refresh_segment_memberships(segment_id=segment_id, at=datetime.fromisoformat(at))
    if changed:
        attribute_conversions(workspace_id=workspace_id, profile_ids=changed)
    return len(changed)


def roll_up_metrics() -> str:
    return repr(roll_up())


def reconcile() -> int:
    return reconcile_conversions()
