"""Which live messages are kept off their pages by another message in the same display slot.

Pure. A message is outranked on a page when its rules, schedule and state let it show there
but an earlier message in delivery order (lower priority number, or same priority and older)
takes its slot first (eligibility's `display_slot_taken`; a rival that waits for a trigger
takes no slot, unless the slot is full of them). Whether two sets of page rules
overlap cannot be decided in general (regexes), so this checks concrete pages: examples read
from every message's rules plus the pages visitors were recently on, and says which it checked.
The check is for a new visitor: a rival that stops showing (dismissed, seen N times) frees the
slot for that visitor later, which `Outranked.rival_keeps_slot` tells apart.

Audience conditions: the check is for a visitor whom every message's audience admits (a
message with conditions is still kept off its pages by a rival for everyone it targets), and
only a rival without conditions counts as taking the slot: one with conditions takes it from
some visitors only, which is not "blocked".
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from campaigns.rules import Page, screen_page, web_page
from delivery.sdk_api.eligibility import (
    DISPLAY_SLOT_TAKEN,
    ELIGIBLE,
    LiveMessage,
    allowed_by_rules,
    decide,
)

MAX_PAGES = 80
# Stand-in text for a wildcard when an example page is made from a `matches` rule.
WILDCARD_EXAMPLE = "example"


@dataclass(frozen=True)
class Outranked:
    """`message` is shown on `shown_on` pages and kept off `blocked_on` ones by `rival`."""

    message: LiveMessage
    rival: LiveMessage
    blocked_on: tuple[str, ...]
    shown_on: tuple[str, ...]

    @property
    def everywhere(self) -> bool:
        """Outranked on every checked page where it could show."""
        return not self.shown_on

    @property
    def rival_keeps_slot(self) -> bool:
        """The rival never stops showing to a visitor ("Show Always"), so neither does this."""
        return self.rival.frequency_mode == "always"


def example_pages(rules_of: Iterable[Sequence], recent: Iterable[str] = ()) -> list[Page]:
    """Concrete pages to check: one example per inclusion rule, then `recent` page URLs (or
    paths), then the home page; no duplicates, at most MAX_PAGES."""
    pages: dict[tuple[str, str], Page] = {}

    def add(page: Page | None) -> None:
        if page is not None and len(pages) < MAX_PAGES:
            pages.setdefault((page.platform, page.full), page)

    for rules in rules_of:
        for rule in rules:
            if not rule.exclude:
                add(_example(rule))
    for location in recent:
        try:
            add(web_page(location))
        except ValueError:
            continue
    add(web_page("/"))
    return list(pages.values())


def _example(rule) -> Page | None:
    value = rule.value.strip()
    if rule.operator in ("regex", "is_not", "not_contains") or not value:
        return None
    if rule.operator == "matches":
        value = value.replace("*", WILDCARD_EXAMPLE)
    if rule.platform != "web":
        return screen_page(rule.platform, value)
    if not value.startswith(("/", "?")):
        value = "/" + value
    try:
        return web_page(value)
    except ValueError:
        return None


def outranked_messages(
    messages: Sequence[LiveMessage], pages: Sequence[Page], *, now: datetime
) -> dict[int, Outranked]:
    """message id → how it is outranked, for the messages kept off at least one page.

    When several rivals take its slot, the one that does so on the most pages is named.
    """
    by_id = {message.id: message for message in messages}
    shown: dict[int, list[str]] = defaultdict(list)
    blocked: dict[int, dict[int, list[str]]] = defaultdict(lambda: defaultdict(list))
    for page in pages:
        # As delivery does: only the messages whose rules allow the page can take a slot
        # there (the others' reason would be `page_rule`, which costs a sentence each).
        allowed = allowed_by_rules(messages, (page,))
        candidates = [
            replace(message, audience=()) for message in messages if message.id in allowed
        ]
        for decision in decide(messages=candidates, page=page, now=now):
            if decision.reason == ELIGIBLE:
                shown[decision.message.id].append(describe_page(page))
            elif decision.reason == DISPLAY_SLOT_TAKEN:
                holder = decision.holder.id
                if not by_id[holder].audience:
                    blocked[decision.message.id][holder].append(describe_page(page))
    found = {}
    for message_id, rivals in blocked.items():
        rival_id, _pages = max(rivals.items(), key=lambda item: (len(item[1]), -item[0]))
        all_blocked = sorted({page for pages_ in rivals.values() for page in pages_})
        found[message_id] = Outranked(
            message=by_id[message_id],
            rival=by_id[rival_id],
            blocked_on=tuple(all_blocked),
            shown_on=tuple(shown[message_id]),
        )
    return found


def describe_page(page: Page) -> str:
    return page.full if page.platform == "web" else f"{page.full} ({page.platform} screen)"


def describe_slot(message: LiveMessage) -> str:
    """Where a message shows (its slot), as marketers name it."""
    if message.display_type == "modal":
        return "modal"
    if message.display_type == "overlay":
        return f"{message.display_position} corner"
    if message.display_type == "banner":
        return f"{message.display_position} banner"
    return f"element #{message.display_element_id}"
