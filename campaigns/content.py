"""Message content: validation, tracked actions found in the HTML, and the simple builder.

Pure: plain values in, plain values out. Conventions the SDK relies on:

- A tracked action is any element with `data-action="<name>"`; its URL is `data-url`, or the
  `href` of a link. Clicking it reports `clicked_content` with that name, then follows the URL.
- A close control is any element with `data-dismiss`; clicking it reports `dismissed_content`.
- An action's URL must be http(s), relative (`/signup`), `mailto:` or `tel:`: the SDK follows
  it on the visitor's page, so `javascript:` and `data:` URLs are refused.
"""

import re
from dataclasses import dataclass
from html import escape
from html.parser import HTMLParser

MAX_HTML_BYTES = 64 * 1024
MAX_ACTION_NAME = 100

# Liquid output `{{ ... }}` or tags `{% ... %}`.
LIQUID = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.DOTALL)
ACTION_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")
SAFE_URL_SCHEMES = ("http", "https", "mailto", "tel")


class ContentError(ValueError):
    def __init__(self, message: str, *, field: str = "html"):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class Action:
    name: str
    label: str
    url: str = ""


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
    liquid = LIQUID.search(html)
    if liquid:
        snippet = liquid.group(0)[:40]
        raise ContentError(
            f"Liquid is not supported in anonymous messages (found “{snippet}”): the visitor is "
            "anonymous, so there is nothing to personalise. Replace it with plain text."
        )
    for action in extract_actions(html):
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


class _ActionParser(HTMLParser):
    VOID = {
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "source",
        "track",
        "wbr",
    }

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.actions: list[list] = []  # [name, url, label parts]
        # Open elements inside an action element: (tag, index of the action or -1).
        self.stack: list[tuple[str, int]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if "data-action" in attrs and attrs["data-action"] is not None:
            url = attrs.get("data-url") or (attrs.get("href") if tag == "a" else "") or ""
            label = attrs.get("aria-label") or attrs.get("value") or ""
            self.actions.append(
                [attrs["data-action"].strip(), url.strip(), [label] if label else []]
            )
            if tag not in self.VOID:
                # An aria-label is the element's name: its text (an icon, "×") is not.
                self.stack.append((tag, -1 if label else len(self.actions) - 1))
        elif tag not in self.VOID and self.stack:
            self.stack.append((tag, -1))

    def handle_endtag(self, tag):
        # Close up to the matching element, so an unclosed <p> inside a button cannot keep the
        # button open for the rest of the document.
        for depth in range(len(self.stack) - 1, -1, -1):
            if self.stack[depth][0] == tag:
                del self.stack[depth:]
                return

    def handle_data(self, data):
        for _, index in self.stack:
            if index >= 0:
                self.actions[index][2].append(data)


def extract_actions(html: str) -> list[Action]:
    """The tracked actions in the HTML, in document order, one per name (first wins)."""
    parser = _ActionParser()
    parser.feed(html or "")
    parser.close()
    seen: dict[str, Action] = {}
    for name, url, parts in parser.actions:
        if name and name not in seen:
            label = " ".join("".join(parts).split()) or name
            seen[name] = Action(name=name, label=label[:200], url=url)
    return list(seen.values())


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
