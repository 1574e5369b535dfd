"""Things worth a second look on Review and the message page, which do not block launching.

Campaigns' own (page rules, goal vs. content, in-app switch, close control) are decided here;
the apps above campaigns add theirs through the `message_warnings` signal (delivery: another
message takes the slot, the goal's event was never received), since campaigns imports none of
them (README, Layout).
"""

from dataclasses import dataclass

from lxml import etree

from campaigns.audience import contradiction
from campaigns.models import DisplayType, FrequencyMode, GoalTrigger, Platform
from campaigns.signals import message_warnings as message_warnings_signal

# Displays that stay on the page until closed (a modal also closes on Escape).
NEEDS_CLOSE_CONTROL = (DisplayType.OVERLAY, DisplayType.BANNER, DisplayType.INLINE)


@dataclass(frozen=True)
class Warning:
    text: str
    step: str = ""  # slug of the wizard step that fixes it
    # Set when visitors on the message's pages do not get it at all: the page's state line
    # says so ("Live, but …") instead of "visitors on matching pages see it".
    blocks: str = ""
    # Set when visitors on some of its pages do not get it: "Live: …, except …".
    limits: str = ""
    link_url: str = ""  # e.g. the rival message
    link_text: str = ""


def platform_note(platforms: set[str]) -> str:
    """Said once, on the rules step, where the platforms are chosen: most workspaces are
    web-only, so repeating it on Review and on the message page was noise."""
    if not platforms or platforms == set(Platform.values):
        return ""
    shown = [Platform(p).label for p in Platform.values if p in platforms]
    missing = [Platform(p).label for p in Platform.values if p not in platforms]
    return (
        f"Rules for {' and '.join(shown)} only: the message is not shown on "
        f"{' or '.join(missing)} (add a rule for that platform to show it there too)."
    )


def message_warnings(message, *, workspace) -> list[Warning]:
    warnings = []
    platforms = {rule.platform for rule in message.rules.all()}
    if not platforms:
        warnings.append(
            Warning("No page rules: this message shows on every page (and app screen).", "rules")
        )
    actions = message.content_actions
    if message.goal_trigger == GoalTrigger.CLICK and message.content_html and not actions:
        warnings.append(
            Warning(
                "The goal counts clicks on tracked actions, but the content has none: add a "
                "button with an action name, or count views instead.",
                "content",
            )
        )
    if close := close_control_warning(message):
        warnings.append(close)
    if touch := touch_trigger_warning(message):
        warnings.append(touch)
    if impossible := contradiction(message.audience or []):
        warnings.append(
            Warning(
                f"Its audience conditions cannot all hold at once ({impossible}): nobody will "
                "see it. Remove or change one of them.",
                "rules",
                blocks="no visitor can meet all of its audience conditions",
            )
        )
    if not workspace.inapp_enabled:
        warnings.append(
            Warning(
                "In-app messages are switched off for this workspace (Settings → In-app): "
                "nobody sees this message until they are switched on.",
                blocks="in-app messages are switched off for this workspace, so nobody sees it",
            )
        )
    for _receiver, answer in message_warnings_signal.send(
        sender=type(message), message=message, workspace=workspace
    ):
        warnings.extend(answer or ())
    return warnings


def touch_trigger_warning(message) -> Warning | None:
    """Exit intent without a fallback never fires on phones and tablets (no pointer leaves)."""
    trigger = message.trigger or {}
    if trigger.get("type") != "exit_intent" or trigger.get("fallbackSeconds"):
        return None
    touch_device = next(
        (
            condition["value"]
            for condition in message.audience or ()
            if condition["attribute"] == "device"
            and condition["operator"] == "is"
            and condition["value"] in ("phone", "tablet")
        ),
        None,
    )
    fix = "Set “On phones and tablets, show it after” on the Frequency step."
    if touch_device:
        return Warning(
            "Its trigger is exit intent, which never fires on phones and tablets, and its "
            f"audience is on a {touch_device}: nobody will see it. {fix}",
            "frequency",
            blocks="its exit-intent trigger never fires on the touch devices of its audience",
        )
    return Warning(
        f"Exit intent never fires on phones and tablets: visitors on them never see it. {fix}",
        "frequency",
        limits="on phones and tablets (exit intent without a fallback)",
    )


def close_control_warning(message) -> Warning | None:
    """An overlay, banner or inline message without a close control cannot be closed."""
    if message.display_type not in NEEDS_CLOSE_CONTROL or not message.content_html.strip():
        return None
    if has_close_control(message.content_html):
        return None
    kind = DisplayType(message.display_type).label.lower()
    labels = [f"“{action['label']}”" for action in message.content_actions]
    if labels:
        way_out = f"visitors can only close it by clicking {' or '.join(labels)}"
    else:
        way_out = "visitors cannot close it at all"
    match message.frequency_mode:
        case FrequencyMode.UNTIL_DISMISSED:
            tail = "with “until dismissed” it never goes away" + (
                " for those who do not click" if labels else ""
            )
        case FrequencyMode.ALWAYS:
            tail = "with “show always” it comes back on every matching page"
        case _:
            tail = f"it shows on up to {message.frequency_times} page views each"
    return Warning(
        f"This {kind} has no close control: {way_out}, and {tail}. Add a close button "
        "(the builder's “Show a close button (×)”, or an element with data-dismiss).",
        "content",
    )


def has_close_control(html: str) -> bool:
    """Whether the HTML has an element with `data-dismiss` (campaigns.content: a close control).

    Saved HTML is at most content.MAX_HTML_BYTES and has passed its element caps."""
    try:
        root = etree.fromstring(html, etree.HTMLParser(no_network=True))
    except etree.LxmlError:  # nothing a browser would refuse: then do not warn either
        return True
    return root is None or bool(root.xpath("//*[@data-dismiss]"))
