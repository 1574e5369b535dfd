"""Record profiles entering and leaving segments (with times) when traits or segments change.

Idempotent: evaluating the same traits again changes nothing. The decision itself is the pure
`campaigns.segment_matching.segment_matches`.
"""

from collections import defaultdict
from datetime import datetime

from django.db import transaction

from campaigns.models import Segment
from campaigns.segment_matching import segment_matches
from delivery.models import Profile
from metrics.models import SegmentMembership

PROFILE_CHUNK = 2000


def refresh_profile_memberships(*, profile_id: int, at: datetime) -> int:
    """Evaluate every segment of the profile's workspace; returns how many stays changed."""
    profile = Profile.objects.filter(pk=profile_id).values("workspace_id", "traits").first()
    if profile is None:
        return 0
    segments = list(
        Segment.objects.filter(workspace_id=profile["workspace_id"]).values(
            "id", "match", "conditions"
        )
    )
    return _apply(
        workspace_id=profile["workspace_id"],
        segments=segments,
        traits_by_profile={profile_id: profile["traits"] or {}},
        at=at,
    )


def refresh_segment_memberships(*, segment_id: int, at: datetime) -> set[int]:
    """Evaluate one segment against every profile of its workspace (after the segment was
    created or edited); returns the ids of the profiles that entered or left."""
    segment = Segment.objects.filter(pk=segment_id).values(
        "id", "workspace_id", "match", "conditions"
    )
    segment = segment.first()
    if segment is None:
        return set()
    changed: set[int] = set()
    last_id = 0
    while True:
        chunk = list(
            Profile.objects.filter(workspace_id=segment["workspace_id"], pk__gt=last_id)
            .order_by("pk")
            .values_list("pk", "traits")[:PROFILE_CHUNK]
        )
        if not chunk:
            return changed
        last_id = chunk[-1][0]
        _apply(
            workspace_id=segment["workspace_id"],
            segments=[segment],
            traits_by_profile={pk: traits or {} for pk, traits in chunk},
            at=at,
            changed=changed,
        )


def _apply(
    *,
    workspace_id: int,
    segments: list[dict],
    traits_by_profile: dict[int, dict],
    at: datetime,
    changed: set[int] | None = None,
) -> int:
    if not segments:
        return 0
    segment_ids = [s["id"] for s in segments]
    inside = set(
        SegmentMembership.objects.current()
        .filter(segment_id__in=segment_ids, profile_id__in=list(traits_by_profile))
        .values_list("segment_id", "profile_id")
    )
    should_be_inside = {
        (segment["id"], profile_id)
        for segment in segments
        for profile_id, traits in traits_by_profile.items()
        if segment_matches(match=segment["match"], conditions=segment["conditions"], traits=traits)
    }
    entering = should_be_inside - inside
    leaving = inside - should_be_inside
    if not entering and not leaving:
        return 0
    leaving_by_segment = defaultdict(list)
    for segment_id, profile_id in leaving:
        leaving_by_segment[segment_id].append(profile_id)
    with transaction.atomic():
        for segment_id, profile_ids in leaving_by_segment.items():
            SegmentMembership.objects.current().filter(
                segment_id=segment_id, profile_id__in=profile_ids
            ).update(left_at=at)
        # ignore_conflicts: a concurrent run that opened the same stay wins; one open stay only.
        SegmentMembership.objects.bulk_create(
            [
                SegmentMembership(
                    workspace_id=workspace_id,
                    segment_id=segment_id,
                    profile_id=profile_id,
                    entered_at=at,
                )
                for segment_id, profile_id in sorted(entering)
            ],
            ignore_conflicts=True,
        )
    if changed is not None:
        changed.update(profile_id for _, profile_id in entering | leaving)
    return len(entering) + len(leaving)
