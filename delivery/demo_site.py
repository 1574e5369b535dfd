"""A small demo website served by the app, carrying the demo workspace's snippet.

`make run` seeds the demo workspace and its demo messages (delivery/demo_workspace.py); these
pages include the browser snippet exactly as Settings → In-app shows it, so a newcomer opens
/demo/pricing/ and sees an anonymous message within seconds. The pages are plain public
pages (no login): they stand for a customer's marketing site.
"""

from django.http import Http404
from django.middleware.csp import get_nonce
from django.shortcuts import render
from django.views.decorators.http import require_GET

from anonmsg.demo import DEMO_EMAIL, DEMO_WORKSPACE
from anonmsg.models import Workspace
from anonmsg.snippet import public_base_url, render_snippet

BLOG_POSTS = {
    "launch-week": {
        "title": "Launch week: funnels that explain themselves",
        "date": "March 3",
        "lead": "Five days, five features. Here is what we shipped, and why.",
    },
}


def demo_workspace() -> Workspace | None:
    return (
        Workspace.objects.filter(name=DEMO_WORKSPACE, memberships__user__username=DEMO_EMAIL)
        .order_by("pk")
        .first()
    )


def is_demo_workspace(workspace: Workspace) -> bool:
    demo = demo_workspace()
    return demo is not None and demo.pk == workspace.pk


def demo_pages(base_url: str) -> list[dict]:
    """The demo site's pages as absolute URLs (for previews and links)."""
    return [
        {"name": "Home", "url": f"{base_url}/demo/"},
        {"name": "Pricing", "url": f"{base_url}/demo/pricing/"},
        {"name": "Blog post", "url": f"{base_url}/demo/blog/launch-week/"},
        {"name": "Sign up", "url": f"{base_url}/demo/signup/"},
    ]


def _render(request, template: str, **context):
    workspace = demo_workspace()
    if workspace is None:
        return render(request, "delivery/demo/not_seeded.html", status=404)
    snippet = render_snippet(
        base_url=public_base_url(request),
        write_key=workspace.write_key,
        # str() makes the lazy nonce, so the response's policy carries it.
        nonce=str(get_nonce(request)),
    )
    return render(
        request,
        template,
        {"snippet": snippet, "demo_workspace": workspace, "posts": BLOG_POSTS, **context},
    )


@require_GET
def home(request):
    return _render(request, "delivery/demo/home.html", section="home")


@require_GET
def pricing(request):
    return _render(request, "delivery/demo/pricing.html", section="pricing")


@require_GET
def blog_post(request, slug):
    post = BLOG_POSTS.get(slug)
    if post is None:
        raise Http404("No such post.")
    return _render(request, "delivery/demo/blog_post.html", section="blog", post=post)


@require_GET
def signup(request):
    return _render(request, "delivery/demo/signup.html", section="signup")
