"""The wizard's tester: would this visit (a page, a referrer, a device…) get the message, and why.

Pure: page rules are campaigns/rules.py's verdict, audience conditions campaigns/audience.py's
`condition_holds` on a `Visit`, the same functions delivery decides with. This module only
builds the visit from what the marketer typed and puts the reasons into words.
"""

from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from campaigns import audience, rules

UTM_KEYS = (audience.UTM_SOURCE, audience.UTM_MEDIUM, audience.UTM_CAMPAIGN)


def utm_of(url: str) -> dict[str, str]:
    """The landing page's `utm_*` parameters (the first of each, trimmed)."""
    query = urlsplit((url or "").strip()).query
    if not query and "?" in (url or ""):
        query = url.split("?", 1)[1]
    values = parse_qs(query.split("#", 1)[0], keep_blank_values=False)
    return {key: values[key][0].strip() for key in UTM_KEYS if values.get(key)}


def build_visit(
    *,
    platform: str,
    url: str,
    referrer: str,
    device: str,
    language: str,
    sessions: int,
    pageviews: int,
) -> audience.Visit:
    """The visit as delivery would see it from our SDK: on the web the referrer ("" = direct)
    and the landing page's UTM parameters; an app screen has neither (those conditions fail)."""
    web = platform == "web"
    utm = utm_of(url) if web else {}
    return audience.Visit(
        referrer_domain=audience.normalise_domain(referrer) if web else None,
        utm_source=utm.get(audience.UTM_SOURCE) if web else None,
        utm_medium=utm.get(audience.UTM_MEDIUM) if web else None,
        utm_campaign=utm.get(audience.UTM_CAMPAIGN) if web else None,
        device=device or None,
        language=language.strip().lower() or None,
        sessions=sessions,
        session_pageviews=pageviews,
    )


@dataclass(frozen=True)
class ConditionResult:
    condition: dict
    text: str  # the condition in words
    holds: bool
    actual: str  # what this visit has, in words


@dataclass(frozen=True)
class VisitVerdict:
    shows: bool
    reason: str
    page: rules.Verdict
    conditions: tuple[ConditionResult, ...]
    everyone: bool  # no audience conditions


def describe_actual(attribute: str, visit: audience.Visit) -> str:
    """What the visit has for `attribute`, for “… does not hold: <this>”."""
    match attribute:
        case audience.REFERRER:
            if visit.referrer_domain is None:
                return "an app screen has no referrer"
            if not visit.referrer_domain:
                return "a direct visit (no referrer)"
            return f"the referrer is {visit.referrer_domain}"
        case audience.UTM_SOURCE | audience.UTM_MEDIUM | audience.UTM_CAMPAIGN:
            value = getattr(visit, attribute)
            if value is None:
                return f"the landing page has no {attribute}"
            return f"{attribute} is “{value}”"
        case audience.DEVICE:
            return f"this visit is on a {visit.device}" if visit.device else "the device is unknown"
        case audience.LANGUAGE:
            if visit.language is None:
                return "no browser language given"
            return f"the browser language is {visit.language}"
        case audience.VISITOR:
            if visit.visitor == "new":
                return "a new visitor (first session)"
            return f"a returning visitor (session {visit.sessions})"
        case audience.SESSIONS:
            return f"session {visit.sessions} of this visitor"
        case audience.SESSION_PAGEVIEWS:
            return f"page view {visit.session_pageviews} of this session"
    return ""


def evaluate_visit(
    page_rules: list[rules.Rule], page: rules.Page, conditions: list[dict], visit: audience.Visit
) -> VisitVerdict:
    """Page rules first (as delivery), then every audience condition, each with its reason."""
    page_verdict = rules.evaluate(page_rules, page)
    results = tuple(
        ConditionResult(
            condition=condition,
            text=audience.describe_condition(condition),
            holds=audience.condition_holds(condition, visit),
            actual=describe_actual(condition["attribute"], visit),
        )
        for condition in conditions
    )
    failed = [result for result in results if not result.holds]
    if not page_verdict.shows:
        reason = page_verdict.reason
    elif failed:
        first = failed[0]
        reason = (
            f"The page matches, but this visit is not in the audience: “{first.text}” does not "
            f"hold ({first.actual})."
        )
    elif conditions:
        reason = f"{page_verdict.reason} The visit meets every audience condition."
    else:
        reason = f"{page_verdict.reason} Everyone on a matching page is in the audience."
    return VisitVerdict(
        shows=page_verdict.shows and not failed,
        reason=reason,
        page=page_verdict,
        conditions=results,
        everyone=not conditions,
    )
