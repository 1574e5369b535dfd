"""Message content: validation, what is read from the HTML (tracked actions, the label
visitors hear), and the simple builder.

Pure: plain values in, plain values out. Conventions the SDK relies on:

- A tracked action is any element with `data-action="<name>"`; its URL is `data-url`, or the
  `href` of a link. Clicking it reports `clicked_content` with that name, then follows the URL.
- A close control is any element with `data-dismiss`; clicking it reports `dismissed_content`.
- A plain link is an element with `data-link` (its URL is `data-url`, or the `href` of a link):
  the SDK takes the visitor there and reports nothing. Any other link opens in a new tab.
- A lead capture form is an element with `data-lead` holding an `email` input (and optionally a
  `name` input) and a submit button with `data-action`: the SDK identifies the visitor by the
  e-mail, reports a click on that action, then shows the `[data-lead-thanks]` element.
- An action's URL must be http(s), relative (`/signup`), `mailto:` or `tel:`: the SDK follows
  it on the visitor's page, so `javascript:` and `data:` URLs are refused.
- The message's label (its accessible name for visitors: the iframe's title, the dialog's
  name) is the text of its first heading, else "Message"; never the marketer's internal name.

Everything here runs in linear time on hostile input: the HTML is read by libxml2's HTML
parser (lxml) with caps on elements, attributes and depth, and Liquid is found with two
`str.find`s. Saved messages keep what was read (`AnonymousMessage.content_actions`,
`content_label`), so delivery never parses HTML.
"""

import re
from dataclasses import dataclass
from html import escape

from lxml import etree

MAX_HTML_BYTES = 64 * 1024
MAX_ACTION_NAME = 100
MAX_LABEL = 200
MAX_LINKS = 100  # plain links whose URLs are checked; a message has a handful
# Far above what a message needs (the builder writes ~15 elements), far below what makes
# reading it slow; each is checked as the parser goes, so it stops at the first excess.
MAX_ELEMENTS = 5_000
MAX_ATTRIBUTES = 100  # on one element
MAX_DEPTH = 256  # no message nests this deep; hostile HTML does
MAX_NESTED_LABELS = 8  # actions nested in actions whose labels read the same text
DEFAULT_LABEL = "Message"
HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
ACTION_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
SAFE_URL_SCHEMES = ("http", "https", "mailto", "tel")


class ContentError(ValueError):
    def __init__(self, message: str, *, field: str = "html"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Action:
    """A tracked action of a message: its `data-action` name, its text, its URL (if any).
    Delivery serves these too (delivery/sdk_api/eligibility.LiveMessage.actions)."""

    name: str
    label: str
    url: str = ""


@dataclass(frozen=True)
class ContentSummary:
    """What the rest of the product needs from a message's HTML."""

    actions: tuple[Action, ...]
    label: str
    link_urls: tuple[str, ...] = ()


def find_liquid(text: str) -> str | None:
    """The first Liquid output `{{ … }}` or tag `{% … %}` in the text, or None.

    Linear: the leftmost opening that is closed somewhere after it is the first construct (a
    lazy regex retried at every `{` was quadratic: 65,000 `{` took 14 s).
    """
    found = None
    for opening, closing in (("{{", "}}"), ("{%", "%}")):
        start = text.find(opening)
        if start < 0:
            continue
        end = text.find(closing, start + 2)
        if end >= 0 and (found is None or start < found[0]):
            found = (start, end + 2)
    return text[found[0] : found[1]] if found else None


def validate_html(html: str) -> None:
    """Raise ContentError with what to do if the HTML cannot be delivered."""
    if not (html or "").strip():
        raise ContentError("The message has no content: write some HTML or use the builder.")
    size = len(html.encode())
    if size > MAX_HTML_BYTES:
        raise ContentError(
            f"The HTML is {size:,} bytes; the limit is {MAX_HTML_BYTES:,}. "
            "Host large images elsewhere and link them with <img src>, and remove unused CSS."
        )
    liquid = find_liquid(html)
    if liquid:
        raise ContentError(
            f"Liquid is not supported in anonymous messages (found “{liquid[:40]}”): the visitor "
            "is anonymous, so there is nothing to personalise. Replace it with plain text."
        )
    summary = summarise_html(html)
    for url in summary.link_urls:
        if url and not is_safe_url(url):
            raise ContentError(
                f"The URL of a link is not allowed ({url[:40]}): use an https:// address or a "
                "path on your site such as /pricing."
            )
    for action in summary.actions:
        if not ACTION_NAME.match(action.name) or len(action.name) > MAX_ACTION_NAME:
            raise ContentError(
                f"The action name “{action.name[:40]}” is not valid: use letters, digits, - _ . : "
                f'(at most {MAX_ACTION_NAME} characters), e.g. data-action="signup".'
            )
        if action.url and not is_safe_url(action.url):
            raise ContentError(
                f"The URL of the action “{action.name}” is not allowed ({action.url[:40]}): "
                "use an https:// address or a path on your site such as /signup."
            )


def is_safe_url(url: str) -> bool:
    """Whether the SDK may follow this URL: http(s), mailto, tel, or relative (no scheme)."""
    url = "".join(url.split()).lower()  # browsers ignore whitespace and control characters
    scheme, colon, _ = url.partition(":")
    if not colon or "/" in scheme or "?" in scheme or "#" in scheme:
        return True  # relative: /signup, ../x, ?a=1, #top
    return scheme in SAFE_URL_SCHEMES


class _ContentReader:
    """An lxml parser target: sees each element as the parser meets it, builds no tree.

    The parser reports every element's end, implied ones included, so the stack stays
    balanced. Each stack entry carries the actions whose label is still being read, so text
    is added to them directly (not by walking the stack: that was quadratic in depth).
    """

    def __init__(self):
        self.actions: list[tuple[str, str, list[str]]] = []  # name, url, label parts
        self.link_urls: list[str] = []  # of plain links (data-link)
        self.stack: list[tuple[str, tuple[int, ...]]] = []
        self.elements = 0
        self.heading: list[str] | None = None  # the text of the heading being read
        self.heading_depth = 0
        self.label = ""

    def start(self, tag, attrib):
        self.elements += 1
        if self.elements > MAX_ELEMENTS:
            raise ContentError(
                f"The HTML has more than {MAX_ELEMENTS:,} elements: a message needs far "
                "fewer. Remove repeated or empty elements."
            )
        if len(attrib) > MAX_ATTRIBUTES:
            raise ContentError(
                f"An element <{tag}> has {len(attrib):,} attributes; the limit is {MAX_ATTRIBUTES}."
            )
        if len(self.stack) >= MAX_DEPTH:
            raise ContentError(
                f"The HTML nests elements more than {MAX_DEPTH} deep: close your elements "
                "(unclosed elements nest each following one)."
            )
        reading = self.stack[-1][1] if self.stack else ()
        if "data-link" in attrib and len(self.link_urls) < MAX_LINKS:
            url = attrib.get("data-url") or (attrib.get("href") if tag == "a" else "") or ""
            self.link_urls.append(url.strip())
        name = attrib.get("data-action")
        if name is not None:
            url = attrib.get("data-url") or (attrib.get("href") if tag == "a" else "") or ""
            label = attrib.get("aria-label") or attrib.get("value") or ""
            self.actions.append((name.strip(), url.strip(), [label] if label else []))
            if not label:  # an aria-label is the element's name: its text ("×") is not
                # Actions inside actions (invalid HTML) share their text; only the innermost
                # few read it, so text costs a bounded number of appends however deep they nest.
                reading = (*reading, len(self.actions) - 1)[-MAX_NESTED_LABELS:]
        self.stack.append((tag, reading))
        if tag in HEADINGS and self.heading is None and not self.label:
            self.heading, self.heading_depth = [], len(self.stack)

    def end(self, tag):
        if self.heading is not None and len(self.stack) == self.heading_depth:
            self.label = " ".join("".join(self.heading).split())[:MAX_LABEL]
            self.heading = None  # an empty heading: the next one may name the message
        if self.stack:
            self.stack.pop()

    def data(self, text):
        if self.stack:
            for index in self.stack[-1][1]:
                self.actions[index][2].append(text)
        if self.heading is not None:
            self.heading.append(text)

    def comment(self, text):
        pass

    def close(self):
        return self


def summarise_html(html: str) -> ContentSummary:
    """The tracked actions (document order, one per name: the first wins) and the label.

    Raises ContentError (saying what to change) for HTML over the element, attribute or
    depth caps.
    """
    reader = _ContentReader()
    if (html or "").strip():
        parser = etree.HTMLParser(target=reader, no_network=True, remove_comments=True)
        try:
            parser.feed(html)
            parser.close()
        except etree.LxmlError:  # nothing a browser would refuse: keep what was read
            pass
    seen: dict[str, Action] = {}
    for name, url, parts in reader.actions:
        if name and name not in seen:
            label = " ".join("".join(parts).split()) or name
            seen[name] = Action(name=name, label=label[:MAX_LABEL], url=url)
    return ContentSummary(
        actions=tuple(seen.values()),
        label=reader.label or DEFAULT_LABEL,
        link_urls=tuple(reader.link_urls),
    )


def extract_actions(html: str) -> list[Action]:
    """The tracked actions in the HTML, in document order, one per name (first wins)."""
    return list(summarise_html(html).actions)


# The kinds of builder button: what a click means.
ACTION_BUTTON = "action"  # a tracked action: reports a click (and follows its URL, if any)
CLOSE_BUTTON = "close"  # a close control: reports a dismissal, never a click
LINK_BUTTON = "link"  # a plain link: takes the visitor to its URL, reports nothing
BUTTON_KINDS = (ACTION_BUTTON, CLOSE_BUTTON, LINK_BUTTON)
# What a lead form accepts: the browser SDK checks the same (static/delivery/sdk.js).
MAX_LEAD_EMAIL = 254
MAX_LEAD_NAME = 100
DEFAULT_LEAD_THANKS = "Thanks! You're on the list."
LEAD_EMAIL_ERROR = "Enter a valid e-mail address, e.g. name@example.com."

BUILDER_STYLE = """
<style>
  body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1f2b}
  [hidden]{display:none!important}
  .m{padding:28px 28px 24px;text-align:center;position:relative;background:#fff}
  .m img{max-width:100%;border-radius:8px;margin-bottom:16px}
  .m h1{font-size:22px;margin:0 0 8px}
  .m p{font-size:15px;line-height:1.5;color:#4b5060;margin:0 0 20px}
  .m .b{display:flex;gap:10px;justify-content:center;flex-wrap:wrap}
  .m .b a,.m .b button,.m .l button{font:inherit;font-weight:600;padding:10px 18px;border-radius:8px;border:1px solid #d5d8e2;background:#fff;color:#1c1f2b;cursor:pointer;text-decoration:none}
  .m .b .primary,.m .l .primary{background:#5b4cf0;border-color:#5b4cf0;color:#fff}
  .m .l{display:flex;flex-wrap:wrap;gap:8px;justify-content:center;margin:0 0 14px}
  .m .l input{font:inherit;flex:1 1 180px;min-width:0;padding:9px 12px;border:1px solid #c5c9d6;border-radius:8px}
  .m .l input[aria-invalid=true]{border-color:#c62f3b;outline-color:#c62f3b}
  .m .l .e{flex-basis:100%;order:1;margin:0;font-size:13px;color:#c62f3b;text-align:left}
  .m .l button{order:2}
  .m .ty{font-weight:600;color:#1c1f2b;margin:0 0 14px}
  .m .x{position:absolute;top:8px;right:10px;border:0;background:none;font-size:22px;line-height:1;color:#8a8fa0;cursor:pointer}
  .m.banner{display:flex;flex-wrap:wrap;align-items:center;gap:10px 16px;padding:12px 48px 12px 20px;text-align:left}
  .m.banner img{max-height:48px;width:auto;margin:0}
  .m.banner .t{flex:1 1 220px}
  .m.banner h1{font-size:16px;margin:0 0 2px}
  .m.banner p{font-size:14px;margin:0}
  .m.banner .l,.m.banner .ty{margin:0}
  .m.banner .l .e{order:3}
  .m.banner .l input{max-width:240px}
  .m.banner .x{top:50%;transform:translateY(-50%)}
</style>
""".strip()


def build_html(builder: dict, *, display_type: str = "modal") -> str:
    """HTML for the simple builder's fields: heading, text, image_url, lead, buttons,
    close_button.

    buttons: [{"kind": "action" | "close" | "link", "label": "Sign up", "action": "signup",
    "url": "https://…"}]; a button without a kind is a tracked action (builders saved before
    kinds existed). The first is primary, unless a lead form is (its submit button is).
    lead: None, or {"action": "subscribe", "button": "Subscribe", "ask_name": False,
    "thanks": "Thanks!"}: an e-mail form whose submit is the tracked action `action`.
    Paragraphs are separated by a blank line; a single line break stays a line break.
    A banner gets a one-line layout (image, text, form, buttons side by side); other types stack.
    Everything is escaped: the builder never lets markup through.
    """
    banner = display_type == "banner"
    parts = [BUILDER_STYLE, '<div class="m banner">' if banner else '<div class="m">']
    if builder.get("close_button", True):
        parts.append('<button class="x" data-dismiss aria-label="Close">×</button>')
    if builder.get("image_url"):
        parts.append(f'<img src="{escape(builder["image_url"])}" alt="">')
    if banner:
        parts.append('<div class="t">')
    if builder.get("heading"):
        parts.append(f"<h1>{escape(builder['heading'])}</h1>")
    if builder.get("text"):
        text = str(builder["text"]).replace("\r\n", "\n")
        paragraphs = [p.strip() for p in text.split("\n\n") if p.strip()]
        parts.extend(
            "<p>" + "<br>".join(escape(line) for line in p.split("\n")) + "</p>" for p in paragraphs
        )
    if banner:
        parts.append("</div>")
    lead = builder.get("lead")
    if lead:
        parts.extend(_lead_form(lead))
    buttons = [b for b in builder.get("buttons") or [] if (b.get("label") or "").strip()]
    if buttons:
        parts.append('<div class="b">')
        for index, button in enumerate(buttons):
            primary = index == 0 and not lead
            parts.append(_button(button, index=index, primary=primary))
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)


def _button(button: dict, *, index: int, primary: bool) -> str:
    css = ' class="primary"' if primary else ""
    label = escape(button["label"].strip())
    url = (button.get("url") or "").strip()
    kind = button.get("kind") or ACTION_BUTTON
    if kind == CLOSE_BUTTON:
        return f"<button{css} data-dismiss>{label}</button>"
    if kind == LINK_BUTTON:
        return f'<a{css} href="{escape(url)}" data-link>{label}</a>'
    action = escape((button.get("action") or "").strip() or f"button-{index + 1}")
    url_attr = f' data-url="{escape(url)}"' if url else ""
    return f'<button{css} data-action="{action}"{url_attr}>{label}</button>'


def _lead_form(lead: dict) -> list[str]:
    """The lead capture block: the form, then its thank-you (shown by the frame's bridge once
    the SDK has identified the visitor). No <form> element: message frames are sandboxed
    without allow-forms, where a form cannot be submitted."""
    action = escape((lead.get("action") or "").strip() or "lead")
    button = escape((lead.get("button") or "").strip() or "Subscribe")
    thanks = escape((lead.get("thanks") or "").strip() or DEFAULT_LEAD_THANKS)
    fields = []
    if lead.get("ask_name"):
        fields.append(
            f'<input type="text" name="name" maxlength="{MAX_LEAD_NAME}" autocomplete="name" '
            'placeholder="Your name" aria-label="Your name">'
        )
    fields.append(
        f'<input type="email" name="email" maxlength="{MAX_LEAD_EMAIL}" autocomplete="email" '
        'required placeholder="you@example.com" aria-label="Your e-mail address" '
        'aria-describedby="lead-error">'
    )
    return [
        '<div class="l" data-lead>',
        *fields,
        f'<button type="submit" class="primary" data-action="{action}">{button}</button>',
        f'<p class="e" id="lead-error" data-lead-error role="alert" hidden>{escape(LEAD_EMAIL_ERROR)}</p>',
        "</div>",
        f'<p class="ty" data-lead-thanks role="status" hidden>{thanks}</p>',
    ]
