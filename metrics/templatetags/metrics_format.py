from django import template
from django.utils.html import format_html, format_html_join

register = template.Library()

# The width of the y-axis strip left of each chart (CSS pads the time axis by as much).
AXIS_WIDTH = 44


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
    """`list_metrics|numbers_for:message.pk`: that message's list numbers (zeros if none)."""
    return (headline or {}).get(message_id) or {
        "views": 0,
        "clicks": 0,
        "conversions": 0,
        "click_through_rate": 0.0,
        "conversion_rate": 0.0,
    }


@register.inclusion_tag("metrics/_headline_card.html")
def message_headline(message):
    """All-time Views, Clicks and Converted of one message, from the rollups (one query)."""
    from metrics.summary import headline_numbers

    numbers = headline_numbers(workspace=message.workspace_id, message_ids=[message.pk])
    return {"message": message, "numbers": numbers[message.pk]}


@register.simple_tag
def bar_chart_svg(chart, series: int, bucket: str, axis=()):
    """A metrics.charts.Chart as inline SVG: the y ticks in a fixed-width strip, then the plot
    (grid lines, guides at the shared time axis' labels, bars with a tooltip title) stretched
    to the page's width. Text stays out of the stretched plot, so it never gets squashed on a
    phone. Built here rather than in a template loop: a 90-day page draws ~300 bars, and this
    keeps it to a few milliseconds."""
    ticks = format_html_join(
        "",
        '<text class="metrics-axis" x="{}" y="{}" text-anchor="end" '
        'dominant-baseline="middle">{}</text>',
        ((AXIS_WIDTH - 6, tick.y, tick.label) for tick in chart.y_ticks),
    )
    grid = format_html_join(
        "",
        '<line class="metrics-grid" x1="0" x2="{}" y1="{}" y2="{}"></line>',
        ((chart.width, tick.y, tick.y) for tick in chart.y_ticks),
    )
    guides = format_html_join(
        "",
        '<line class="metrics-guide" x1="{}" x2="{}" y1="0" y2="{}"></line>',
        (
            (x, x, chart.height)
            for x in (round(label.percent * chart.width / 100, 2) for label in axis)
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
    return format_html(
        '<div class="metrics-plot">'
        '<svg class="metrics-y" width="{}" height="{}" aria-hidden="true">{}</svg>'
        '<svg class="metrics-bars" viewBox="0 0 {} {}" height="{}" preserveAspectRatio="none" '
        'role="img" aria-label="{} per {}">{}{}{}</svg></div>',
        AXIS_WIDTH,
        chart.height,
        ticks,
        chart.width,
        chart.height,
        chart.height,
        chart.title,
        bucket,
        grid,
        guides,
        bars,
    )


@register.simple_tag
def time_axis_svg(axis):
    """The charts' shared time axis (metrics.charts.time_axis), drawn once under them."""
    # Every other label is "minor": CSS hides those on a phone, where they would collide.
    labels = format_html_join(
        "",
        '<text class="metrics-axis{}" x="{}%" y="12" text-anchor="middle">{}</text>',
        (
            (" metrics-axis-minor" if index % 2 else "", label.percent, label.label)
            for index, label in enumerate(axis)
        ),
    )
    return format_html(
        '<div class="metrics-plot metrics-time-axis" aria-hidden="true">'
        '<span class="metrics-y"></span><svg class="metrics-x" height="18">{}</svg></div>',
        labels,
    )
