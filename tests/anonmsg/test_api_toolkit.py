"""The public-API toolkit (anonmsg/api.py): the JSON 405, `allow_methods` and `cors`."""

import json

from django.http import JsonResponse
from django.test import RequestFactory

from anonmsg.api import allow_methods, cors

factory = RequestFactory()


def answer(request):
    response = JsonResponse({"ok": True})
    if "slow" in request.GET:
        response["Retry-After"] = "3"
    return response


def test_allow_methods_answers_other_methods_with_the_json_405_and_allows_head_with_get():
    view = allow_methods("GET", "POST")(answer)

    response = view(factory.put("/x"))

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST, HEAD"
    assert json.loads(response.content) == {
        "error": "method_not_allowed",
        "message": "PUT is not allowed here: use GET or POST.",
    }
    assert view(factory.head("/x")).status_code == 200
    assert view.allowed_methods == ("GET", "POST")


def test_cors_answers_the_preflight_itself_for_any_origin():
    view = cors(methods=("POST",), not_allowed="Use POST.", allow_headers="Content-Type, X-A")(
        answer
    )

    response = view(factory.options("/x"))

    assert response.status_code == 204
    assert response["Access-Control-Allow-Origin"] == "*"
    assert response["Access-Control-Allow-Methods"] == "POST, OPTIONS"
    assert response["Access-Control-Allow-Headers"] == "Content-Type, X-A"
    assert response["Access-Control-Max-Age"] == "86400"
    assert "Access-Control-Allow-Credentials" not in response


def test_cors_answers_other_methods_with_the_json_405_open_to_any_origin():
    view = cors(methods=("GET",), not_allowed="Use GET.")(answer)

    response = view(factory.delete("/x"))

    assert response.status_code == 405
    assert response["Allow"] == "GET, OPTIONS"
    assert response["Access-Control-Allow-Origin"] == "*"
    assert json.loads(response.content) == {"error": "method_not_allowed", "message": "Use GET."}
    assert view(factory.head("/x")).status_code == 200


def test_cors_exposes_its_headers_on_every_answer_or_only_those_present():
    always = cors(methods=("GET",), not_allowed="Use GET.", expose_headers=("A", "Retry-After"))
    present = cors(
        methods=("GET",),
        not_allowed="Use GET.",
        expose_headers=("Retry-After",),
        expose_only_present=True,
    )

    assert always(answer)(factory.get("/x"))["Access-Control-Expose-Headers"] == "A, Retry-After"
    assert "Access-Control-Expose-Headers" not in present(answer)(factory.get("/x"))
    slow = present(answer)(factory.get("/x?slow=1"))
    assert slow["Access-Control-Expose-Headers"] == "Retry-After"
