"""Bar charts and the funnel, computed on the server. Pure: numbers in, shapes and labels out.

Templates draw the result as inline SVG (no JavaScript), so an htmx swap replaces a chart like
any other HTML. The charts of one page share one time axis (`time_axis`): their plots have
the same width and bucket slots, so the axis is drawn once, under the last chart.
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
    """Bars in a `width` × `height` plot (viewBox units, stretched to the page's width) and
    the y ticks at their heights in pixels (the plot is drawn `height` pixels tall)."""

    title: str
    width: int
    height: int
    bars: list[Bar]
    y_ticks: list[Tick]
    total: int

    @property
    def empty(self) -> bool:
        return self.total == 0


@dataclass(frozen=True)
class AxisLabel:
    percent: float  # the centre of its bucket, as a share of the plot's width
    label: str


def nice_ceiling(value: float) -> int:
    """The smallest 1, 2 or 5 × 10^k that is ≥ value (at least 1)."""
    if value <= 1:
        return 1
    magnitude = 10 ** floor(log10(value))
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return int(step * magnitude)
    return int(10 * magnitude)  # pragma: no cover (the loop always returns)


def tick_values(ceiling: int) -> list[int]:
    """Whole-number ticks from 0 to `ceiling`: its half when that is whole, else every unit
    (a count of views is never 2.5)."""
    step = ceiling // 2 if ceiling % 2 == 0 else 1
    return list(range(0, ceiling + 1, step))


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
    height: int = 116,
    top: int = 6,
) -> Chart:
    """Bars for `values` (one per bucket, `labels` name them in tooltips) scaled to a rounded
    maximum, with whole-number y ticks."""
    if len(values) != len(labels):
        raise ValueError("values and labels must have the same length")
    plot_height = height - top
    ceiling = nice_ceiling(max(values, default=0))
    count = max(len(values), 1)
    slot = width / count
    gap = min(slot * 0.2, 4) if count > 1 else 0
    bars = []
    for index, (value, label) in enumerate(zip(values, labels, strict=True)):
        bar_height = plot_height * value / ceiling
        # A non-zero value always shows at least a sliver.
        if value and bar_height < 1:
            bar_height = 1
        bars.append(
            Bar(
                x=round(index * slot + gap / 2, 2),
                y=round(height - bar_height, 2),
                width=round(max(slot - gap, 0.5), 2),
                height=round(bar_height, 2),
                value=value,
                label=label,
            )
        )
    ticks = [
        Tick(y=round(height - plot_height * value / ceiling, 2), label=short_number(value))
        for value in tick_values(ceiling)
    ]
    return Chart(
        title=title, width=width, height=height, bars=bars, y_ticks=ticks, total=sum(values)
    )


def time_axis(labels: list[str], *, max_labels: int = 8) -> list[AxisLabel]:
    """At most `max_labels` evenly spaced bucket labels, placed at their bucket's centre."""
    count = max(len(labels), 1)
    every = max(1, -(-len(labels) // max_labels))
    return [
        AxisLabel(percent=round((index + 0.5) * 100 / count, 3), label=label)
        for index, label in enumerate(labels)
        if index % every == 0
    ]


@dataclass(frozen=True)
class FunnelStep:
    key: str  # "views", "unique_viewers", "clicks" or "conversions"
    label: str
    value: int
    share: float  # of the largest step, 0–1: the bar's length
    rate: float | None  # this step ÷ the step before; None for the first
    rate_of: str  # what the rate divides, e.g. "clicks ÷ unique viewers"

    @property
    def metric(self) -> str:
        """Its name in markup (data-metric)."""
        return self.key.replace("_", "-")

    @property
    def percent_of_largest(self) -> float:
        return round(self.share * 100, 2)


def funnel(*, views: int, unique_viewers: int, clicks: int, conversions: int) -> list[FunnelStep]:
    """Views → unique viewers → clicks → converted, each with the rate from the step before
    (0 when the step before is 0). Bars are scaled to the largest step: views, unless a range
    counts conversions whose views came before it."""
    steps = [
        ("views", "Views", views),
        ("unique_viewers", "Unique viewers", unique_viewers),
        ("clicks", "Clicks", clicks),
        ("conversions", "Converted", conversions),
    ]
    largest = max(max(value for _, _, value in steps), 1)
    result = []
    for index, (key, label, value) in enumerate(steps):
        rate, rate_of = None, ""
        if index:
            _, previous_label, previous = steps[index - 1]
            rate = value / previous if previous else 0.0
            rate_of = f"{label.lower()} ÷ {previous_label.lower()}"
        result.append(
            FunnelStep(
                key=key,
                label=label,
                value=value,
                share=value / largest,
                rate=rate,
                rate_of=rate_of,
            )
        )
    return result


# --- Lift of an experiment's variants: intervals on one relative-lift axis -----------------

# The axis never extends beyond these (a lift below −100 % is impossible; beyond +300 % the
# interval is drawn cut off, with an arrow).
LIFT_FLOOR = -1.0
LIFT_CEILING = 3.0
LIFT_STEPS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1.0)


@dataclass(frozen=True)
class LiftRow:
    key: str
    label: str  # e.g. "B vs holdout"
    decision: str  # "winner" | "loser" | "inconclusive"
    estimate: float  # x of each, in plot units
    low: float
    high: float
    cut_low: bool  # the interval goes on beyond the axis
    cut_high: bool
    y: float  # the row's centre


@dataclass(frozen=True)
class LiftChart:
    width: int
    height: int
    zero: float  # x of "no lift"
    rows: list[LiftRow]
    ticks: list[AxisLabel]  # x as a share of the width, label "+10 %"


def lift_step(span: float) -> float:
    """A tick step giving about 4–8 ticks over `span` (a share: 0.4 = 40 points)."""
    for step in LIFT_STEPS:
        if span / step <= 8:
            return step
    return LIFT_STEPS[-1]


def lift_chart(intervals, *, width: int = 720, row_height: int = 30) -> LiftChart:
    """`intervals`: (key, label, estimate, low, high, decision) with relative lifts (0.12 =
    +12 %); rows without an estimate are left out. The axis covers every interval (within
    −100 % … +300 %) and at least ±10 %, in whole steps, with 0 always on it."""
    rows_in = [row for row in intervals if row[2] is not None]
    lowest = min([-0.1, *(max(low, LIFT_FLOOR) for _, _, _, low, _, _ in rows_in)])
    highest = max([0.1, *(min(high, LIFT_CEILING) for _, _, _, _, high, _ in rows_in)])
    step = lift_step(highest - lowest)
    start = max(floor(lowest / step + 1e-9) * step, LIFT_FLOOR)
    end = min(-floor(-highest / step + 1e-9) * step, LIFT_CEILING)
    span = end - start

    def x(value: float) -> float:
        return round((min(max(value, start), end) - start) / span * width, 2)

    rows = [
        LiftRow(
            key=key,
            label=label,
            decision=decision,
            estimate=x(estimate),
            low=x(low),
            high=x(high),
            cut_low=low < start,
            cut_high=high > end,
            y=row_height * index + row_height / 2,
        )
        for index, (key, label, estimate, low, high, decision) in enumerate(rows_in)
    ]
    count = round(span / step)
    ticks = [
        AxisLabel(percent=round(index * 100 / count, 3), label=lift_label(start + index * step))
        for index in range(count + 1)
    ]
    return LiftChart(
        width=width, height=row_height * max(len(rows), 1), zero=x(0.0), rows=rows, ticks=ticks
    )


def lift_label(value: float) -> str:
    """0.1 → "+10%", −0.05 → "−5%", 0 → "0"."""
    points = round(value * 100)
    if points == 0:
        return "0"
    return f"{'+' if points > 0 else '−'}{abs(points)}%"
