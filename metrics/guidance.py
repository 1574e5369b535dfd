"""What the numbers suggest, in a sentence. Pure: counts in, advice out."""

from dataclasses import dataclass

ENOUGH_VIEWS = 50
ENOUGH_CLICKS = 20


@dataclass(frozen=True)
class Advice:
    level: str  # "info" | "warning" | "success": the callout style
    text: str


def rate(part: int, whole: int) -> float:
    return part / whole if whole else 0.0


def advise(
    *, views: int, unique_viewers: int, clicks: int, dismissals: int, conversions: int
) -> list[Advice]:
    if views == 0:
        return [
            Advice(
                "info",
                "No views in this range yet. Check that the message is active, that its page "
                "rules match your pages, and that the snippet (with anonymousInApp: true) is "
                "on your site.",
            )
        ]
    if views < ENOUGH_VIEWS:
        return [Advice("info", "Too few views to judge yet: check back once more people saw it.")]
    advice = []
    if rate(clicks, views) < 0.02:
        advice.append(
            Advice(
                "warning",
                "Many views but few clicks: try your content and call to action (a clearer "
                "button, a stronger offer), or show it on more relevant pages.",
            )
        )
    if rate(dismissals, views) >= 0.5:
        advice.append(
            Advice(
                "warning",
                "Most views end in a dismissal: show it less often, later in the visit, or "
                "only where it is relevant.",
            )
        )
    if clicks >= ENOUGH_CLICKS and rate(conversions, clicks) < 0.05:
        advice.append(
            Advice(
                "warning",
                "Clicks but few conversions: make sure the action leads straight to sign-up, "
                "or lengthen the goal window.",
            )
        )
    if not advice and rate(conversions, unique_viewers) >= 0.05:
        advice.append(
            Advice(
                "success",
                "Converting well: consider a higher priority or showing it on more pages.",
            )
        )
    return advice
