"""Dashboard pages that htmx refreshes in part: one rule for "a region or the whole page".

A page's template names each region htmx swaps with `{% partialdef %}`; an htmx request gets
that partial, every other request the whole page. Two htmx requests still need the whole page:
a history restore (Back or Forward after htmx's history cache missed: it swaps the answer into
`<body>`) and a boosted link. Responses vary on the three request headers, so that no cache hands a
region to a request that needs the page.
"""

from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.vary import vary_on_headers

HTMX_HEADERS = ("HX-Request", "HX-History-Restore-Request", "HX-Boosted")

vary_on_htmx = vary_on_headers(*HTMX_HEADERS)
"""For views that choose between a region and the page themselves (`wants_partial`)."""


def wants_partial(request) -> bool:
    """htmx asked for a region of the page, not for the whole page."""
    htmx = request.htmx
    return bool(htmx) and not htmx.history_restore_request and not htmx.boosted


def render_page(request, template: str, context: dict, *, partial: str, status: int = 200):
    """`template`, or only its `partial` when htmx asked for a region.

    `status` is the whole page's: a region is always answered 200, because htmx swaps only
    2xx answers (a form with errors comes back as a region showing them).
    """
    if wants_partial(request):
        response = render(request, f"{template}#{partial}", context)
    else:
        response = render(request, template, context, status=status)
    patch_vary_headers(response, HTMX_HEADERS)
    return response
