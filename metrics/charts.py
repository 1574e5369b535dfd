"""Bar charts computed on the server. Pure: a series in, rectangles and labels out.

Templates draw the result as inline SVG (no JavaScript), so an htmx swap replaces the chart
like any other HTML.
"""

from dataclasses import dataclass
from math import floor, log10


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    value: int
    label: str


@dataclass(frozen=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True)
class Chart:
    title: str
    width: int
    height: int
    plot_left: int
    plot_bottom: float
    bars: list[Bar]
    y_ticks: list[Tick]
    x_labels: list[tuple[float, str]]
    total: int

    @property
    def empty(self) -> bool:
        return self.total == 0


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k that is ≥ value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** floor(log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover (the loop always returns)


def short_number(value: float) -> str:
    if value != int(value):
        return f"{value:.1f}"
    value = int(value)
    if value >= 1_000_000:
        return f"{value / 1_000_000:.1f}M".replace(".0M", "M")
    if value >= 10_000:
        return f"{value / 1000:.0f}k"
    if value >= 1000:
        return f"{value / 1000:.1f}k".replace(".0k", "k")
    return str(value)


def bar_chart(
    title: str,
    values: list[int],
    labels: list[str],
    *,
    width: int = 720,
    height: int = 140,
    plot_left: int = 44,
    axis_height: int = 18,
    max_x_labels: int = 8,
) -> Chart:
    """Bars for `values` (one per bucket) scaled to a rounded maximum, with 3 y-axis ticks
    and at most `max_x_labels` evenly spaced bucket labels."""
    if len(values) != len(labels):
        raise ValueError("values and labels must have the same length")
    top = 6
    plot_bottom = height - axis_height
    plot_height = plot_bottom - top
    plot_width = width - plot_left
    ceiling = nice_ceiling(max(values, default=0))
    count = max(len(values), 1)
    slot = plot_width / count
    gap = min(slot * 0.2, 4) if count > 1 else 0
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = plot_height * value / ceiling
        # A non-zero value always shows at least a sliver.
        if value and bar_height < 1:
            bar_height = 1
        bars.append(
            Bar(
                x=round(plot_left + index * slot + gap / 2, 2),
                y=round(plot_bottom - bar_height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(bar_height, 2),
                value=value,
                label=label,
            )
        )
    ticks = [
        Tick(
            y=round(plot_bottom - plot_height * fraction, 2),
            label=short_number(ceiling * fraction),
        )
        for fraction in (0, 0.5, 1)
    ]
    if ceiling == 1:
        ticks = [ticks[0], ticks[2]]
    every = max(1, -(-len(labels) // max_x_labels))
    x_labels = [
        (round(plot_left + index * slot + slot / 2, 2), label)
        for index, label in enumerate(labels)
        if index % every == 0
    ]
    return Chart(
        title=title,
        width=width,
        height=height,
        plot_left=plot_left,
        plot_bottom=plot_bottom,
        bars=bars,
        y_ticks=ticks,
        x_labels=x_labels,
        total=sum(values),
    )
