"""When a message appears once delivery has chosen it: its display trigger (DESIGN.md §5).

Pure: the stored and App API shape is one dict, `{"type": …}` plus only the keys its type
uses. The server decides *whether* a visitor gets a message; the SDK waits for the trigger
and counts a view only when the message is really displayed.
"""

from dataclasses import dataclass

import cssselect

PAGE_LOAD = "page_load"
DELAY = "delay"
SCROLL = "scroll"
EXIT_INTENT = "exit_intent"
INACTIVITY = "inactivity"
CLICK = "click"

TYPES = {
    PAGE_LOAD: "On page load",
    DELAY: "After N seconds on the page",
    SCROLL: "After scrolling N % of the page",
    EXIT_INTENT: "On exit intent (desktop)",
    INACTIVITY: "After N seconds of inactivity",
    CLICK: "On click of an element of your page",
}

# The keys each type uses, in the App API's spelling.
KEYS_BY_TYPE = {
    PAGE_LOAD: (),
    DELAY: ("seconds",),
    SCROLL: ("percent",),
    EXIT_INTENT: ("fallbackSeconds",),
    INACTIVITY: ("seconds",),
    CLICK: ("selector",),
}

MIN_SECONDS, MAX_SECONDS = 1, 600
MIN_PERCENT, MAX_PERCENT = 1, 100
MAX_SELECTOR = 200
# Exit intent needs the visitor to have been on the page this long (the SDK enforces it).
EXIT_INTENT_MIN_SECONDS = 2


def default_trigger() -> dict:
    return {"type": PAGE_LOAD}


@dataclass(frozen=True)
class TriggerError(Exception):
    """`field` is the App API key inside `trigger` ("type", "seconds", …)."""

    field: str
    message: str


def _whole_number(value, *, field: str, low: int, high: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().isdecimal() and len(value.strip()) < 10:
            value = int(value.strip())
        else:
            raise TriggerError(field, f"Enter {what} as a whole number from {low} to {high}.")
    if not low <= value <= high:
        raise TriggerError(field, f"Enter {what} from {low} to {high}.")
    return value


def check_selector(selector) -> str:
    """The selector, trimmed, if a CSS parser accepts it (the SDK also skips one the browser
    rejects, so a selector valid here but not in a browser hides only its own message)."""
    if not isinstance(selector, str) or not selector.strip():
        raise TriggerError(
            "selector", "Enter the CSS selector of the element, e.g. #signup-button."
        )
    selector = selector.strip()
    if len(selector) > MAX_SELECTOR:
        raise TriggerError("selector", f"Keep the selector under {MAX_SELECTOR} characters.")
    try:
        cssselect.parse(selector)
    except cssselect.SelectorError as exc:
        raise TriggerError(
            "selector", f"“{selector}” is not a CSS selector ({exc}). Example: #signup-button"
        ) from None
    return selector


def normalise_trigger(raw) -> dict:
    """The stored trigger for `raw` (None = on page load), or TriggerError naming the key.
    Keys that the type does not use are dropped, so stored triggers have one shape."""
    if raw is None:
        return default_trigger()
    if not isinstance(raw, dict):
        raise TriggerError("type", "The trigger must be an object with a type.")
    kind = raw.get("type", PAGE_LOAD)
    if not isinstance(kind, str) or kind not in TYPES:  # a list is unhashable
        raise TriggerError("type", f"Unknown trigger type; use one of {', '.join(TYPES)}.")
    trigger = {"type": kind}
    if kind in (DELAY, INACTIVITY):
        trigger["seconds"] = _whole_number(
            raw.get("seconds"), field="seconds", low=MIN_SECONDS, high=MAX_SECONDS, what="seconds"
        )
    elif kind == SCROLL:
        trigger["percent"] = _whole_number(
            raw.get("percent"),
            field="percent",
            low=MIN_PERCENT,
            high=MAX_PERCENT,
            what="the scroll depth in percent",
        )
    elif kind == EXIT_INTENT:
        fallback = raw.get("fallbackSeconds")
        trigger["fallbackSeconds"] = (
            None
            if fallback in (None, "")
            else _whole_number(
                fallback,
                field="fallbackSeconds",
                low=MIN_SECONDS,
                high=MAX_SECONDS,
                what="the fallback seconds",
            )
        )
    elif kind == CLICK:
        trigger["selector"] = check_selector(raw.get("selector"))
    return trigger


def describe_trigger(trigger: dict | None) -> str:
    """“After 5 seconds on the page” — the trigger as a sentence for the Review step."""
    trigger = trigger or default_trigger()
    match trigger.get("type"):
        case "delay":
            return f"After {_seconds(trigger['seconds'])} on the page"
        case "scroll":
            return f"After the visitor scrolls {trigger['percent']} % of the page"
        case "exit_intent":
            text = "When the pointer leaves the window through the top (desktop)"
            fallback = trigger.get("fallbackSeconds")
            if fallback:
                return f"{text}; on touch devices after {_seconds(fallback)}"
            return f"{text}; never on touch devices"
        case "inactivity":
            return f"After {_seconds(trigger['seconds'])} without activity"
        case "click":
            return f"When the visitor clicks “{trigger['selector']}” on your page"
        case _:
            return "As soon as the page loads"


def _seconds(n: int) -> str:
    return f"{n} second{'' if n == 1 else 's'}"
