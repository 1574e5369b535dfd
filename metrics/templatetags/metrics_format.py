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
