"""Panels other apps' pages include: the visitor debugger, the install check, the event names
a goal can use (campaigns' message page, Review, Settings → In-app, the empty message list)."""

from django import template

from delivery.troubleshooting.debugger import (
    DebugVisitorForm,
    VisitContextForm,
    recent_visitors,
)
from delivery.troubleshooting.event_names import seen_event_names
from delivery.troubleshooting.install_check import last_sighting
from delivery.troubleshooting.outranking import example_pages

register = template.Library()


@register.inclusion_tag("delivery/_debugger.html", takes_context=True)
def debug_visitor_panel(context, message=None):
    workspace = context["current_workspace"]
    initial = {"message": message.pk if message else None}
    if message is not None:
        # A page the message is meant for: its first inclusion rule's example.
        page = example_pages([[rule.as_rule() for rule in message.rules.all()]])[0]
        initial.update(platform=page.platform, location=page.full)
    return {
        "form": DebugVisitorForm(initial=initial),
        "visit_form": VisitContextForm(),
        "focus": message,
        "recent": recent_visitors(workspace),
        "report": None,
        "current_workspace": workspace,
        "csrf_token": context.get("csrf_token"),
        "request": context.get("request"),
    }


@register.inclusion_tag("delivery/_install_check.html", takes_context=True)
def install_check_panel(context, page=""):
    workspace = context["current_workspace"]
    sighting = last_sighting(workspace)
    return {
        "sighting": sighting,
        "testing": False,
        "since": None,
        "heard": sighting is not None,
        "on_settings": page == "settings",
        "current_workspace": workspace,
        "request": context.get("request"),
    }


@register.inclusion_tag("delivery/_event_names.html", takes_context=True)
def seen_event_names_datalist(context, datalist_id):
    return {"id": datalist_id, "seen": seen_event_names(context["current_workspace"])}
