from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


@register.simple_tag
def bar_chart_svg(chart, series: int, bucket: str):
    """A metrics.charts.Chart as inline SVG: grid lines, y ticks, bars (with a tooltip
    title), x labels. Built here rather than in a template loop: a 90-day page draws ~300
    bars. Coordinates and counts are numbers and need no escaping; only text is escaped
    (format_html escaping every value was a third of the page's time)."""
    series = int(series)
    parts = [
        f'<svg viewBox="0 0 {chart.width} {chart.height}" role="img" '
        f'aria-label="{escape(chart.title)} per {escape(bucket)}" preserveAspectRatio="none">'
    ]
    for tick in chart.y_ticks:
        parts.append(
            f'<line class="metrics-grid" x1="{chart.plot_left}" x2="{chart.width}" '
            f'y1="{tick.y}" y2="{tick.y}"></line><text class="metrics-axis" '
            f'x="{chart.plot_left - 6}" y="{tick.y}" text-anchor="end" '
            f'dominant-baseline="middle">{escape(tick.label)}</text>'
        )
    for bar in chart.bars:
        if bar.value:
            parts.append(
                f'<rect class="metrics-bar metrics-bar-{series}" x="{bar.x}" y="{bar.y}" '
                f'width="{bar.width}" height="{bar.height}" rx="1.5">'
                f"<title>{escape(bar.label)}: {int(bar.value)}</title></rect>"
            )
    for x, label in chart.x_labels:
        parts.append(
            f'<text class="metrics-axis" x="{x}" y="{chart.height - 4}" '
            f'text-anchor="middle">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 (numbers, and text escaped above)
