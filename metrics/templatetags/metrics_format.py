from django import template

register = template.Library()


@register.filter
def percent(value) -> str:
    """0.1234 → "12.3%" (one decimal below 10%, none above)."""
    try:
        number = float(value) * 100
    except (TypeError, ValueError):
        return ""
    if number == 0:
        return "0%"
    return f"{number:.1f}%" if number < 10 else f"{number:.0f}%"


@register.filter
def numbers_for(headline: dict, message_id):
    """`list_metrics|numbers_for:message.pk`: that message's headline numbers (zeros if none)."""
    return (headline or {}).get(message_id) or {"views": 0, "clicks": 0, "conversions": 0}


@register.inclusion_tag("metrics/_headline_card.html")
def message_headline(message):
    """All-time Views, Clicks and Converted of one message, from the rollups (one query)."""
    from metrics.summary import headline_numbers

    numbers = headline_numbers(workspace=message.workspace_id, message_ids=[message.pk])
    return {"message": message, "numbers": numbers[message.pk]}
