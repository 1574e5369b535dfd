import pytest

from metrics.charts import bar_chart, nice_ceiling, short_number
from metrics.templatetags.metrics_format import bar_chart_svg, percent


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
    chart = bar_chart("Views", [0, 5, 10, 1], ["a", "b", "c", "d"], width=440, height=118)
    plot_height = 118 - 18 - 6
    assert [bar.height for bar in chart.bars] == [0, plot_height / 2, plot_height, 9.4]
    assert chart.bars[0].x >= chart.plot_left
    assert chart.bars[-1].x + chart.bars[-1].width <= 440
    assert all(bar.y + bar.height == chart.plot_bottom for bar in chart.bars)
    assert [tick.label for tick in chart.y_ticks] == ["0", "5", "10"]
    assert chart.total == 16


def test_a_tiny_value_still_shows_a_sliver():
    chart = bar_chart("Views", [1, 10_000], ["a", "b"])
    assert chart.bars[0].height == 1


def test_an_empty_series_has_a_unit_scale_and_no_middle_tick():
    chart = bar_chart("Converted", [0, 0, 0], ["a", "b", "c"])
    assert chart.empty
    assert [tick.label for tick in chart.y_ticks] == ["0", "1"]


def test_at_most_eight_x_labels_are_drawn():
    labels = [f"h{n}" for n in range(24)]
    chart = bar_chart("Views", [1] * 24, labels)
    assert [label for _, label in chart.x_labels] == labels[::3]


def test_values_and_labels_must_match():
    with pytest.raises(ValueError):
        bar_chart("Views", [1, 2], ["a"])


def test_the_svg_has_a_titled_rect_per_non_zero_bar_and_escapes_labels():
    chart = bar_chart("Views", [3, 0, 4], ["<b>", "x", "y"])
    svg = str(bar_chart_svg(chart, 1, "day"))
    assert svg.startswith('<svg viewBox="0 0 720 140" role="img" aria-label="Views per day"')
    assert svg.count("<rect") == 2
    assert "<title>&lt;b&gt;: 3</title>" in svg


@pytest.mark.parametrize(
    ("value", "expected"), [(0, "0%"), (0.0123, "1.2%"), (0.5, "50%"), (1.234, "123%"), (None, "")]
)
def test_percent(value, expected):
    assert percent(value) == expected
