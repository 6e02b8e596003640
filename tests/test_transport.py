"""Error replies of every protocol become the right exception, on one line, without the key."""

from __future__ import annotations

import httpx
import pytest
from recorded import load_json

from cloudsway_nb import errors
from cloudsway_nb.transport import error_from_exception, error_from_response


@pytest.mark.parametrize(
    ("status", "body", "cls", "message", "code"),
    [
        (400, {"error": {"message": "bad temp", "type": "invalid_request_error", "param": "t", "code": None}},
         errors.BadRequestError, "bad temp", "invalid_request_error"),
        (401, {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}},
         errors.AuthenticationError, "invalid x-api-key", "authentication_error"),
        (403, {"error": {"code": 403, "message": "denied", "status": "PERMISSION_DENIED"}},
         errors.PermissionDeniedError, "denied", "403"),
        (404, {"detail": "Not Found"}, errors.NotFoundError, "Not Found", None),
        (409, {"error": "conflict!"}, errors.ConflictError, "conflict!", None),
        (413, {"error": {"message": "too big"}}, errors.BadRequestError, "too big", None),
        (429, {"error": {"message": "Rate limit", "code": "rate_limit_exceeded"}},
         errors.RateLimitError, "Rate limit", "rate_limit_exceeded"),
        (500, {"error": {"message": "boom"}}, errors.ServerError, "boom", None),
        (529, load_json("messages/overloaded_error.json"),
         errors.OverloadedError, "Overloaded", "overloaded_error"),
    ],
)
def test_protocol_error_bodies(status, body, cls, message, code, canary) -> None:
    response = httpx.Response(status, json=body, headers={"x-request-id": "req_42"})
    error = error_from_response(response, secrets=[canary])
    assert type(error) is cls
    assert (error.status, error.message, error.request_id, error.code) == (status, message, "req_42", code)
    assert error.one_line() == f"{cls.__name__}: {status} {message} (request id req_42)"


def test_plain_text_and_empty_bodies() -> None:
    assert error_from_response(httpx.Response(502, text="<html>Bad gateway</html>"), secrets=()).message == (
        "Bad gateway"
    )
    assert error_from_response(httpx.Response(503), secrets=()).message == "Service Unavailable"
    assert error_from_response(httpx.Response(500, text="oops\n  at line 3"), secrets=()).message == "oops"


NGINX_PAGE = """<!DOCTYPE html>
<html>
<head><title>502 Bad Gateway</title>
<style>body { font-family: sans-serif; }</style></head>
<body>
<center><h1>502 Bad Gateway</h1></center>
<hr><center>nginx/1.25.3</center>
""" + "<!-- a padding comment to make the page long -->\n" * 20 + "</body></html>"


def test_an_html_error_page_is_summarized_in_one_line() -> None:
    # issue 11, point 18: a non-JSON 5xx body used to be dumped (300 characters of HTML)
    error = error_from_response(httpx.Response(502, text=NGINX_PAGE, headers={"content-type": "text/html"}),
                                secrets=())
    assert error.message == "502 Bad Gateway" and error.one_line() == "ServerError: 502 502 Bad Gateway"
    body = "<html><body><p>" + "word " * 100 + "</p></body></html>"
    message = error_from_response(httpx.Response(503, text=body), secrets=()).message
    assert "<" not in message and len(message) <= 120 and message.endswith("…")


def test_anthropic_request_id_header() -> None:
    error = error_from_response(httpx.Response(500, headers={"request-id": "req_ant"}), secrets=())
    assert error.request_id == "req_ant"


def test_a_server_echoing_the_key_is_scrubbed(canary: str) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {canary}. Or {canary[:22]}..."}}
    error = error_from_response(httpx.Response(401, json=body), secrets=[canary])
    for text in (str(error), repr(error), error.message, str(error.body)):
        assert canary not in text and canary[:22] not in text


def test_multi_line_messages_become_one_line() -> None:
    error = error_from_response(httpx.Response(400, json={"error": {"message": "a\n  b\n"}}), secrets=())
    assert error.one_line() == "BadRequestError: 400 a b"


def test_base64_echoed_by_the_server_is_summarized() -> None:
    import base64
    import os

    payload = base64.b64encode(os.urandom(1500)).decode()
    body = {"error": {"message": f"Invalid image_url: data:image/png;base64,{payload}\nExpected a valid image."}}
    error = error_from_response(httpx.Response(400, json=body, headers={"x-request-id": "r1"}), secrets=())
    assert error.one_line() == (
        "BadRequestError: 400 Invalid image_url: data:image/png;base64,… (1 KB) Expected a valid image. (request id r1)"
    )
    bare = errors.APIError(f"could not decode {payload[:900]}... as an image")
    assert bare.message == "could not decode base64,… (675 B)... as an image"
    for text in (str(error), repr(error), str(bare)):
        assert payload[:50] not in text and "\n" not in text
    path = "/" + "abcdefgh/" * 40  # a long run of base64 characters that is not base64
    assert errors.APIError(f"not found: {path}").message == f"not found: {path}"


def test_transport_exceptions() -> None:
    timeout = error_from_exception(httpx.ReadTimeout("read timed out"), secrets=())
    assert isinstance(timeout, errors.APITimeoutError) and "timed out" in str(timeout)
    refused = error_from_exception(httpx.ConnectError("refused"), secrets=())
    assert type(refused) is errors.APIConnectionError


def test_error_tree() -> None:
    assert issubclass(errors.APITimeoutError, errors.APIConnectionError)
    assert issubclass(errors.OverloadedError, errors.ServerError)
    assert issubclass(errors.ConfigError, errors.UsageError)
    assert issubclass(errors.UsageError, ValueError)
    for cls in (errors.StreamError, errors.MalformedReplyError, errors.APIStatusError):
        assert issubclass(cls, errors.APIError)


def test_errors_pickle() -> None:
    import pickle

    error = errors.RateLimitError("slow", status=429, request_id="r")
    again = pickle.loads(pickle.dumps(error))
    assert (type(again), again.status, again.request_id, again.message) == (errors.RateLimitError, 429, "r", "slow")
