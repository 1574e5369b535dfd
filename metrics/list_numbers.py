"""The message list's metrics columns: all-time counts and the rates beside them.

Conversion rate is converted ÷ unique viewers, as on the metrics page, so the list needs each
message's all-time unique viewers: the union of its day viewer sets. That union is cached
under the message's all-time view count, which any new view changes (the same reasoning as
metrics.summary.count_unique_viewers), so a cached count is never stale; a page of the list
reads the day sets of the messages whose count is not cached, in one query.
"""

from collections import defaultdict

from django.core.cache import cache

from metrics import viewer_sets
from metrics.guidance import rate
from metrics.models import MessageViewerDay
from metrics.summary import UNIQUE_CACHE_SECONDS, headline_numbers


def list_numbers(*, workspace, message_ids) -> dict[int, dict]:
    """{message id: views, unique_viewers, clicks, conversions, click_through_rate,
    conversion_rate}, all time, for the messages of one page of the list."""
    numbers = headline_numbers(workspace=workspace, message_ids=message_ids)
    uniques = all_time_unique_viewers(
        views_by_message={message_id: n["views"] for message_id, n in numbers.items()}
    )
    for message_id, n in numbers.items():
        n["unique_viewers"] = uniques[message_id]
        n["click_through_rate"] = rate(n["clicks"], n["views"])
        n["conversion_rate"] = rate(n["conversions"], n["unique_viewers"])
    return numbers


def _key(message_id: int, views: int) -> str:
    return f"metrics:unique-all:{message_id}:{views}"


def all_time_unique_viewers(*, views_by_message: dict[int, int]) -> dict[int, int]:
    """Distinct viewers of each message since it started (0 for a message never viewed)."""
    counts = {message_id: 0 for message_id in views_by_message}
    viewed = {message_id: views for message_id, views in views_by_message.items() if views}
    if not viewed:
        return counts
    keys = {message_id: _key(message_id, views) for message_id, views in viewed.items()}
    cached = cache.get_many(list(keys.values()))
    missing = []
    for message_id, key in keys.items():
        if key in cached:
            counts[message_id] = cached[key]
        else:
            missing.append(message_id)
    if missing:
        blobs = defaultdict(list)
        for message_id, viewer_set in MessageViewerDay.objects.filter(
            message_id__in=missing
        ).values_list("message_id", "viewer_set"):
            blobs[message_id].append(viewer_set)
        fresh = {message_id: len(viewer_sets.union(blobs[message_id])) for message_id in missing}
        counts.update(fresh)
        cache.set_many(
            {keys[message_id]: count for message_id, count in fresh.items()}, UNIQUE_CACHE_SECONDS
        )
    return counts
