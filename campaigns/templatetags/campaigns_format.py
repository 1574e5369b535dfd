"""Small display helpers for the Anonymous pages."""

from django import template
from django.utils import timezone
from django.utils.formats import date_format

from anonmsg.templatetags.relative_time import relative

register = template.Library()


@register.filter
def short_datetime(value):
    """`Mar 3, 14:05` this year, `Mar 3, 2031, 14:05` otherwise, in the active time zone."""
    if not value:
        return ""
    local = timezone.localtime(value)
    same_year = local.year == timezone.localtime().year
    return date_format(local, "M j, H:i" if same_year else "M j, Y, H:i")


@register.filter
def ago(value):
    """`just now` under a minute, else the largest unit: `3 h ago` (anonmsg's relative_time)."""
    if not value:
        return ""
    return relative(value, now=timezone.now())
