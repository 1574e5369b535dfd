"""`{% relative_time moment %}`: one way to say when something happened on every page.

"just now", "4 min ago" (never split between number and unit), "3 h ago", "2 days ago" (or "in 5 min" for a future moment), in a
<time> element whose tooltip gives the exact date and time in the active time zone.
"""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html

register = template.Library()

UNITS = [(365 * 86_400, "year"), (30 * 86_400, "month"), (86_400, "day"), (3600, "h"), (60, "min")]


def describe(seconds: float) -> str:
    """A duration in its largest unit: "4 min", "3 h", "1 day", "2 months"."""
    for size, unit in UNITS:
        if seconds >= size:
            count = int(seconds // size)
            if unit in ("min", "h"):
                return f"{count}\xa0{unit}"
            return f"{count}\xa0{unit}{'' if count == 1 else 's'}"
    return f"{int(seconds)}\xa0s"


def relative(moment: datetime, *, now: datetime) -> str:
    seconds = (now - moment).total_seconds()
    if abs(seconds) < 60:
        return "just now"
    if seconds < 0:
        return f"in {describe(-seconds)}"
    return f"{describe(seconds)} ago"


@register.simple_tag
def relative_time(moment):
    if not moment:
        return ""
    exact = date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    return format_html(
        '<time datetime="{}" title="{}">{}</time>',
        moment.isoformat(),
        exact,
        relative(moment, now=timezone.now()),
    )
