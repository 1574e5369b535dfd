from django import template
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe

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
    phone. Built here rather than in a template loop: a 90-day page draws ~300 bars.
    Coordinates and counts are numbers and need no escaping; only text is escaped
    (format_html escaping every value was a third of the page's time)."""
    series = int(series)
    height = chart.height
    ticks = "".join(
        f'<text class="metrics-axis" x="{AXIS_WIDTH - 6}" y="{tick.y}" text-anchor="end" '
        f'dominant-baseline="middle">{escape(tick.label)}</text>'
        for tick in chart.y_ticks
    )
    grid = "".join(
        f'<line class="metrics-grid" x1="0" x2="{chart.width}" y1="{tick.y}" y2="{tick.y}"></line>'
        for tick in chart.y_ticks
    )
    guides = "".join(
        f'<line class="metrics-guide" x1="{x}" x2="{x}" y1="0" y2="{height}"></line>'
        for x in (round(label.percent * chart.width / 100, 2) for label in axis)
    )
    bars = "".join(
        f'<rect class="metrics-bar metrics-bar-{series}" x="{bar.x}" y="{bar.y}" '
        f'width="{bar.width}" height="{bar.height}" rx="1.5">'
        f"<title>{escape(bar.label)}: {int(bar.value)}</title></rect>"
        for bar in chart.bars
        if bar.value
    )
    return mark_safe(  # noqa: S308 (numbers, and text escaped above)
        '<div class="metrics-plot">'
        f'<svg class="metrics-y" width="{AXIS_WIDTH}" height="{height}" aria-hidden="true">'
        f"{ticks}</svg>"
        f'<svg class="metrics-bars" viewBox="0 0 {chart.width} {height}" height="{height}" '
        f'preserveAspectRatio="none" role="img" '
        f'aria-label="{escape(chart.title)} per {escape(bucket)}">{grid}{guides}{bars}</svg></div>'
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


@register.simple_tag
def lift_chart_svg(chart):
    """A metrics.charts.LiftChart: each comparison's 95 % interval as a bar, its estimate as a
    tick, "no lift" as a solid line, on a relative-lift axis drawn under it. Row labels and axis
    labels stay outside the stretched plot (readable on a phone)."""
    height = chart.height
    guides = "".join(
        f'<line class="metrics-guide" x1="{x}" x2="{x}" y1="0" y2="{height}"></line>'
        for x in (round(tick.percent * chart.width / 100, 2) for tick in chart.ticks)
    )
    rows = []
    for row in chart.rows:
        y = row.y
        rows.append(
            f'<g class="lift-row lift-{escape(row.decision)}" data-lift="{escape(row.key)}">'
            f"<title>{escape(row.label)}</title>"
            f'<line class="lift-interval" x1="{row.low}" x2="{row.high}" y1="{y}" y2="{y}">'
            "</line>"
            f'<line class="lift-estimate" x1="{row.estimate}" x2="{row.estimate}" '
            f'y1="{y - 9}" y2="{y + 9}"></line>'
            + (
                f'<line class="lift-cut" x1="{row.high}" x2="{row.high}" y1="{y - 6}" '
                f'y2="{y + 6}"></line>'
                if row.cut_high
                else ""
            )
            + (
                f'<line class="lift-cut" x1="{row.low}" x2="{row.low}" y1="{y - 6}" '
                f'y2="{y + 6}"></line>'
                if row.cut_low
                else ""
            )
            + "</g>"
        )
    labels = "".join(f'<span class="lift-label">{escape(row.label)}</span>' for row in chart.rows)
    ticks = "".join(
        f'<text class="metrics-axis{" metrics-axis-minor" if index % 2 else ""}" '
        f'x="{tick.percent}%" y="12" text-anchor="middle">{escape(tick.label)}</text>'
        for index, tick in enumerate(chart.ticks)
    )
    return mark_safe(  # noqa: S308 (numbers, and text escaped above)
        '<div class="lift-plot">'
        f'<div class="lift-labels" aria-hidden="true">{labels}</div>'
        f'<svg class="lift-svg" viewBox="0 0 {chart.width} {height}" height="{height}" '
        'preserveAspectRatio="none" role="img" aria-label="Lift of each variant with its 95 % '
        f'interval">{guides}<line class="lift-zero" x1="{chart.zero}" x2="{chart.zero}" y1="0" '
        f'y2="{height}"></line>{"".join(rows)}</svg></div>'
        '<div class="lift-plot lift-axis" aria-hidden="true"><span class="lift-labels"></span>'
        f'<svg class="metrics-x" height="18">{ticks}</svg></div>'
    )
