import pytest

from metrics.guidance import advise


def counts(views=0, unique_viewers=0, clicks=0, dismissals=0, conversions=0):
    return {
        "views": views, "unique_viewers": unique_viewers, "clicks": clicks,
        "dismissals": dismissals, "conversions": conversions,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("numbers", "expected"),
    [
        (counts(), ["No views in this range yet."]),
        (counts(views=20, unique_viewers=15), ["Too few views to judge yet"]),
        (counts(views=1000, unique_viewers=800, clicks=5), ["Many views but few clicks"]),
        (counts(views=1000, unique_viewers=800, clicks=100, dismissals=600, conversions=20), ["Most views end in a dismissal"]),
        (counts(views=1000, unique_viewers=800, clicks=100, conversions=2), ["Clicks but few conversions"]),
        (counts(views=1000, unique_viewers=800, clicks=100, conversions=60), ["Converting well"]),
        (counts(views=1000, unique_viewers=800, clicks=100, conversions=20), []),
        (counts(views=1000, unique_viewers=800, clicks=5, dismissals=900), ["Many views but few clicks", "Most views end in a dismissal"]),
    ],
)  # fmt: skip
def test_advice_table(numbers, expected):
    advice = advise(**numbers)
    assert len(advice) == len(expected)
    for item, start in zip(advice, expected, strict=True):
        assert item.text.startswith(start)
