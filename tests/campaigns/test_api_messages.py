"""App API: create, read, list and update anonymous messages (DESIGN.md §3)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from anonmsg.models import Workspace
from campaigns.content import MAX_HTML_BYTES
from campaigns.models import AnonymousMessage, PageRule, Status
from tests.factories import (
    AnonymousMessageFactory,
    PageRuleFactory,
    SegmentFactory,
    WorkspaceFactory,
)

LIST_URL = "/api/v1/anonymous-messages"


class Api:
    """The Django test client speaking JSON with a Bearer App API key."""

    def __init__(self, client, key):
        self.client = client
        self.headers = {"Authorization": f"Bearer {key}"}

    def get(self, path, params=None):
        return self.client.get(path, params or {}, headers=self.headers)

    def post(self, path, body=None):
        data = "" if body is None else json.dumps(body)
        return self.client.post(path, data, content_type="application/json", headers=self.headers)

    def patch(self, path, body):
        return self.client.patch(
            path, json.dumps(body), content_type="application/json", headers=self.headers
        )


@pytest.fixture
def api(client, workspace):
    return Api(client, workspace.rotate_api_key())


@pytest.fixture
def paris(workspace):
    workspace.time_zone = "Europe/Paris"
    workspace.save()
    return workspace


def detail_url(message_id):
    return f"{LIST_URL}/{message_id}"


def full_message(segment_id):
    """A message using every field, none of them at its default."""
    return {
        "name": "Spring sale",
        "description": "Shown on pricing pages to visitors who have not signed up.",
        "priority": 3,
        "pageRules": [
            {
                "platform": "web",
                "operator": "starts_with",
                "value": "/pricing",
                "exclude": False,
                "caseSensitive": False,
            },
            {
                "platform": "web",
                "operator": "regex",
                "value": r"^/blog/\d+$",
                "exclude": True,
                "caseSensitive": True,
            },
            {
                "platform": "ios",
                "operator": "is",
                "value": "Checkout",
                "exclude": False,
                "caseSensitive": False,
            },
        ],
        "frequency": {"mode": "times", "times": 3, "minIntervalSeconds": 3600},
        "goal": {
            "trigger": "view",
            "windowHours": 48,
            "condition": {"type": "segment_entered", "event": None, "segmentId": segment_id},
        },
        "content": {
            "html": '<h1>20% off</h1><button data-action="signup">Sign up</button>'
            "<button data-dismiss>×</button>"
        },
        "display": {"type": "overlay", "position": "top-left", "elementId": None},
        "schedule": {
            "startsAt": "2030-01-31T09:00:00+01:00",
            "endsAt": "2030-02-28T18:30:00+01:00",
        },
        "trigger": {"type": "scroll", "percent": 50},
        "audience": [
            {"attribute": "utm_source", "operator": "contains", "value": "newsletter"},
            {"attribute": "device", "operator": "is_not", "value": "phone"},
            {"attribute": "sessions", "operator": "gte", "value": 2},
        ],
        "experiment": None,
    }


# --- Create and read -----------------------------------------------------------------------


def test_a_full_message_posted_reads_back_exactly_as_sent(api, paris):
    segment = SegmentFactory(workspace=paris)
    sent = full_message(segment.id)

    created = api.post(LIST_URL, sent)

    assert created.status_code == 201
    message_id = created.json()["id"]
    assert created["Location"] == detail_url(message_id)
    read = api.get(detail_url(message_id))
    assert read.status_code == 200
    assert read.json() == {"id": message_id, "state": "draft", **sent}
    assert created.json() == read.json()


def test_a_message_with_only_a_name_takes_the_documented_defaults(api, workspace):
    response = api.post(LIST_URL, {"name": "Welcome"})

    assert response.status_code == 201
    body = response.json()
    assert body == {
        "id": body["id"],
        "state": "draft",
        "name": "Welcome",
        "description": "",
        "priority": 1,
        "pageRules": [],
        "frequency": {"mode": "until_dismissed", "times": None, "minIntervalSeconds": 0},
        "goal": {
            "trigger": "click",
            "windowHours": 168,
            "condition": {"type": "none", "event": None, "segmentId": None},
        },
        "content": {"html": ""},
        "display": {"type": "modal", "position": "center", "elementId": None},
        "schedule": {"startsAt": None, "endsAt": None},
        "trigger": {"type": "page_load"},
        "audience": [],
        "experiment": None,
    }
    message = AnonymousMessage.objects.get(pk=body["id"])
    assert message.workspace == workspace
    assert message.status == Status.DRAFT


def test_page_rule_fields_left_out_take_their_defaults(api):
    response = api.post(LIST_URL, {"name": "Rules", "pageRules": [{"value": "/pricing"}]})

    assert response.status_code == 201
    assert response.json()["pageRules"] == [
        {
            "platform": "web",
            "operator": "is",
            "value": "/pricing",
            "exclude": False,
            "caseSensitive": False,
        }
    ]


@pytest.mark.parametrize(
    ("display", "expected"),
    [
        ({"type": "modal"}, {"type": "modal", "position": "center", "elementId": None}),
        ({"type": "overlay"}, {"type": "overlay", "position": "bottom-right", "elementId": None}),
        ({"type": "banner"}, {"type": "banner", "position": "top", "elementId": None}),
        ({"type": "banner", "position": "bottom"}, {"type": "banner", "position": "bottom", "elementId": None}),
        ({"type": "inline", "elementId": "promo"}, {"type": "inline", "position": None, "elementId": "promo"}),
        ({"type": "inline", "position": None, "elementId": "promo"}, {"type": "inline", "position": None, "elementId": "promo"}),
        ({"type": "modal", "elementId": "ignored"}, {"type": "modal", "position": "center", "elementId": None}),
    ],
)  # fmt: skip
def test_display_position_defaults_to_the_first_position_of_its_type(api, display, expected):
    response = api.post(LIST_URL, {"name": "Display", "display": display})

    assert response.status_code == 201, response.json()
    assert response.json()["display"] == expected


def test_a_date_time_without_offset_is_read_in_the_workspace_time_zone(api, paris):
    response = api.post(
        LIST_URL,
        {"name": "Naive", "schedule": {"startsAt": "2030-07-01T09:00:00", "endsAt": "2030-07-02"}},
    )

    assert response.status_code == 201
    assert response.json()["schedule"] == {
        "startsAt": "2030-07-01T09:00:00+02:00",
        "endsAt": "2030-07-02T00:00:00+02:00",
    }
    message = AnonymousMessage.objects.get()
    assert message.starts_at.isoformat() == "2030-07-01T07:00:00+00:00"


def test_dates_with_an_offset_or_z_are_answered_in_the_workspace_time_zone(api, paris):
    response = api.post(
        LIST_URL,
        {"name": "UTC", "schedule": {"startsAt": "2030-01-31T08:00:00Z", "endsAt": None}},
    )

    assert response.json()["schedule"]["startsAt"] == "2030-01-31T09:00:00+01:00"


def test_id_is_ignored_on_create_and_the_new_message_is_a_draft(api):
    other = AnonymousMessageFactory()

    response = api.post(LIST_URL, {"id": other.id, "state": "draft", "name": "Copy"})

    assert response.status_code == 201
    assert response.json()["id"] != other.id
    assert AnonymousMessage.objects.count() == 2


def test_a_message_is_read_with_its_rules_in_order(api, workspace):
    message = AnonymousMessageFactory(workspace=workspace)
    PageRuleFactory(message=message, value="/b", position=1)
    PageRuleFactory(message=message, value="/a", position=0, exclude=True)

    response = api.get(detail_url(message.id))

    assert [(r["value"], r["exclude"]) for r in response.json()["pageRules"]] == [
        ("/a", True),
        ("/b", False),
    ]


def test_another_workspace_message_is_not_found(api):
    other = AnonymousMessageFactory(name="Not yours")

    response = api.get(detail_url(other.id))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "Not yours" not in response.content.decode()


@pytest.mark.parametrize(
    "message_id", [0, 987654, 99999999999999999999999, "9" * 5000, "abc", "1e3", "-1", "²", "١٢"]
)
def test_a_message_id_that_names_nothing_is_a_json_404(api, message_id):
    response = api.get(detail_url(message_id))

    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


# --- Bad input -----------------------------------------------------------------------------


def rule(**fields):
    return {"pageRules": [{"platform": "web", "operator": "is", "value": "/pricing", **fields}]}


BAD_INPUTS = [
    # (what, body merged over {"name": "Bad"}, field named in the error, words of the message)
    ("unknown operator", rule(operator="like"), "pageRules[0].operator", "Unknown operator"),
    ("unknown platform", rule(platform="windows"), "pageRules[0].platform", "Unknown platform"),
    ("regex that does not compile", rule(operator="regex", value="/blog/(unclosed"), "pageRules[0].value", "does not compile"),
    ("regex too long", rule(operator="regex", value="a" * 301), "pageRules[0].value", "limited to 300"),
    ("empty rule value", rule(value="  "), "pageRules[0].value", "Enter a value"),
    ("rule value too long", rule(value="/" + "a" * 500), "pageRules[0].value", "longer than 500"),
    ("rule without value", {"pageRules": [{"operator": "is"}]}, "pageRules[0].value", "needs a value"),
    ("rule value a number", rule(value=5), "pageRules[0].value", "must be a string"),
    ("operator a number", rule(operator=1), "pageRules[0].operator", "must be one of"),
    ("exclude not a boolean", rule(exclude="yes"), "pageRules[0].exclude", "true or false"),
    ("unknown rule field", rule(negate=True), "pageRules[0].negate", "Unknown field"),
    ("rule not an object", {"pageRules": ["/pricing"]}, "pageRules[0]", "must be an object"),
    ("second rule bad", {"pageRules": [{"value": "/a"}, {"value": "/b", "operator": "near"}]}, "pageRules[1].operator", "Unknown operator"),
    ("rules not a list", {"pageRules": {"value": "/a"}}, "pageRules", "must be an array"),
    ("too many rules", {"pageRules": [{"value": f"/{i}"} for i in range(101)]}, "pageRules", "at most 100"),
    ("too many wildcards", rule(operator="matches", value="/" + "*" * 40 + "x"), "pageRules[0].value", "at most 20 * wildcards"),
    ("regex repeats multiply", rule(operator="regex", value="((a{100}){100}){100}"), "pageRules[0].value", "repeats too much"),
    ("unknown frequency mode", {"frequency": {"mode": "sometimes"}}, "frequency.mode", "Unknown frequency.mode"),
    ("times below one", {"frequency": {"mode": "times", "times": 0}}, "frequency.times", "between 1 and"),
    ("times negative", {"frequency": {"mode": "times", "times": -2}}, "frequency.times", "between 1 and"),
    ("times over 100", {"frequency": {"mode": "times", "times": 101}}, "frequency.times", "between 1 and 100"),
    ("times a string", {"frequency": {"mode": "times", "times": "3"}}, "frequency.times", "must be an integer"),
    ("times a fraction", {"frequency": {"mode": "times", "times": 2.5}}, "frequency.times", "must be an integer"),
    ("negative interval", {"frequency": {"minIntervalSeconds": -1}}, "frequency.minIntervalSeconds", "between 0 and"),
    ("frequency a string", {"frequency": "always"}, "frequency", "must be an object"),
    ("unknown goal trigger", {"goal": {"trigger": "hover"}}, "goal.trigger", "Unknown goal.trigger"),
    ("window of zero hours", {"goal": {"windowHours": 0}}, "goal.windowHours", "between 1 and 720"),
    ("window over 30 days", {"goal": {"windowHours": 721}}, "goal.windowHours", "between 1 and 720"),
    ("window a boolean", {"goal": {"windowHours": True}}, "goal.windowHours", "must be an integer"),
    ("unknown condition type", {"goal": {"condition": {"type": "bought"}}}, "goal.condition.type", "Unknown goal.condition.type"),
    ("event condition without event", {"goal": {"condition": {"type": "event"}}}, "goal.condition.event", "event's name"),
    ("segment condition without segment", {"goal": {"condition": {"type": "segment_left"}}}, "goal.condition.segmentId", "needs a segment"),
    ("segment that does not exist", {"goal": {"condition": {"type": "segment_entered", "segmentId": 999999}}}, "goal.condition.segmentId", "no segment 999999"),
    ("segment id a string", {"goal": {"condition": {"type": "segment_entered", "segmentId": "3"}}}, "goal.condition.segmentId", "must be an integer"),
    ("unknown display type", {"display": {"type": "popup"}}, "display.type", "Unknown display.type"),
    ("unknown position", {"display": {"position": "middle"}}, "display.position", "Unknown display.position"),
    ("position not valid for a banner", {"display": {"type": "banner", "position": "center"}}, "display.position", "use one of top, bottom"),
    ("position not valid for a modal", {"display": {"type": "modal", "position": "top-left"}}, "display.position", "use one of center, top, bottom"),
    ("inline with a position", {"display": {"type": "inline", "position": "top", "elementId": "x"}}, "display.position", "no position"),
    ("inline without element", {"display": {"type": "inline"}}, "display.elementId", "id of the page element"),
    ("element id with spaces", {"display": {"type": "inline", "elementId": "my promo"}}, "display.elementId", "no spaces"),
    ("end before start", {"schedule": {"startsAt": "2030-02-01T00:00:00Z", "endsAt": "2030-01-01T00:00:00Z"}}, "schedule.endsAt", "after the start"),
    ("end equal to start", {"schedule": {"startsAt": "2030-02-01T00:00:00Z", "endsAt": "2030-02-01T01:00:00+01:00"}}, "schedule.endsAt", "after the start"),
    ("end in the past", {"schedule": {"endsAt": "2020-01-01T00:00:00Z"}}, "schedule.endsAt", "in the past"),
    ("start not a date", {"schedule": {"startsAt": "next tuesday"}}, "schedule.startsAt", "not an ISO-8601"),
    ("start a number", {"schedule": {"startsAt": 1893456000}}, "schedule.startsAt", "ISO-8601"),
    ("unknown schedule field", {"schedule": {"timezone": "UTC"}}, "schedule.timezone", "Unknown field"),
    ("Liquid output in content", {"content": {"html": "<p>Hi {{ customer.first_name }}</p>"}}, "content.html", "Liquid is not supported"),
    ("Liquid tag in content", {"content": {"html": "{% if x %}<p>Hi</p>{% endif %}"}}, "content.html", "nothing to personalise"),
    ("oversized HTML", {"content": {"html": "<p>" + "x" * MAX_HTML_BYTES + "</p>"}}, "content.html", "the limit is 65,536"),
    ("HTML not a string", {"content": {"html": ["<p>"]}}, "content.html", "must be a string"),
    ("bad action name", {"content": {"html": '<button data-action="sign up">Go</button>'}}, "content.html", "action name"),
    ("name blank", {"name": "   "}, "name", "Give the message a name"),
    ("name too long", {"name": "n" * 121}, "name", "longer than 120"),
    ("name a number", {"name": 7}, "name", "must be a string"),
    ("name null", {"name": None}, "name", "must be a string, not null"),
    ("NUL in the name", {"name": "Hi\u0000"}, "name", "NUL character"),
    ("NUL in a rule value", rule(value="/pricing\u0000"), "pageRules[0].value", "NUL character"),
    ("NUL in the HTML", {"content": {"html": "<p>\u0000</p>"}}, "content.html", "NUL character"),
    ("lone surrogate in the name", {"name": "Hi \ud800"}, "name", "not valid Unicode"),
    ("lone surrogate in the HTML", {"content": {"html": "<p>\udfff</p>"}}, "content.html", "not valid Unicode"),
    ("HTML null", {"content": {"html": None}}, "content.html", "must be a string, not null"),
    ("description null", {"description": None}, "description", "must be a string, not null"),
    ("description too long", {"description": "d" * 2001}, "description", "longer than 2000"),
    ("priority zero", {"priority": 0}, "priority", "between 1 and 1,000"),
    ("priority over 1000", {"priority": 1001}, "priority", "between 1 and 1,000"),
    ("priority a string", {"priority": "1"}, "priority", "must be an integer"),
    ("unknown top-level field", {"colour": "red"}, "colour", "Unknown field"),
    ("unknown nested field", {"frequency": {"every": 2}}, "frequency.every", "Unknown field"),
    ("state other than draft", {"state": "active"}, "state", "/launch"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [case[1:] for case in BAD_INPUTS],
    ids=[case[0] for case in BAD_INPUTS],
)
def test_invalid_input_is_a_400_naming_the_field_and_nothing_is_written(api, body, field, words):
    response = api.post(LIST_URL, {"name": "Bad", **body})

    assert response.status_code == 400
    error = response.json()
    assert error["field"] == field
    assert error["error"] in ("invalid", "required", "unknown_field", "read_only")
    assert words in error["message"]
    assert not AnonymousMessage.objects.exists()
    assert not PageRule.objects.exists()


def test_a_name_is_required(api):
    response = api.post(LIST_URL, {"description": "no name"})

    assert response.status_code == 400
    assert response.json() == {
        "error": "required",
        "message": "Give the message a name (shown to your team, never to visitors).",
        "field": "name",
    }


def test_another_workspace_segment_cannot_be_a_goal(api):
    foreign = SegmentFactory()

    response = api.post(
        LIST_URL,
        {
            "name": "Goal",
            "goal": {"condition": {"type": "segment_entered", "segmentId": foreign.id}},
        },
    )

    assert response.status_code == 400
    assert response.json()["field"] == "goal.condition.segmentId"
    assert not AnonymousMessage.objects.exists()


@pytest.mark.parametrize(
    ("raw", "code"),
    [
        ('{"name": "Broken",', "invalid_json"),
        ("name=Broken", "invalid_json"),
        ("", "invalid"),
        ("[]", "invalid"),
        ('"a string"', "invalid"),
    ],
)
def test_a_body_that_is_not_a_json_object_is_a_400(api, raw, code):
    response = api.client.post(LIST_URL, raw, content_type="application/json", headers=api.headers)

    assert response.status_code == 400
    assert response.json()["error"] == code
    assert not AnonymousMessage.objects.exists()


@pytest.mark.parametrize(
    "raw",
    [
        b'{"name": "\xed\xa0\x80"}',  # a surrogate encoded as UTF-8 bytes
        b'{"name": "\xff"}',  # not UTF-8 at all
        b'{"name": "\\ud800"}',  # an unpaired surrogate escape
        b'{"name": "a\\u0000b"}',  # NUL, which PostgreSQL cannot store
        b'{"name": "x", "priority": NaN}',
    ],
)
def test_a_body_no_database_could_store_is_a_400_and_writes_nothing(api, raw):
    response = api.client.post(LIST_URL, raw, content_type="application/json", headers=api.headers)

    assert response.status_code == 400
    assert response.json()["error"] in {"invalid_json", "invalid"}
    assert not AnonymousMessage.objects.exists()


def test_malformed_json_is_located_without_python_exception_text(api):
    raw = '{"name": "Broken",'
    response = api.client.post(LIST_URL, raw, content_type="application/json", headers=api.headers)

    assert response.status_code == 400
    assert response.json() == {
        "error": "invalid_json",
        "message": "The request body is not valid JSON (line 1, column 19).",
    }


# --- List ----------------------------------------------------------------------------------


def test_the_list_is_newest_first_and_only_this_workspace(api, workspace):
    now = timezone.now()
    older = AnonymousMessageFactory(workspace=workspace, name="Older")
    newest = AnonymousMessageFactory(workspace=workspace, name="Newest")
    middle = AnonymousMessageFactory(workspace=workspace, name="Middle")
    for message, age in ((older, 3), (newest, 1), (middle, 2)):
        AnonymousMessage.objects.filter(pk=message.pk).update(created_at=now - timedelta(hours=age))
    AnonymousMessageFactory(name="Someone else's")

    response = api.get(LIST_URL)

    assert response.status_code == 200
    assert [m["name"] for m in response.json()["messages"]] == ["Newest", "Middle", "Older"]


def test_an_empty_workspace_lists_no_messages(api):
    assert api.get(LIST_URL).json() == {"messages": []}


@pytest.fixture
def one_message_per_state(workspace):
    now = timezone.now()
    make = AnonymousMessageFactory
    return {
        "draft": make(workspace=workspace, name="draft"),
        "scheduled": make(workspace=workspace, name="scheduled", launched=True, starts_at=now + timedelta(days=1)),
        "active": make(workspace=workspace, name="active", launched=True),
        "paused": make(workspace=workspace, name="paused", status=Status.PAUSED),
        "ended": make(workspace=workspace, name="ended", launched=True, ends_at=now - timedelta(hours=1)),
        "archived": make(workspace=workspace, name="archived", status=Status.ARCHIVED),
    }  # fmt: skip


@pytest.mark.parametrize("state", ["draft", "scheduled", "active", "paused", "ended", "archived"])
def test_the_list_filters_by_derived_state(api, one_message_per_state, state):
    response = api.get(LIST_URL, {"state": state})

    assert response.status_code == 200
    messages = response.json()["messages"]
    assert [(m["name"], m["state"]) for m in messages] == [(state, state)]


def test_an_unknown_state_filter_is_a_400(api, one_message_per_state):
    response = api.get(LIST_URL, {"state": "live"})

    assert response.status_code == 400
    assert response.json()["field"] == "state"
    assert "draft, scheduled, active, paused, ended, archived" in response.json()["message"]


def test_the_list_takes_a_fixed_number_of_queries(api, workspace, django_assert_num_queries):
    for _ in range(6):
        PageRuleFactory(message=AnonymousMessageFactory(workspace=workspace))

    # Key lookup, messages, their rules, their experiments' variants.
    with django_assert_num_queries(4):
        response = api.get(LIST_URL)

    assert len(response.json()["messages"]) == 6


# --- Update --------------------------------------------------------------------------------


@pytest.fixture
def message(api, workspace):
    segment = SegmentFactory(workspace=workspace)
    response = api.post(LIST_URL, full_message(segment.id))
    assert response.status_code == 201
    return response.json()


def test_patch_changes_only_the_fields_sent(api, message):
    response = api.patch(detail_url(message["id"]), {"name": "Renamed", "priority": 7})

    assert response.status_code == 200
    assert response.json() == {**message, "name": "Renamed", "priority": 7}
    assert api.get(detail_url(message["id"])).json() == response.json()


def test_patch_merges_nested_objects_field_by_field(api, message):
    response = api.patch(
        detail_url(message["id"]),
        {"frequency": {"minIntervalSeconds": 60}, "schedule": {"endsAt": None}},
    )

    body = response.json()
    assert body["frequency"] == {"mode": "times", "times": 3, "minIntervalSeconds": 60}
    assert body["schedule"] == {"startsAt": message["schedule"]["startsAt"], "endsAt": None}


def test_patch_page_rules_replaces_the_whole_list(api, message):
    new_rules = [
        {
            "platform": "android",
            "operator": "contains",
            "value": "Cart",
            "exclude": False,
            "caseSensitive": True,
        }
    ]

    response = api.patch(detail_url(message["id"]), {"pageRules": new_rules})

    assert response.json()["pageRules"] == new_rules
    assert PageRule.objects.filter(message_id=message["id"]).count() == 1


def test_patch_with_an_empty_rule_list_removes_every_rule(api, message):
    response = api.patch(detail_url(message["id"]), {"pageRules": []})

    assert response.json()["pageRules"] == []
    assert not PageRule.objects.filter(message_id=message["id"]).exists()


def test_patch_without_page_rules_keeps_them(api, message):
    api.patch(detail_url(message["id"]), {"description": "Still the same rules"})

    assert PageRule.objects.filter(message_id=message["id"]).count() == 3


def test_a_patched_display_type_moves_to_that_type_default_position(api, message):
    response = api.patch(detail_url(message["id"]), {"display": {"type": "banner"}})

    assert response.json()["display"] == {"type": "banner", "position": "top", "elementId": None}


def test_a_goal_condition_changed_to_none_forgets_its_segment(api, message):
    response = api.patch(detail_url(message["id"]), {"goal": {"condition": {"type": "none"}}})

    assert response.json()["goal"]["condition"] == {
        "type": "none",
        "event": None,
        "segmentId": None,
    }
    assert AnonymousMessage.objects.get(pk=message["id"]).goal_segment_id is None


def test_the_representation_can_be_sent_back_as_a_patch(api, message):
    response = api.patch(detail_url(message["id"]), message)

    assert response.status_code == 200
    assert response.json() == message


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"id": 123456}, "id"),
        ({"state": "active"}, "state"),
        ({"name": ""}, "name"),
    ],
)
def test_read_only_fields_cannot_be_changed_by_patch(api, message, body, field):
    response = api.patch(detail_url(message["id"]), body)

    assert response.status_code == 400
    assert response.json()["field"] == field


def test_a_rejected_patch_changes_nothing(api, message):
    response = api.patch(
        detail_url(message["id"]),
        {
            "name": "Half-written?",
            "pageRules": [{"value": "/new"}],
            "schedule": {"endsAt": "2001-01-01T00:00:00Z"},
        },
    )

    assert response.status_code == 400
    assert response.json()["field"] == "schedule.endsAt"
    assert api.get(detail_url(message["id"])).json() == message


def test_a_patch_of_another_workspace_message_is_a_404_and_changes_nothing(api):
    other = AnonymousMessageFactory(name="Theirs")

    response = api.patch(detail_url(other.id), {"name": "Mine now"})

    assert response.status_code == 404
    other.refresh_from_db()
    assert other.name == "Theirs"


def test_editing_a_live_message_is_allowed_and_bumps_the_content_version(api, workspace):
    live = AnonymousMessageFactory(workspace=workspace, launched=True)
    version = Workspace.objects.get(pk=workspace.pk).content_version

    response = api.patch(detail_url(live.id), {"content": {"html": "<p>New offer</p>"}})

    assert response.status_code == 200
    assert response.json()["state"] == "active"
    assert response.json()["content"]["html"] == "<p>New offer</p>"
    assert Workspace.objects.get(pk=workspace.pk).content_version > version


def test_a_live_message_cannot_lose_its_content(api, workspace):
    live = AnonymousMessageFactory(workspace=workspace, launched=True)

    response = api.patch(detail_url(live.id), {"content": {"html": ""}})

    assert response.status_code == 400
    assert response.json()["field"] == "content.html"
    live.refresh_from_db()
    assert live.content_html


def test_html_written_through_the_api_replaces_the_builder(api, workspace):
    drafted = AnonymousMessageFactory(workspace=workspace, content_builder={"heading": "Hi"})

    api.patch(detail_url(drafted.id), {"content": {"html": "<p>Raw</p>"}})

    drafted.refresh_from_db()
    assert drafted.content_builder is None


def test_patching_one_section_is_not_refused_because_of_another_unfinished_one(api, workspace):
    unfinished = AnonymousMessageFactory(workspace=workspace, goal_condition="event", goal_event="")

    response = api.patch(detail_url(unfinished.id), {"description": "Later"})

    assert response.status_code == 200


@pytest.mark.parametrize("status", [Status.ENDED, Status.ARCHIVED])
def test_ended_and_archived_messages_are_not_editable(api, workspace, status):
    kept = AnonymousMessageFactory(workspace=workspace, status=status, name="As it ran")

    response = api.patch(detail_url(kept.id), {"name": "Changed"})

    assert response.status_code == 409
    assert response.json()["error"] == "not_editable"
    kept.refresh_from_db()
    assert kept.name == "As it ran"


def test_another_workspace_key_cannot_read_this_workspace_message(client, workspace):
    mine = AnonymousMessageFactory(workspace=workspace)
    theirs = Api(client, WorkspaceFactory().rotate_api_key())

    assert theirs.get(detail_url(mine.id)).status_code == 404
    assert theirs.get(LIST_URL).json() == {"messages": []}
