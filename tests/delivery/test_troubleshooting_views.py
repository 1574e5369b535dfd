"""Honest states on the dashboard: warnings, "Blocked by …", Debug a visitor, the install check.

Real database, real views; the outranking and the reasons come from delivery's eligibility
code on the same cached live messages as the delivery API.
"""

import html
from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import strip_tags

from anonmsg.models import Plan
from delivery.models import EventType
from tests.factories import (
    AnonymousMessageFactory,
    EventFactory,
    MessageEventFactory,
    PageRuleFactory,
    ProfileFactory,
    VisitorFactory,
    VisitorMessageStateFactory,
    WorkspaceFactory,
)

OVERLAY_NO_CLOSE = '<h1>Sale</h1><button data-action="shop">Shop</button>'


def text_of(response) -> str:
    return html.unescape(response.content.decode())


def visible(response) -> str:
    """The text a reader sees: no tags, whitespace collapsed."""
    return " ".join(html.unescape(strip_tags(response.content.decode())).split())


def live(workspace, name, *, rule="/pricing", **fields):
    message = AnonymousMessageFactory(workspace=workspace, name=name, launched=True, **fields)
    if rule:
        PageRuleFactory(message=message, value=rule)
    return message


def review_url(message):
    return reverse("campaigns:wizard-step", args=[message.workspace_id, message.pk, "review"])


def list_url(workspace):
    return reverse("campaigns:message-list", args=[workspace.pk])


# --- Outranked ("slot taken") -----------------------------------------------------------------


def test_the_message_page_warns_when_a_duplicate_always_takes_its_slot(owner_client, workspace):
    first = live(workspace, "Pricing offer")
    duplicate = live(workspace, "Pricing offer (copy)")
    body = text_of(owner_client.get(duplicate.get_absolute_url()))
    assert "Live, but outranked: “Pricing offer” takes its place on its pages." in body
    assert "Live: visitors on matching pages see it" not in body
    assert (
        "Outranked on all its pages (checked: /pricing): “Pricing offer” takes the same place "
        "(modal) first, as both have priority 1 and it is older. Visitors see this one there "
        "only after dismissing or no longer seeing “Pricing offer”." in body
    )
    assert (
        "give this message a lower priority number, show it on other pages, or use another display"
        in body
    )
    assert f'href="{first.get_absolute_url()}">Open “Pricing offer”</a>' in body


def test_the_winner_of_the_slot_is_honestly_live(owner_client, workspace):
    first = live(workspace, "Pricing offer")
    live(workspace, "Pricing offer (copy)")
    body = text_of(owner_client.get(first.get_absolute_url()))
    assert "Live: visitors on matching pages see it." in body
    assert "Outranked" not in body


def test_a_lower_priority_number_frees_the_slot(owner_client, workspace):
    live(workspace, "Pricing offer", priority=3)
    duplicate = live(workspace, "Pricing offer (copy)", priority=3)
    owner_client.post(
        reverse("campaigns:message-priority", args=[workspace.pk, duplicate.pk]), {"priority": 2}
    )
    body = text_of(owner_client.get(duplicate.get_absolute_url()))
    assert "Outranked" not in body
    assert "Live: visitors on matching pages see it." in body


def test_a_show_always_rival_means_never_seen_there(owner_client, workspace):
    live(workspace, "Always on", frequency_mode="always")
    other = live(workspace, "Second")
    body = text_of(owner_client.get(other.get_absolute_url()))
    assert "Visitors never see this one there." in body
    assert "Live, but outranked: “Always on” takes its place on its pages." in body


def test_another_display_or_other_pages_are_not_outranked(owner_client, workspace):
    live(workspace, "Modal")
    banner = live(workspace, "Banner", display_type="banner", display_position="top")
    blog = live(workspace, "Blog", rule="/blog")
    for message in (banner, blog):
        assert "Outranked" not in text_of(owner_client.get(message.get_absolute_url()))


def test_outranked_on_some_pages_only_says_where(owner_client, workspace):
    live(workspace, "Pricing offer")
    everywhere = live(workspace, "Everywhere", rule=None)
    body = text_of(owner_client.get(everywhere.get_absolute_url()))
    assert (
        "Live: visitors on matching pages see it, except on /pricing, where “Pricing offer” goes first."
        in body
    )
    assert "Outranked on /pricing: “Pricing offer” takes the same place (modal) first" in body


def test_the_list_says_partly_blocked_when_outranked_on_some_pages(owner_client, workspace):
    live(workspace, "Pricing offer")
    live(workspace, "Everywhere", rule=None)
    body = text_of(owner_client.get(list_url(workspace)))
    assert "Partly blocked by “Pricing offer”" in body
    assert 'title="“Pricing offer” takes the same place first on /pricing"' in body


def test_review_warns_before_launch_that_the_draft_would_be_outranked(owner_client, workspace):
    live(workspace, "Pricing offer")
    draft = AnonymousMessageFactory(workspace=workspace, name="New offer", wizard_step=7)
    PageRuleFactory(message=draft, value="/pricing")
    body = text_of(owner_client.get(review_url(draft)))
    assert "Outranked on all its pages (checked: /pricing): “Pricing offer” takes" in body
    assert "Open “Pricing offer”" in body


def test_the_list_marks_the_blocked_message_and_links_the_rival(owner_client, workspace):
    first = live(workspace, "Pricing offer")
    live(workspace, "Pricing offer (copy)")
    body = text_of(owner_client.get(list_url(workspace)))
    assert body.count("Blocked by “Pricing offer”") == 1
    assert f'<a class="list-marker" href="{first.get_absolute_url()}"' in body


def test_the_marker_goes_as_soon_as_the_priority_changes(owner_client, workspace):
    live(workspace, "Pricing offer", priority=3)
    duplicate = live(workspace, "Pricing offer (copy)", priority=3)
    assert "Blocked by" in text_of(owner_client.get(list_url(workspace)))
    owner_client.post(
        reverse("campaigns:message-priority", args=[workspace.pk, duplicate.pk]), {"priority": 2}
    )
    body = text_of(owner_client.get(list_url(workspace)))
    assert "Blocked by “Pricing offer (copy)”" in body
    assert "Blocked by “Pricing offer”<" not in body


def test_the_list_stays_a_fixed_number_of_queries_with_markers(
    owner_client, workspace, django_assert_max_num_queries
):
    for index in range(20):
        live(workspace, f"Offer {index}", rule=f"/page-{index % 3}")
    with django_assert_max_num_queries(14):
        body = text_of(owner_client.get(list_url(workspace)))
    assert body.count("Blocked by") == 17


# --- Other warnings ---------------------------------------------------------------------------


def test_review_warns_when_the_goal_event_was_never_received(owner_client, workspace):
    draft = AnonymousMessageFactory(
        workspace=workspace, wizard_step=7, goal_condition="event", goal_event="Started Trial"
    )
    EventFactory(workspace=workspace, name="Signed Up")
    body = text_of(owner_client.get(review_url(draft)))
    assert (
        "The goal waits for the event “Started Trial”, but this workspace has never received it."
        in body
    )


def test_review_suggests_the_spelling_seen(owner_client, workspace):
    draft = AnonymousMessageFactory(
        workspace=workspace, wizard_step=7, goal_condition="event", goal_event="started trial"
    )
    EventFactory(workspace=workspace, name="Started Trial")
    body = text_of(owner_client.get(review_url(draft)))
    assert "Did you mean “Started Trial”? Names are case-sensitive." in body


def test_no_goal_event_warning_once_the_event_was_received(owner_client, workspace):
    draft = AnonymousMessageFactory(
        workspace=workspace, wizard_step=7, goal_condition="event", goal_event="Started Trial"
    )
    EventFactory(workspace=workspace, name="Started Trial")
    EventFactory(name="Other workspace's event")
    assert "The goal waits for the event" not in text_of(owner_client.get(review_url(draft)))


def test_the_goal_step_suggests_event_names_seen_in_this_workspace(owner_client, workspace):
    draft = AnonymousMessageFactory(workspace=workspace, wizard_step=7)
    EventFactory(workspace=workspace, name="Started Trial")
    EventFactory(workspace=workspace, name="Viewed Pricing", type=EventType.TRACK)
    EventFactory(workspace=workspace, name="Home", type=EventType.PAGE)
    EventFactory(name="Elsewhere")
    MessageEventFactory(message=AnonymousMessageFactory(workspace=workspace))
    url = reverse("campaigns:wizard-step", args=[workspace.pk, draft.pk, "goal"])
    body = text_of(owner_client.get(url))
    assert 'list="seen-event-names"' in body
    datalist = body.split('<datalist id="seen-event-names">')[1].split("</datalist>")[0]
    assert (
        datalist
        == '<option value="Started Trial"></option><option value="Viewed Pricing"></option>'
    )


@pytest.mark.parametrize("display_type", ["overlay", "banner", "inline"])
def test_a_message_without_a_close_control_is_warned_about(owner_client, workspace, display_type):
    message = live(
        workspace,
        "Sale",
        display_type=display_type,
        display_position="top" if display_type == "banner" else "bottom-right",
        display_element_id="slot" if display_type == "inline" else "",
        content_html=OVERLAY_NO_CLOSE,
    )
    for url in (message.get_absolute_url(), review_url(message)):
        body = text_of(owner_client.get(url))
        assert "has no close control: visitors can only close it by clicking “Shop”" in body
        assert "with “until dismissed” it never goes away for those who do not click" in body


def test_no_close_warning_for_a_modal_or_a_close_button(owner_client, workspace):
    modal = live(workspace, "Modal", content_html=OVERLAY_NO_CLOSE)
    closable = live(
        workspace,
        "Closable",
        display_type="overlay",
        content_html=OVERLAY_NO_CLOSE + '<button data-dismiss aria-label="Close">×</button>',
    )
    for message in (modal, closable):
        assert "no close control" not in text_of(owner_client.get(message.get_absolute_url()))


def test_a_closeless_overlay_without_actions_can_never_be_closed(owner_client, workspace):
    message = live(
        workspace,
        "Stuck",
        display_type="overlay",
        content_html="<h1>Hi</h1>",
        frequency_mode="always",
    )
    body = text_of(owner_client.get(message.get_absolute_url()))
    assert (
        "visitors cannot close it at all, and with “show always” it comes back on every matching page"
        in body
    )


def test_in_app_off_is_said_in_the_state_line(owner_client, workspace):
    workspace.inapp_enabled = False
    workspace.save()
    message = live(workspace, "Offer")
    body = text_of(owner_client.get(message.get_absolute_url()))
    assert (
        "Live, but in-app messages are switched off for this workspace, so nobody sees it." in body
    )


# --- Debug a visitor --------------------------------------------------------------------------


def debug(client, workspace, **data):
    data.setdefault("platform", "web")
    data.setdefault("location", "https://shop.example/pricing?x=1")
    return client.post(reverse("delivery:debug-visitor", args=[workspace.pk]), data)


def reason_line(body: str, name: str) -> str:
    """The debugger's line about message `name`."""
    report = body.split('class="debug-report"')[1]
    return next(line for line in report.split("<li") if f">{name}</a>" in line)


def test_the_debugger_says_what_a_visitor_gets_and_why_not_the_rest(owner_client, workspace):
    shown = live(workspace, "Shown")
    dismissed = live(workspace, "Dismissed", display_type="overlay")
    live(workspace, "Blog only", rule="/blog")
    live(workspace, "Same slot", priority=5)
    maxed = live(
        workspace,
        "Three times",
        display_type="banner",
        display_position="top",
        frequency_mode="times",
        frequency_times=3,
    )
    later = live(workspace, "Later", starts_at=timezone.now() + timedelta(days=2))
    visitor = VisitorFactory(workspace=workspace, last_page="/pricing")
    VisitorMessageStateFactory(
        visitor=visitor, message=dismissed, views=1, dismissed_at=timezone.now()
    )
    VisitorMessageStateFactory(visitor=visitor, message=maxed, views=3)
    response = debug(owner_client, workspace, anonymous_id=visitor.anonymous_id)
    assert response.status_code == 200
    body = text_of(response)
    gets = body.split("Gets here now")[1].split("Not shown, and why")[0]
    assert ">Shown</a>" in gets and ">Dismissed</a>" not in gets
    assert "Dismissed by this visitor on" in reason_line(body, "Dismissed")
    assert "Its page rules leave this page out" in reason_line(body, "Blog only")
    assert "Slot taken by “Shown”" in reason_line(body, "Same slot")
    assert f'href="{shown.get_absolute_url()}">Open it</a>' in reason_line(body, "Same slot")
    assert "Viewed 3 times, the most it shows to one visitor (3)" in reason_line(
        body, "Three times"
    )
    assert "The message starts on" in reason_line(body, "Later")
    assert f"<code>{visitor.anonymous_id}</code>" in body
    assert later.name in body


def test_the_debugger_on_an_identified_visitor(owner_client, workspace):
    live(workspace, "Offer")
    profile = ProfileFactory(workspace=workspace, user_id="ada@example.com")
    visitor = VisitorFactory(workspace=workspace, profile=profile, identified_at=timezone.now())
    body = text_of(debug(owner_client, workspace, anonymous_id=visitor.anonymous_id))
    assert "identified as ada@example.com" in body
    assert "This visitor is identified (signed up or logged in)" in reason_line(body, "Offer")


def test_the_debugger_on_an_unknown_id_is_a_new_visitor(owner_client, workspace):
    live(workspace, "Offer")
    body = text_of(debug(owner_client, workspace, anonymous_id="never-seen"))
    assert "never seen: delivery treats this ID as a new visitor." in body
    assert "Delivered here (modal)" in body


def test_the_debugger_with_in_app_off(owner_client, workspace):
    live(workspace, "Offer")
    workspace.inapp_enabled = False
    workspace.save()
    body = text_of(debug(owner_client, workspace, anonymous_id="a"))
    assert "In-app messages are switched off for this workspace" in reason_line(body, "Offer")


def test_the_debugger_on_an_app_screen(owner_client, workspace):
    message = live(workspace, "Paywall", rule=None)
    PageRuleFactory(message=message, platform="ios", operator="is", value="Paywall")
    body = text_of(
        debug(owner_client, workspace, anonymous_id="a", platform="ios", location="Paywall")
    )
    assert "(ios screen)" in body
    assert "Delivered here (modal)" in body
    body = text_of(
        debug(owner_client, workspace, anonymous_id="a", platform="android", location="Paywall")
    )
    assert "Its page rules leave this page out" in body


def test_the_debugger_panel_on_a_draft_says_why_the_draft_is_not_shown(owner_client, workspace):
    draft = AnonymousMessageFactory(workspace=workspace, name="Draft offer")
    body = text_of(owner_client.get(draft.get_absolute_url()))
    assert "Debug a visitor" in body
    assert f'name="message" value="{draft.pk}"' in body
    body = text_of(debug(owner_client, workspace, anonymous_id="a", message=draft.pk))
    assert "The message is a draft: launch it first." in reason_line(body, "Draft offer")


def test_the_debugger_answers_htmx_with_the_panel_only(owner_client, workspace):
    live(workspace, "Offer")
    response = owner_client.post(
        reverse("delivery:debug-visitor", args=[workspace.pk]),
        {"anonymous_id": "a", "platform": "web", "location": "/pricing"},
        headers={"HX-Request": "true"},
    )
    body = text_of(response)
    assert response.status_code == 200
    assert "<html" not in body
    assert body.count('class="card debugger"') == 1
    assert "Delivered here (modal)" in body


@pytest.mark.parametrize(
    ("data", "field", "error"),
    [
        ({"anonymous_id": "", "location": "/pricing"}, "anonymous_id", "This field is required."),
        ({"anonymous_id": "a", "location": ""}, "location", "This field is required."),
        (
            {"anonymous_id": "a", "location": "http://[::1"},
            "location",
            "not a URL a browser could be on",
        ),
        (
            {"anonymous_id": "a\x00", "location": "/"},
            "anonymous_id",
            "Null characters are not allowed",
        ),
        (
            {"anonymous_id": "a", "location": "/", "platform": "windows"},
            "platform",
            "Select a valid choice",
        ),
        ({"anonymous_id": "a" * 256, "location": "/"}, "anonymous_id", "at most 255 characters"),
    ],
)
def test_the_debugger_refuses_bad_input_with_a_form_error(
    owner_client, workspace, data, field, error
):
    response = owner_client.post(
        reverse("delivery:debug-visitor", args=[workspace.pk]), {"platform": "web", **data}
    )
    assert response.status_code == 400
    assert error in text_of(response)
    assert f'id="debug-{field}"' in text_of(response)
    assert "Gets here now" not in text_of(response)


def test_the_debugger_is_scoped_to_the_workspace(owner_client, outsider_client, workspace):
    other = AnonymousMessageFactory(workspace=WorkspaceFactory(), name="Foreign")
    response = debug(owner_client, workspace, anonymous_id="a", message=other.pk)
    assert response.status_code == 404
    url = reverse("delivery:debug-visitor", args=[workspace.pk])
    assert outsider_client.get(url).status_code == 404
    assert outsider_client.post(url, {"anonymous_id": "a", "location": "/"}).status_code == 404


def test_another_workspace_s_live_messages_and_visitors_never_appear(owner_client, workspace):
    live(workspace, "Mine")
    other_workspace = WorkspaceFactory()
    live(other_workspace, "Theirs")
    visitor = VisitorFactory(workspace=other_workspace)
    body = text_of(debug(owner_client, workspace, anonymous_id=visitor.anonymous_id))
    assert "Theirs" not in body
    assert "never seen" in body


def test_the_debugger_needs_a_csrf_token(owner, workspace):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    response = client.post(
        reverse("delivery:debug-visitor", args=[workspace.pk]),
        {"anonymous_id": "a", "location": "/"},
    )
    assert response.status_code == 403


def test_the_debugger_offers_recent_anonymous_visitors(owner_client, workspace):
    VisitorFactory(workspace=workspace, anonymous_id="recent-one", last_page="/pricing")
    VisitorFactory(
        workspace=workspace,
        anonymous_id="identified-one",
        profile=ProfileFactory(workspace=workspace),
    )
    VisitorFactory(anonymous_id="elsewhere")
    body = text_of(owner_client.get(reverse("delivery:debug-visitor", args=[workspace.pk])))
    assert '<option value="recent-one">Seen just now on /pricing</option>' in body
    assert "identified-one" not in body and "elsewhere" not in body


def test_an_event_links_to_debugging_its_visitor_prefilled(owner_client, workspace):
    event = EventFactory(workspace=workspace, anonymous_id="visitor 7")
    body = text_of(owner_client.get(reverse("delivery:event", args=[workspace.pk, event.pk])))
    link = reverse("delivery:debug-visitor", args=[workspace.pk]) + "?anonymous_id=visitor%207"
    assert f'<a href="{link}">Debug this visitor</a>' in body
    form = text_of(owner_client.get(link))
    assert 'value="visitor 7"' in form


def test_the_message_page_panel_starts_from_a_page_the_message_is_for(owner_client, workspace):
    message = live(workspace, "Offer", rule="/pricing")
    body = text_of(owner_client.get(message.get_absolute_url()))
    assert 'name="location" value="/pricing"' in body


def test_the_debugger_is_for_plans_with_anonymous_messages(owner_client, workspace):
    workspace.plan = Plan.FREE
    workspace.save()
    body = text_of(owner_client.get(reverse("delivery:debug-visitor", args=[workspace.pk])))
    assert "You might not have access to this feature!" in body


# --- The install check ------------------------------------------------------------------------


def install_url(workspace, **query):
    url = reverse("delivery:install-check", args=[workspace.pk])
    return url + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def page_event(workspace, url, **fields):
    return EventFactory(
        workspace=workspace,
        type=EventType.PAGE,
        name="",
        payload={"type": "page", "context": {"page": {"url": url, "path": "/x"}}},
        **fields,
    )


def test_settings_say_when_nothing_was_ever_received(owner_client, workspace):
    body = text_of(owner_client.get(reverse("settings-inapp", args=[workspace.pk])))
    assert "No event received yet:" in body
    assert "Test my installation" in body


def test_settings_say_where_and_when_the_snippet_was_seen(owner_client, workspace):
    page_event(
        workspace, "https://shop.example/pricing", received_at=timezone.now() - timedelta(hours=3)
    )
    page_event(WorkspaceFactory(), "https://other.example/")
    body = visible(owner_client.get(reverse("settings-inapp", args=[workspace.pk])))
    assert "Snippet seen 3 h ago on https://shop.example/pricing." in body
    assert "other.example" not in body


def test_the_empty_message_list_has_the_install_check(owner_client, workspace):
    body = text_of(owner_client.get(list_url(workspace)))
    assert "No event received yet:" in body
    page_event(workspace, "https://shop.example/")
    assert "Snippet seen just now on https://shop.example/." in visible(
        owner_client.get(list_url(workspace))
    )


def test_testing_the_installation_waits_then_turns_green(owner_client, workspace):
    page_event(
        workspace,
        "https://old.example/",
        received_at=timezone.now() - timedelta(minutes=5),
        timestamp=timezone.now() - timedelta(minutes=5),
    )
    htmx = {"HX-Request": "true"}
    started = owner_client.get(install_url(workspace, test=1), headers=htmx)
    body = text_of(started)
    assert "Waiting for the first event from your site…" in body
    since = body.split("?since=")[1].split('"')[0]
    assert 'hx-trigger="every 2s"' in body

    # Nothing new yet: the poll changes nothing.
    assert owner_client.get(install_url(workspace, since=since), headers=htmx).status_code == 204

    page_event(workspace, "https://shop.example/pricing")
    done = owner_client.get(install_url(workspace, since=since), headers=htmx)
    assert done.status_code == 200
    assert "Your installation works." in visible(done)
    assert "from https://shop.example/pricing." in visible(done)
    assert "hx-trigger" not in text_of(done)
    assert "hx-swap-oob" not in text_of(done)  # only Settings has the "SDK last seen" badge


def test_on_settings_the_green_answer_refreshes_the_sdk_badge(owner_client, workspace):
    since = int(timezone.now().timestamp())
    page_event(workspace, "https://shop.example/")
    done = owner_client.get(
        install_url(workspace, since=since, on="settings"), headers={"HX-Request": "true"}
    )
    assert '<span id="sdk-last-seen" class="sdk-seen sdk-seen-ok" hx-swap-oob="true">' in text_of(
        done
    )


def test_the_install_check_works_without_javascript(owner_client, workspace):
    response = owner_client.get(install_url(workspace, test=1))
    body = text_of(response)
    assert response.status_code == 200
    assert "<html" in body and "Waiting for the first event" in body
    assert "Check again" in body


def test_a_stale_or_bad_since_starts_over_instead_of_failing(owner_client, workspace):
    for since in ("abc", "1", "99999999999999999999"):
        response = owner_client.get(
            install_url(workspace, since=since), headers={"HX-Request": "true"}
        )
        assert response.status_code == 200
        assert "Test my installation" in text_of(response)


def test_the_install_poll_is_a_few_queries(owner_client, workspace, django_assert_max_num_queries):
    since = int(timezone.now().timestamp())
    owner_client.get(install_url(workspace, since=since))  # the session is saved once
    with django_assert_max_num_queries(4):
        owner_client.get(install_url(workspace, since=since), headers={"HX-Request": "true"})


def test_the_install_check_is_scoped(outsider_client, workspace):
    assert outsider_client.get(install_url(workspace)).status_code == 404
