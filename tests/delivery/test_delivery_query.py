"""delivery/sdk_api/views.py `_query`: the delivery query string read as Django's QueryDict
would read it ({name: last value}), for every shape a client may send."""

from urllib.parse import parse_qsl

import pytest
from django.test import RequestFactory

from anonmsg.api import BadInput
from delivery.sdk_api.views import _query


def query_of(raw: str) -> dict:
    request = RequestFactory().get("/api/v1/delivery")
    request.META["QUERY_STRING"] = raw
    return _query(request)


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "writeKey=wk_1&anonymousId=a-1&url=%2Fpricing",
        "url=https%3A%2F%2Fshop.example.com%2Fpricing%3Fplan%3Dteam%26utm_source%3Dnews",
        "screen=Check+out&platform=ios",
        "a=1&a=2",  # the last value wins, as request.GET.get() answers
        "fresh&anonymousId=&=x&&",
        "url=/caf%C3%A9?q=a=b",
        "url=%E9t%E9",  # not UTF-8 once unescaped: replaced, as parse_qsl does
        "name%20with%20space=v%2Bplus+space",
        "url=%zz%2",  # broken escapes stay as they are
        "emoji=%F0%9F%98%80&x=1",
        # Longer than the memoised fields (MEMOISED_FIELD_LENGTH): decoded each time, alike.
        "url=%2F" + "caf%C3%A9+" * 150 + "&anonymousId=a-1",
    ],
)
def test_the_query_reads_as_parse_qsl_reads_it(raw):
    assert query_of(raw) == dict(parse_qsl(raw, keep_blank_values=True))


def test_a_query_string_that_is_not_utf8_reads_as_latin1():
    # The WSGI server hands the bytes over as Latin-1 text; "é" in Latin-1 is one byte.
    raw = b"url=/caf\xe9".decode("iso-8859-1")
    assert query_of(raw) == {"url": "/café"}


def test_too_many_fields_are_refused(settings):
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3
    assert query_of("a=1&b=2&c=3") == {"a": "1", "b": "2", "c": "3"}
    with pytest.raises(BadInput) as refused:
        query_of("a=1&b=2&c=3&d=4")
    assert refused.value.code == "too_many_parameters"
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = None
    assert len(query_of("&".join(f"f{n}=1" for n in range(5000)))) == 5000


def test_a_memoised_field_reads_the_same_the_second_time():
    raw = "url=https%3A%2F%2Fshop.example.com%2F%C3%A9t%C3%A9&anonymousId=a+1"
    assert query_of(raw) == query_of(raw) == dict(parse_qsl(raw, keep_blank_values=True))
