"""Who sees a message: audience conditions on what is known about an anonymous visit.

Pure (DESIGN.md §5): conditions are `[{"attribute", "operator", "value"}]`, all must hold.
The visit is a `Visit` built by delivery from the request's context parameters and its
User-Agent. A condition that cannot be evaluated for the visit (a mobile screen has no
referrer, an SDK that does not send `sessions`) is false, never an error. The values come
from the visitor's own browser: a visitor who fakes them changes only what they see.
"""

from dataclasses import dataclass

MAX_CONDITIONS = 10
MAX_VALUE = 200
MAX_COUNT = 10_000

REFERRER = "referrer"
UTM_SOURCE = "utm_source"
UTM_MEDIUM = "utm_medium"
UTM_CAMPAIGN = "utm_campaign"
DEVICE = "device"
LANGUAGE = "language"
VISITOR = "visitor"
SESSIONS = "sessions"
SESSION_PAGEVIEWS = "session_pageviews"

IS, IS_NOT, CONTAINS, STARTS_WITH, GTE = "is", "is_not", "contains", "starts_with", "gte"
OPERATOR_LABELS = {
    IS: "is",
    IS_NOT: "is not",
    CONTAINS: "contains",
    STARTS_WITH: "starts with",
    GTE: "is at least",
}

ATTRIBUTE_LABELS = {
    REFERRER: "Referrer domain",
    UTM_SOURCE: "UTM source",
    UTM_MEDIUM: "UTM medium",
    UTM_CAMPAIGN: "UTM campaign",
    DEVICE: "Device",
    LANGUAGE: "Browser language",
    VISITOR: "Visitor",
    SESSIONS: "Number of sessions",
    SESSION_PAGEVIEWS: "Page views in this session",
}

# The operators each attribute accepts; the first is the default.
OPERATORS = {
    REFERRER: (IS, CONTAINS, IS_NOT),
    UTM_SOURCE: (IS, CONTAINS),
    UTM_MEDIUM: (IS, CONTAINS),
    UTM_CAMPAIGN: (IS, CONTAINS),
    DEVICE: (IS, IS_NOT),
    LANGUAGE: (STARTS_WITH, IS),
    VISITOR: (IS,),
    SESSIONS: (GTE,),
    SESSION_PAGEVIEWS: (GTE,),
}

# Attributes whose value is one of a few words.
CHOICES = {
    DEVICE: ("desktop", "tablet", "phone"),
    VISITOR: ("new", "returning"),
}
COUNTS = (SESSIONS, SESSION_PAGEVIEWS)


@dataclass(frozen=True)
class AudienceError(Exception):
    """`index` is the condition's position, `field` its key ("attribute", "operator", "value")."""

    index: int
    field: str
    message: str


@dataclass(frozen=True)
class Visit:
    """What delivery knows about this visit; None = unknown (the condition is false).

    `referrer_domain` is "" for a direct visit (known: no external referrer)."""

    referrer_domain: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    device: str | None = None
    language: str | None = None
    sessions: int | None = None
    session_pageviews: int | None = None

    @property
    def visitor(self) -> str | None:
        """New in their first session, returning after; unknown without a session count."""
        if self.sessions is None:
            return None
        return "new" if self.sessions <= 1 else "returning"


def normalise_domain(value: str) -> str:
    """`https://www.Google.com/search` → `google.com`: referrer conditions compare hosts."""
    value = value.strip().lower()
    if "//" in value:
        value = value.split("//", 1)[1]
    value = value.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    value = value.rsplit("@", 1)[-1].split(":", 1)[0]
    return value.removeprefix("www.")


def normalise_condition(raw, index: int = 0) -> dict:
    """The stored condition for `raw`, or AudienceError naming the key."""
    if not isinstance(raw, dict):
        raise AudienceError(index, "attribute", "Each audience condition must be an object.")
    attribute = raw.get("attribute")
    if not isinstance(attribute, str) or attribute not in OPERATORS:  # a list is unhashable
        raise AudienceError(
            index, "attribute", f"Unknown attribute; use one of {', '.join(OPERATORS)}."
        )
    operator = raw.get("operator") or OPERATORS[attribute][0]
    if operator not in OPERATORS[attribute]:
        allowed = ", ".join(OPERATORS[attribute])
        raise AudienceError(index, "operator", f"“{attribute}” takes the operators {allowed}.")
    value = raw.get("value")
    if attribute in COUNTS:
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) < 10:
            value = int(value.strip())
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
            raise AudienceError(index, "value", f"Enter a whole number from 1 to {MAX_COUNT}.")
        return {"attribute": attribute, "operator": operator, "value": value}
    if not isinstance(value, str) or not value.strip():
        raise AudienceError(index, "value", "Enter the value to compare with.")
    value = value.strip()
    if len(value) > MAX_VALUE:
        raise AudienceError(index, "value", f"Keep the value under {MAX_VALUE} characters.")
    if attribute in CHOICES:
        value = value.lower()
        if value not in CHOICES[attribute]:
            raise AudienceError(index, "value", f"Use one of {', '.join(CHOICES[attribute])}.")
    elif attribute == REFERRER:
        value = normalise_domain(value)
        if not value:
            raise AudienceError(index, "value", "Enter a domain, e.g. google.com.")
    elif attribute == LANGUAGE:
        value = value.lower()
    return {"attribute": attribute, "operator": operator, "value": value}


def normalise_audience(raw) -> list[dict]:
    """The stored conditions for `raw` (None = everyone), or AudienceError."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise AudienceError(0, "", "The audience must be a list of conditions.")
    if len(raw) > MAX_CONDITIONS:
        raise AudienceError(
            MAX_CONDITIONS, "", f"A message has at most {MAX_CONDITIONS} audience conditions."
        )
    return [normalise_condition(item, index) for index, item in enumerate(raw)]


def _visit_value(visit: Visit, attribute: str):
    if attribute == SESSION_PAGEVIEWS:
        return visit.session_pageviews
    if attribute == VISITOR:
        return visit.visitor
    if attribute == REFERRER:
        return visit.referrer_domain
    return getattr(visit, attribute)


def condition_holds(condition: dict, visit: Visit) -> bool:
    actual = _visit_value(visit, condition["attribute"])
    if actual is None:
        return False
    expected, operator = condition["value"], condition["operator"]
    if operator == GTE:
        return actual >= expected
    actual = actual.lower()
    if isinstance(expected, str):
        expected = expected.lower()
    match operator:
        case "is":
            return actual == expected
        case "is_not":
            return actual != expected
        case "contains":
            return expected in actual
        case "starts_with":
            return actual.startswith(expected)
    return False


def audience_matches(conditions: list[dict], visit: Visit) -> bool:
    return all(condition_holds(condition, visit) for condition in conditions)


def describe_condition(condition: dict) -> str:
    """“Referrer domain contains “google”” — a condition as words for the Review step."""
    attribute, operator, value = condition["attribute"], condition["operator"], condition["value"]
    if attribute == VISITOR:
        return "New visitors (first session)" if value == "new" else "Returning visitors"
    if attribute == DEVICE:
        verb = "On" if operator == IS else "Not on"
        return f"{verb} a {value}"
    label = ATTRIBUTE_LABELS[attribute]
    if operator == GTE:
        return f"{label} is at least {value}"
    return f"{label} {OPERATOR_LABELS[operator]} “{value}”"


def describe_audience(conditions: list[dict]) -> str:
    if not conditions:
        return "Everyone who visits a matching page"
    return "; ".join(describe_condition(condition) for condition in conditions)


# What an unknown value means, per attribute (a condition on it is false).
_UNKNOWN = {
    REFERRER: "the request does not say where the visit came from",
    UTM_SOURCE: "this visit has none",
    UTM_MEDIUM: "this visit has none",
    UTM_CAMPAIGN: "this visit has none",
    DEVICE: "the device is unknown (the User-Agent is not a browser's)",
    LANGUAGE: "the browser's language is unknown",
    VISITOR: "the request does not count the visitor's sessions",
    SESSIONS: "the request does not count the visitor's sessions",
    SESSION_PAGEVIEWS: "the request does not count the session's page views",
}


def _label(attribute: str) -> str:
    label = ATTRIBUTE_LABELS[attribute]
    return label if label.startswith("UTM") else label.lower()


def _actual(attribute: str, actual) -> str:
    """What the visit says about `attribute`, as the end of a sentence."""
    if actual is None:
        return _UNKNOWN.get(attribute, "the request does not tell it")
    if attribute == REFERRER:
        return f"this visit came from “{actual}”" if actual else "this is a direct visit"
    if attribute == DEVICE:
        return f"this visit is on a {actual}"
    if attribute == VISITOR:
        return f"this visitor is {actual}"
    if attribute == SESSIONS:
        return f"this is their session {actual}"
    if attribute == SESSION_PAGEVIEWS:
        return f"this is page view {actual} of the session"
    return f"this visit's is “{actual}”"


def explain_condition(condition: dict, visit: Visit) -> str:
    """Why `condition` leaves `visit` out, in plain words: “Only for visitors on a phone;
    this visit is on a desktop.” (For the visitor debugger and the rule tester.)"""
    attribute = condition.get("attribute") if isinstance(condition, dict) else None
    if not isinstance(attribute, str) or attribute not in OPERATORS:
        return "Its audience condition is not valid: fix it on the Page rules step."
    operator, value = condition.get("operator"), condition.get("value")
    if attribute == DEVICE:
        head = f"{'Not' if operator == IS_NOT else 'Only'} for visitors on a {value}"
    elif attribute == VISITOR:
        new = value == "new"
        head = "Only for new visitors (first session)" if new else "Only for returning visitors"
    elif attribute == SESSIONS:
        head = f"Only for visitors with at least {value} sessions"
    elif attribute == SESSION_PAGEVIEWS:
        head = f"Only from page view {value} of a session on"
    elif operator == IS_NOT:
        head = f"Not for visitors whose {_label(attribute)} is “{value}”"
    else:
        operator_label = OPERATOR_LABELS.get(operator, operator)
        head = f"Only for visitors whose {_label(attribute)} {operator_label} “{value}”"
    return f"{head}; {_actual(attribute, _visit_value(visit, attribute))}."


# --- Conditions that no visit can meet -------------------------------------------------------

_STRINGS = (REFERRER, UTM_SOURCE, UTM_MEDIUM, UTM_CAMPAIGN, LANGUAGE)


def contradiction(conditions: list[dict]) -> str | None:
    """The conditions that no visit can meet together, in words (“On a phone; On a desktop”),
    or None when some visit meets them all. Each attribute is checked on its own, except
    `visitor`, which is the session count seen another way (new = first session)."""
    for group in ((DEVICE,), (SESSIONS, VISITOR), *((name,) for name in _STRINGS)):
        members = [c for c in conditions if isinstance(c, dict) and c.get("attribute") in group]
        if members and not any(
            audience_matches(members, visit) for visit in _visits_to_try(group, members)
        ):
            return "; ".join(describe_condition(condition) for condition in members)
    return None


def _visits_to_try(group: tuple[str, ...], members: list[dict]) -> list[Visit]:
    """Visits among which one meets `members` if any visit does (their attribute only)."""
    if group == (DEVICE,):
        return [Visit(device=device) for device in CHOICES[DEVICE]]
    if group == (SESSIONS, VISITOR):
        at_least = {c["value"] for c in members if c["attribute"] == SESSIONS}
        return [Visit(sessions=count) for count in {1, 2, *at_least}]
    (attribute,) = group
    exact = [c["value"] for c in members if c["operator"] == IS]
    if exact:
        return [Visit(**{_VISIT_FIELD[attribute]: value.lower()}) for value in exact]
    # Without `is`: the longest prefix asked for, every text it must contain, and an ending no
    # `is_not` names. Prefixes that are not prefixes of each other meet nothing.
    prefixes = sorted(
        (c["value"].lower() for c in members if c["operator"] == STARTS_WITH), key=len
    )
    if any(not prefixes[-1].startswith(prefix) for prefix in prefixes):
        return []
    contained = "".join(c["value"].lower() for c in members if c["operator"] == CONTAINS)
    value = (prefixes[-1] if prefixes else "") + contained + "\uffff"
    return [Visit(**{_VISIT_FIELD[attribute]: value})]


_VISIT_FIELD = {REFERRER: "referrer_domain", **{name: name for name in _STRINGS[1:]}}
