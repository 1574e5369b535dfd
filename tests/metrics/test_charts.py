import pytest

from metrics.charts import (
    bar_chart,
    funnel,
    lift_chart,
    lift_label,
    lift_step,
    nice_ceiling,
    short_number,
    tick_values,
    time_axis,
)
from metrics.templatetags.metrics_format import (
    bar_chart_svg,
    lift_chart_svg,
    percent,
    time_axis_svg,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, 1),
        (1, 1),
        (2, 2),
        (3, 5),
        (7, 10),
        (10, 10),
        (11, 20),
        (47, 50),
        (51, 100),
        (1234, 2000),
    ],
)
def test_the_scale_rounds_up_to_1_2_or_5(value, expected):
    assert nice_ceiling(value) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, "0"),
        (999, "999"),
        (1000, "1k"),
        (1500, "1.5k"),
        (25_000, "25k"),
        (2_000_000, "2M"),
        (2.5, "2.5"),
    ],
)
def test_short_numbers(value, expected):
    assert short_number(value) == expected


def test_bars_are_scaled_to_the_rounded_maximum_and_fill_the_width():
    chart = bar_chart("Views", [0, 5, 10, 1], ["a", "b", "c", "d"], width=440, height=106)
    plot_height = 106 - 6
    assert [bar.height for bar in chart.bars] == [0, plot_height / 2, plot_height, 10]
    assert chart.bars[0].x >= 0
    assert chart.bars[-1].x + chart.bars[-1].width <= 440
    assert all(bar.y + bar.height == chart.height for bar in chart.bars)
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
    assert [tick.y for tick in chart.y_ticks] == [106, 56, 6]
    assert chart.total == 16


def test_a_tiny_value_still_shows_a_sliver():
    chart = bar_chart("Views", [1, 10_000], ["a", "b"])
    assert chart.bars[0].height == 1


def test_an_empty_series_has_a_unit_scale_and_no_middle_tick():
    chart = bar_chart("Converted", [0, 0, 0], ["a", "b", "c"])
    assert chart.empty
    assert [tick.label for tick in chart.y_ticks] == ["0", "1"]


@pytest.mark.parametrize(
    ("ceiling", "ticks"),
    [
        (1, [0, 1]),
        (2, [0, 1, 2]),
        (5, [0, 1, 2, 3, 4, 5]),  # never 2.5 views
        (10, [0, 5, 10]),
        (50, [0, 25, 50]),
        (500, [0, 250, 500]),
        (2000, [0, 1000, 2000]),
    ],
)
def test_ticks_are_whole_numbers(ceiling, ticks):
    assert tick_values(ceiling) == ticks


@pytest.mark.parametrize("largest", [1, 2, 3, 4, 5, 7, 9, 13, 27, 333, 999])
def test_every_chart_tick_label_is_a_whole_number(largest):
    chart = bar_chart("Clicks", [0, largest], ["a", "b"])
    assert all("." not in tick.label for tick in chart.y_ticks)
    assert chart.y_ticks[-1].y == 6  # the top tick is the top of the plot


def test_the_time_axis_has_at_most_eight_labels_at_bucket_centres():
    labels = [f"h{n}" for n in range(24)]
    axis = time_axis(labels)
    assert [label.label for label in axis] == labels[::3]
    assert axis[0].percent == pytest.approx(100 / 48, abs=1e-3)
    assert axis[1].percent == pytest.approx(3.5 * 100 / 24, abs=1e-3)


def test_values_and_labels_must_match():
    with pytest.raises(ValueError):
        bar_chart("Views", [1, 2], ["a"])


def test_the_svg_has_a_titled_rect_per_non_zero_bar_and_escapes_labels():
    chart = bar_chart("Views", [3, 0, 4], ["<b>", "x", "y"])
    svg = str(bar_chart_svg(chart, 1, "day", time_axis(["<b>", "x", "y"])))
    assert '<svg class="metrics-bars" viewBox="0 0 720 116"' in svg
    assert 'role="img" aria-label="Views per day"' in svg
    assert svg.count("<rect") == 2
    assert "<title>&lt;b&gt;: 3</title>" in svg
    assert svg.count('class="metrics-guide"') == 3  # the shared axis' labels, in every chart
    # Tick labels are drawn outside the stretched plot, so a phone does not squash them.
    plot = svg[svg.index('class="metrics-bars"') :]
    assert "<text" not in plot


def test_the_time_axis_escapes_labels_and_marks_every_other_one_minor():
    svg = str(time_axis_svg(time_axis(["<a>", "b", "c"])))
    assert svg.count("<text") == 3
    assert "&lt;a&gt;" in svg
    assert svg.count("metrics-axis-minor") == 1


@pytest.mark.parametrize(
    ("counts", "rates", "shares"),
    [
        ((100, 50, 10, 5), [None, 0.5, 0.2, 0.5], [1, 0.5, 0.1, 0.05]),
        ((0, 0, 0, 0), [None, 0, 0, 0], [0, 0, 0, 0]),
        # A conversion counted in a short range whose view came before it.
        ((0, 0, 0, 2), [None, 0, 0, 0], [0, 0, 0, 1]),
        ((10, 4, 6, 1), [None, 0.4, 1.5, 1 / 6], [1, 0.4, 0.6, 0.1]),
    ],
)
def test_the_funnel_divides_each_step_by_the_one_before(counts, rates, shares):
    views, unique_viewers, clicks, conversions = counts
    steps = funnel(
        views=views, unique_viewers=unique_viewers, clicks=clicks, conversions=conversions
    )
    assert [step.label for step in steps] == ["Views", "Unique viewers", "Clicks", "Converted"]
    assert [step.value for step in steps] == list(counts)
    assert [step.rate for step in steps] == pytest.approx(rates)
    assert [step.share for step in steps] == pytest.approx(shares)
    assert [step.rate_of for step in steps][1:] == [
        "unique viewers ÷ views",
        "clicks ÷ unique viewers",
        "converted ÷ clicks",
    ]


@pytest.mark.parametrize(
    ("value", "expected"), [(0, "0%"), (0.0123, "1.2%"), (0.5, "50%"), (1.234, "123%"), (None, "")]
)
def test_percent(value, expected):
    assert percent(value) == expected


# --- lift chart --------------------------------------------------------------------------


def test_the_lift_axis_covers_every_interval_and_zero():
    chart = lift_chart(
        [
            ("A", "A vs holdout", 0.05, -0.02, 0.13, "inconclusive"),
            ("B", "B vs holdout", 0.25, 0.08, 0.44, "winner"),
        ]
    )
    assert [tick.label for tick in chart.ticks] == [
        "−10%",
        "0",
        "+10%",
        "+20%",
        "+30%",
        "+40%",
        "+50%",
    ]
    assert chart.zero == pytest.approx(720 / 6)
    a, b = chart.rows
    assert a.low < chart.zero < a.estimate < a.high
    assert chart.zero < b.low < b.estimate < b.high <= 720
    assert (a.y, b.y, chart.height) == (15, 45, 60)


def test_a_huge_interval_is_cut_at_the_axis_end():
    chart = lift_chart([("B", "B vs A", 2.0, -0.9, 40.0, "inconclusive")])
    (row,) = chart.rows
    assert row.cut_high and not row.cut_low
    assert row.high == 720
    assert chart.ticks[-1].label == "+300%"


def test_rows_without_an_estimate_are_left_out_and_the_axis_defaults_to_ten_percent():
    chart = lift_chart([("B", "B vs A", None, None, None, "inconclusive")])
    assert chart.rows == []
    assert [tick.label for tick in chart.ticks][0] == "−10%"
    assert [tick.label for tick in chart.ticks][-1] == "+10%"


@pytest.mark.parametrize(("span", "step"), [(0.2, 0.05), (0.6, 0.1), (1.5, 0.2), (4, 0.5)])
def test_lift_step(span, step):
    assert lift_step(span) == step


@pytest.mark.parametrize(
    ("value", "text"), [(0.1, "+10%"), (-0.05, "−5%"), (0.0, "0"), (1e-9, "0")]
)
def test_lift_label(value, text):
    assert lift_label(value) == text


def test_the_lift_chart_svg_draws_each_interval_and_escapes_labels():
    chart = lift_chart(
        [
            ("B", "B <vs> A", 0.2, 0.05, 0.4, "winner"),
            ("C", "C vs A", -0.1, -0.3, 0.15, "inconclusive"),
        ]
    )
    html = str(lift_chart_svg(chart))
    assert html.count('class="lift-interval"') == 2
    assert 'class="lift-row lift-winner" data-lift="B"' in html
    assert "B &lt;vs&gt; A" in html and "<vs>" not in html
    assert f'x1="{chart.zero}"' in html  # the "no lift" line
    assert html.count("<text") == len(chart.ticks)
