from django import template
from django.utils.html import format_html, format_html_join

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
    bars, and this keeps it to a few milliseconds."""
    grid = format_html_join(
        "",
        '<line class="metrics-grid" x1="{}" x2="{}" y1="{}" y2="{}"></line>'
        '<text class="metrics-axis" x="{}" y="{}" text-anchor="end" '
        'dominant-baseline="middle">{}</text>',
        (
            (chart.plot_left, chart.width, tick.y, tick.y, chart.plot_left - 6, tick.y, tick.label)
            for tick in chart.y_ticks
        ),
    )
    bars = format_html_join(
        "",
        '<rect class="metrics-bar metrics-bar-{}" x="{}" y="{}" width="{}" height="{}" '
        'rx="1.5"><title>{}: {}</title></rect>',
        (
            (series, bar.x, bar.y, bar.width, bar.height, bar.label, bar.value)
            for bar in chart.bars
            if bar.value
        ),
    )
    labels = format_html_join(
        "",
        '<text class="metrics-axis" x="{}" y="{}" text-anchor="middle">{}</text>',
        ((x, chart.height - 4, label) for x, label in chart.x_labels),
    )
    return format_html(
        '<svg viewBox="0 0 {} {}" role="img" aria-label="{} per {}" '
        'preserveAspectRatio="none">{}{}{}</svg>',
        chart.width,
        chart.height,
        chart.title,
        bucket,
        grid,
        bars,
        labels,
    )
