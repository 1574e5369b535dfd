"""Page-rule matching: which pages (web URLs or mobile screens) a message shows on.

Pure: plain values in, plain values out; no ORM. Semantics (DESIGN.md §2 "Page rules"):

- Web rules test the page's path plus query string (`/pricing?plan=pro`): scheme, host and
  fragment are dropped, the path's trailing slash is ignored and percent-escapes are decoded
  (`/caf%C3%A9` is `/café`). `is` / `is_not` compare the path only. `contains`,
  `not_contains`, `starts_with`, `ends_with` act on path+query. `matches` is a wildcard
  pattern (`*` = any run of characters) matched against the whole path, or the whole
  path+query when the pattern contains a `?`; `/blog/*` also matches `/blog` itself.
  `regex` searches path+query with a bounded pattern and a time limit.
- Rule values are forgiving where that cannot change their meaning: a pasted full URL
  (`https://example.com/pricing`) counts as its path and query, and a path-anchored value
  without its leading slash (`is pricing`) gets one. See docs/campaigns.md.
- Mobile rules (ios, android) test the screen name the same way.
- Case-insensitive unless the rule is case sensitive.
- A page matches when (its platform has no inclusion rule, or any inclusion rule matches) and
  no exclusion rule of its platform matches. No rules at all: every page of every platform.
  Rules for some platforms only: never on the others.
"""

import enum
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote, urlsplit

import regex

from campaigns.wildcards import count_wildcards, wildcard_match

logger = logging.getLogger(__name__)

PLATFORMS = ("web", "ios", "android")
OPERATORS = (
    "is",
    "is_not",
    "contains",
    "not_contains",
    "starts_with",
    "ends_with",
    "matches",
    "regex",
)
MAX_RULES_PER_MESSAGE = 100
MAX_VALUE_LENGTH = 500
MAX_REGEX_LENGTH = 300
# `matches` is linear whatever its stars (campaigns.wildcards); the cap keeps rules readable.
MAX_WILDCARDS = 20
# The regex module expands counted repeats when it compiles: `((a{1000}){1000}){1000}` asks
# for a billion-node program (and the memory to match). Nested counts multiply; cap the product.
MAX_REGEX_REPEAT = 1000
# A pathological pattern must never hold a delivery request: give up (no match) after this.
REGEX_TIMEOUT_SECONDS = 0.02


class RuleError(ValueError):
    """A rule that cannot be saved; the message says what to change."""

    def __init__(self, message: str, *, field: str):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Rule:
    platform: str
    operator: str
    value: str
    exclude: bool = False
    case_sensitive: bool = False


@dataclass(frozen=True)
class Page:
    """What a rule is tested against: `path` (used by is/is_not/matches) and `full` (path+query)."""

    platform: str
    path: str
    full: str


@dataclass(frozen=True)
class RuleResult:
    rule: Rule
    applies: bool  # the rule is for this page's platform
    matched: bool
    reason: str


@dataclass(frozen=True)
class Verdict:
    shows: bool
    reason: str
    results: tuple[RuleResult, ...]


def _strip_trailing_slash(path: str) -> str:
    return path.rstrip("/") or "/"


def web_page(url: str) -> Page:
    """A web page from a full URL or a path: `https://x.com/Pricing/?a=1#top` → /Pricing, /Pricing?a=1.

    Raises ValueError for what no browser could be on (`http://[::1`): callers answer with a
    400 or a form error.
    """
    url = (url or "").strip()
    parts = urlsplit(url)
    if not parts.scheme and not url.startswith("/") and not url.startswith("?"):
        # "pricing" or "example.com/pricing": treat a leading word with a dot as a host.
        first, _, rest = url.partition("/")
        parts = urlsplit("/" + rest) if "." in first else urlsplit("/" + url)
    path = _strip_trailing_slash(unquote(parts.path or "/"))
    if not path.startswith("/"):
        path = "/" + path
    full = f"{path}?{unquote(parts.query)}" if parts.query else path
    return Page(platform="web", path=path, full=full)


def screen_page(platform: str, screen: str) -> Page:
    screen = (screen or "").strip()
    return Page(platform=platform, path=screen, full=screen)


# Operators whose value is anchored at the start of the path: a missing leading slash is added.
_PATH_ANCHORED = ("is", "is_not", "starts_with", "matches")


@lru_cache(maxsize=4096)
def _normalise_value(rule: Rule) -> str:
    value = rule.value.strip()
    if rule.platform != "web" or rule.operator == "regex":
        return value
    if value.lower().startswith(("http://", "https://")):
        try:
            parts = urlsplit(value)
        except ValueError:  # not a URL after all (`http://[::1`): matched as written
            parts = None
        if parts is not None:
            value = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    value = unquote(value.split("#", 1)[0])
    if rule.operator in _PATH_ANCHORED and not value.startswith(("/", "*", "?")):
        value = "/" + value
    if rule.operator in ("is", "is_not"):
        value = _strip_trailing_slash(value.split("?", 1)[0])
    elif rule.operator == "matches" and "?" not in value and not value.endswith("*"):
        value = _strip_trailing_slash(value)
    return value


def _target(rule: Rule, value: str, page: Page) -> str:
    """What the rule looks at: the path alone, or the path and query string."""
    if rule.operator in ("is", "is_not") or (rule.operator == "matches" and "?" not in value):
        return page.path
    return page.full


def rule_matches(rule: Rule, page: Page) -> bool:
    """Whether one rule's condition holds for the page (ignores platform and exclusion).

    An unknown operator raises ValueError; `evaluate` reports it as a rule that never matches.
    """
    value = _normalise_value(rule)
    path, full = page.path, page.full
    if rule.operator == "regex":
        return regex_search(value, full, case_sensitive=rule.case_sensitive)
    if rule.operator == "matches":
        target = _target(rule, value, page)
        if not rule.case_sensitive:
            value, target, path = value.casefold(), target.casefold(), path.casefold()
        if wildcard_match(value, target):
            return True
        # The trailing slash is ignored: `/blog/*` matches `/blog/`, which is `/blog`.
        return (
            page.platform == "web"
            and target == path
            and not path.endswith("/")
            and wildcard_match(value, path + "/")
        )
    if not rule.case_sensitive:
        value, path, full = value.casefold(), path.casefold(), full.casefold()
    match rule.operator:
        case "is":
            return path == value
        case "is_not":
            return path != value
        case "contains":
            return value in full
        case "not_contains":
            return value not in full
        case "starts_with":
            return full.startswith(value)
        case "ends_with":
            return full.endswith(value)
    raise ValueError(f"Unknown operator {rule.operator!r}")


# Patterns that timed out in this process: each is logged once, not on every request.
_timed_out: set[str] = set()


def regex_search(pattern: str, text: str, *, case_sensitive: bool = False) -> bool:
    """Whether the pattern occurs in the text; a pattern that errs or runs out of time (a
    backtracking one, say) does not match: delivery, the tester and previews all fail closed."""
    flags = 0 if case_sensitive else regex.IGNORECASE
    try:
        return regex.search(pattern, text, flags=flags, timeout=REGEX_TIMEOUT_SECONDS) is not None
    except (regex.error, TimeoutError) as exc:
        if pattern not in _timed_out:
            if len(_timed_out) >= 1000:
                _timed_out.clear()
            _timed_out.add(pattern)
            logger.warning(
                "Page rule regex %r gave up on a %d-character page (%s): treated as not "
                "matching. Simplify the rule.",
                pattern,
                len(text),
                "time limit" if isinstance(exc, TimeoutError) else exc,
            )
        return False


class Outcome(enum.Enum):
    """How a message's rules decide about a page (DESIGN.md §2), and whether it shows."""

    NO_RULES = "no rules"
    NO_RULE_FOR_PLATFORM = "no rule for the platform"
    EXCLUDED = "excluded"
    NO_EXCLUSION_MATCHES = "no exclusion matches"
    INCLUDED = "included"
    NO_INCLUSION_MATCHES = "no inclusion matches"

    @property
    def shows(self) -> bool:
        return self in _SHOWING


_SHOWING = frozenset({Outcome.NO_RULES, Outcome.NO_EXCLUSION_MATCHES, Outcome.INCLUDED})


def combine(matches: Iterable[tuple[bool, bool]], *, has_rules: bool) -> Outcome:
    """The one place rules are combined. `matches`: (exclude, matched) for each rule of the
    page's platform, read lazily: the first matching exclusion decides without the rest."""
    if not has_rules:
        return Outcome.NO_RULES
    applicable = has_inclusion = included = False
    for exclude, matched in matches:
        applicable = True
        if exclude:
            if matched:
                return Outcome.EXCLUDED
        else:
            has_inclusion = True
            included = included or matched
    if not applicable:
        return Outcome.NO_RULE_FOR_PLATFORM
    if not has_inclusion:
        return Outcome.NO_EXCLUSION_MATCHES
    return Outcome.INCLUDED if included else Outcome.NO_INCLUSION_MATCHES


def _matched(rule: Rule, page: Page) -> bool:
    try:
        return rule_matches(rule, page)
    except ValueError:  # an unknown operator never matches
        return False


def allows(rules: Sequence[Rule], page: Page) -> bool:
    """`evaluate(rules, page).shows` without the explanations (delivery memoises it)."""
    return combine(
        ((rule.exclude, _matched(rule, page)) for rule in rules if rule.platform == page.platform),
        has_rules=bool(rules),
    ).shows


def evaluate(rules: list[Rule] | tuple[Rule, ...], page: Page) -> Verdict:
    """Whether a message with these rules shows on the page, with a per-rule explanation."""
    results = []
    for rule in rules:
        if rule.platform != page.platform:
            mine, theirs = (PLATFORM_LABELS.get(p, p) for p in (rule.platform, page.platform))
            results.append(RuleResult(rule, False, False, f"a rule for {mine}, not {theirs}"))
            continue
        try:
            matched = rule_matches(rule, page)
        except ValueError:
            reason = f"unknown operator “{rule.operator}”: this rule never matches"
            results.append(RuleResult(rule, True, False, reason))
            continue
        results.append(RuleResult(rule, True, matched, _describe(rule, page, matched)))

    outcome = combine(
        ((r.rule.exclude, r.matched) for r in results if r.applies), has_rules=bool(rules)
    )
    return Verdict(outcome.shows, _reason(outcome, results, page), tuple(results))


def _reason(outcome: Outcome, results: list[RuleResult], page: Page) -> str:
    match outcome:
        case Outcome.NO_RULES:
            return "No page rules: shows on every page of every platform."
        case Outcome.NO_RULE_FOR_PLATFORM:
            platform = PLATFORM_LABELS.get(page.platform, page.platform)
            return f"No rule for {platform}: the message never shows there."
        case Outcome.EXCLUDED | Outcome.INCLUDED:
            exclude = outcome is Outcome.EXCLUDED
            first = next(
                r for r in results if r.applies and r.matched and r.rule.exclude == exclude
            )
            return f"{outcome.value.capitalize()} by: {_rule_text(first.rule)}."
        case Outcome.NO_EXCLUSION_MATCHES:
            return "No exclusion rule matches."
    return "No inclusion rule matches."


PLATFORM_LABELS = {"web": "web", "ios": "iOS", "android": "Android"}

# How a rule reads when its condition holds, and when it does not.
_PHRASES = {
    "is": ("is", "is not"),
    "is_not": ("is not", "is"),
    "contains": ("contains", "does not contain"),
    "not_contains": ("does not contain", "contains"),
    "starts_with": ("starts with", "does not start with"),
    "ends_with": ("ends with", "does not end with"),
    "matches": ("matches", "does not match"),
    "regex": ("matches the regex", "does not match the regex"),
}


def operator_phrase(operator: str) -> str:
    """How an operator reads in a sentence: "starts with", "matches the regex"."""
    return _PHRASES.get(operator, (operator, ""))[0]


def _subject(rule: Rule) -> str:
    """What the rule looks at: "web path", "web URL" (path and query) or "iOS screen"."""
    if rule.platform != "web":
        return f"{PLATFORM_LABELS.get(rule.platform, rule.platform)} screen"
    value = _normalise_value(rule)
    looks_at_path = rule.operator in ("is", "is_not") or (
        rule.operator == "matches" and "?" not in value
    )
    return "web path" if looks_at_path else "web URL"


def _rule_text(rule: Rule) -> str:
    """The rule in words: `web URL contains “plan=pro”`, `iOS screen is “Checkout”`."""
    phrase = _PHRASES.get(rule.operator, (rule.operator, ""))[0]
    case = " (case sensitive)" if rule.case_sensitive else ""
    return f"{_subject(rule)} {phrase} “{rule.value}”{case}"


def _describe(rule: Rule, page: Page, matched: bool) -> str:
    """`path “/blog/x” matches “/blog/*”`: the page's value, then what the rule asks of it."""
    target = _target(rule, _normalise_value(rule), page)
    what = _subject(rule).split(" ", 1)[1]
    yes, no = _PHRASES.get(rule.operator, (rule.operator, f"not {rule.operator}"))
    return f"{what} “{target}” {yes if matched else no} “{rule.value}”"


OPERATOR_LABELS = (
    ("is", "is"),
    ("is_not", "is not"),
    ("contains", "contains"),
    ("not_contains", "does not contain"),
    ("starts_with", "starts with"),
    ("ends_with", "ends with"),
    ("matches", "matches"),
    ("regex", "matches regex"),
)


def validate_rule(*, platform: str, operator: str, value: str) -> None:
    """Raise RuleError (naming the field) if a rule cannot be saved."""
    if platform not in PLATFORMS:
        raise RuleError(
            f"Unknown platform “{platform}”: use one of {', '.join(PLATFORMS)}.", field="platform"
        )
    if operator not in OPERATORS:
        raise RuleError(
            f"Unknown operator “{operator}”: use one of {', '.join(OPERATORS)}.", field="operator"
        )
    value = (value or "").strip()
    if not value:
        raise RuleError(
            "Enter a value, e.g. /pricing (web) or Checkout (mobile screen).", field="value"
        )
    if len(value) > MAX_VALUE_LENGTH:
        raise RuleError(f"The value is longer than {MAX_VALUE_LENGTH} characters.", field="value")
    if operator == "matches" and count_wildcards(value) > MAX_WILDCARDS:
        raise RuleError(
            f"A pattern has at most {MAX_WILDCARDS} * wildcards; one * already stands for any "
            "run of characters.",
            field="value",
        )
    if operator == "regex":
        if len(value) > MAX_REGEX_LENGTH:
            raise RuleError(
                f"Regular expressions are limited to {MAX_REGEX_LENGTH} characters; "
                "split it into several rules or use “matches” with * wildcards.",
                field="value",
            )
        if regex_repeat(value) > MAX_REGEX_REPEAT:
            raise RuleError(
                f"This regular expression repeats too much: counted repeats such as {{3}} may "
                f"multiply to at most {MAX_REGEX_REPEAT}. Use + or * instead of large counts.",
                field="value",
            )
        try:
            regex.compile(value)
        except regex.error as exc:
            raise RuleError(
                f"This regular expression does not compile ({exc}): check its brackets and "
                "escape special characters with \\, or use “matches” with * wildcards.",
                field="value",
            ) from None
        if backtracks(value):
            raise RuleError(
                "This regular expression takes too long on long URLs (nested repeats such as "
                "(a+)+ or (a|aa)+ backtrack): simplify it, or use “matches” with * wildcards.",
                field="value",
            )


def backtracks(pattern: str) -> bool:
    """Whether the pattern, which repeats a group (the shape of catastrophic backtracking:
    `(a+)+`, `(a|aa)+`), runs out of time on a probe: a long run of one character with a
    mismatch at the end. A heuristic that refuses most such rules on save; the time limit at
    match time stays the guarantee. At most four short probes, so validating a hundred rules
    stays well under a second."""
    if not _REPEATED_GROUP.search(pattern):
        return False
    own = [c for c in dict.fromkeys(pattern) if c.isalnum()][:2]
    for character in dict.fromkeys(["a", "1", *own]):
        probe = "/" + character * 2000 + "\x00"
        try:
            regex.search(pattern, probe, flags=regex.IGNORECASE, timeout=PROBE_TIMEOUT_SECONDS)
        except TimeoutError:
            return True
        except regex.error:
            return False
    return False


_REPEATED_GROUP = regex.compile(r"\)[*+{]")
# Stricter than at match time: a rule that needs 10 ms for one URL is too slow to save.
PROBE_TIMEOUT_SECONDS = 0.01
_COUNTED_REPEAT = regex.compile(r"\{(\d*)(?:,(\d*))?\}")


def regex_repeat(pattern: str) -> int:
    """The largest product of nested counted repeats (`{n}`, `{n,m}`, `{n,}`) in the pattern.

    `(a{10}){20}` → 200. A cheap scan (escapes and character classes skipped), run before
    compiling, because compiling is what expands the repeats.
    """
    groups = [1]  # per open group: the largest product seen inside it
    last = 1  # the product of the atom just read (a group's comes from its contents)
    index, length = 0, len(pattern)
    while index < length:
        char = pattern[index]
        if char == "\\":
            escaped = pattern[index + 1 : index + 2]
            index += 2
            if escaped in ("p", "P", "N", "x") and pattern[index : index + 1] == "{":
                index = pattern.find("}", index) + 1 or length  # \p{Lu}: a name, not a count
            last = 1
            continue
        if char == "[":
            index = _class_end(pattern, index)
            last = 1
            continue
        if char == "(":
            groups.append(1)
        elif char == ")" and len(groups) > 1:
            last = groups.pop()
            groups[-1] = max(groups[-1], last)
        elif char == "{" and (count := _COUNTED_REPEAT.match(pattern, index)):
            numbers = [int(number) for number in count.groups() if number]
            last *= max(numbers, default=1)
            groups[-1] = max(groups[-1], last)
            if last > MAX_REGEX_REPEAT:
                return last
            index = count.end()
            continue
        else:
            last = 1
        index += 1
    return max(groups)


def _class_end(pattern: str, start: int) -> int:
    """The index after the character class that opens at `start` (`[]a]`, `[^]a]`, `[\\]]`)."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "^":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern):
        if pattern[index] == "\\":
            index += 2
            continue
        if pattern[index] == "]":
            return index + 1
        index += 1
    return len(pattern)
