"""Message content: validation, what is read from the HTML (tracked actions, the label
visitors hear), and the simple builder.

Pure: plain values in, plain values out. Conventions the SDK relies on:

- A tracked action is any element with `data-action="<name>"`; its URL is `data-url`, or the
  `href` of a link. Clicking it reports `clicked_content` with that name, then follows the URL.
- A close control is any element with `data-dismiss`; clicking it reports `dismissed_content`.
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
    for action in summarise_html(html).actions:
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
    return ContentSummary(actions=tuple(seen.values()), label=reader.label or DEFAULT_LABEL)


def extract_actions(html: str) -> list[Action]:
    """The tracked actions in the HTML, in document order, one per name (first wins)."""
    return list(summarise_html(html).actions)


BUILDER_STYLE = """
<style>
  body{margin:0;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1c1f2b}
  .m{padding:28px 28px 24px;text-align:center;position:relative;background:#fff}
  .m img{max-width:100%;border-radius:8px;margin-bottom:16px}
  .m h1{font-size:22px;margin:0 0 8px}
  .m p{font-size:15px;line-height:1.5;color:#4b5060;margin:0 0 20px}
  .m .b{display:flex;gap:10px;justify-content:center;flex-wrap:wrap}
  .m .b a,.m .b button{font:inherit;font-weight:600;padding:10px 18px;border-radius:8px;border:1px solid #d5d8e2;background:#fff;color:#1c1f2b;cursor:pointer;text-decoration:none}
  .m .b .primary{background:#5b4cf0;border-color:#5b4cf0;color:#fff}
  .m .x{position:absolute;top:8px;right:10px;border:0;background:none;font-size:22px;line-height:1;color:#8a8fa0;cursor:pointer}
  .m.banner{display:flex;flex-wrap:wrap;align-items:center;gap:10px 16px;padding:12px 48px 12px 20px;text-align:left}
  .m.banner img{max-height:48px;width:auto;margin:0}
  .m.banner .t{flex:1 1 220px}
  .m.banner h1{font-size:16px;margin:0 0 2px}
  .m.banner p{font-size:14px;margin:0}
  .m.banner .x{top:50%;transform:translateY(-50%)}
</style>
""".strip()


def build_html(builder: dict, *, display_type: str = "modal") -> str:
    """HTML for the simple builder's fields: heading, text, image_url, buttons, close_button.

    buttons: [{"label": "Sign up", "action": "signup", "url": "https://…"}]; the first is primary.
    Paragraphs are separated by a blank line; a single line break stays a line break.
    A banner gets a one-line layout (image, text, buttons side by side); other types stack.
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
    buttons = [b for b in builder.get("buttons") or [] if (b.get("label") or "").strip()]
    if buttons:
        parts.append('<div class="b">')
        for index, button in enumerate(buttons):
            css = ' class="primary"' if index == 0 else ""
            action = escape((button.get("action") or "").strip() or f"button-{index + 1}")
            url = (button.get("url") or "").strip()
            url_attr = f' data-url="{escape(url)}"' if url else ""
            parts.append(
                f'<button{css} data-action="{action}"{url_attr}>{escape(button["label"].strip())}</button>'
            )
        parts.append("</div>")
    parts.append("</div>")
    return "\n".join(parts)
