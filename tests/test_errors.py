"""The exception tree: which class a status gets, how an error reads, what it hides and keeps."""

from __future__ import annotations

import base64
import pickle
import random

import pytest

from cloudsway_nb import errors
from cloudsway_nb.errors import (
    APIConnectionError,
    APIError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    CloudswayError,
    ConfigError,
    ConflictError,
    MalformedReplyError,
    NotFoundError,
    OverloadedError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    StreamError,
    UnsupportedError,
    UsageError,
    describe_error,
    error_for_status,
    redact,
)
from cloudsway_nb.types import Choice, Reply


def b64(size: int) -> str:
    """Base64 of `size` fixed pseudo-random bytes (upper and lower case and digits, as real payloads)."""
    return base64.b64encode(random.Random(size).randbytes(size)).decode()


# ------------------------------------------------------------------------------------------------
# the tree
# ------------------------------------------------------------------------------------------------

PARENTS = {
    UsageError: CloudswayError,
    ConfigError: UsageError,
    UnsupportedError: UsageError,
    APIError: CloudswayError,
    APIConnectionError: APIError,
    APITimeoutError: APIConnectionError,
    MalformedReplyError: APIError,
    StreamError: APIError,
    APIStatusError: APIError,
    BadRequestError: APIStatusError,
    AuthenticationError: APIStatusError,
    PermissionDeniedError: APIStatusError,
    NotFoundError: APIStatusError,
    ConflictError: APIStatusError,
    RateLimitError: APIStatusError,
    ServerError: APIStatusError,
    OverloadedError: ServerError,
}


@pytest.mark.parametrize(("child", "parent"), PARENTS.items(), ids=lambda c: c.__name__)
def test_each_error_has_its_documented_parent(child: type, parent: type) -> None:
    assert child.__bases__[0] is parent


def test_the_tree_is_the_whole_public_tree() -> None:
    public = {getattr(errors, name) for name in errors.__all__}
    classes = {c for c in public if isinstance(c, type)}
    assert classes == {*PARENTS, CloudswayError}
    assert issubclass(CloudswayError, Exception)


def test_usage_errors_are_value_errors_and_api_errors_are_not() -> None:
    assert issubclass(ConfigError, ValueError)
    assert issubclass(UnsupportedError, ValueError)
    assert not issubclass(APIError, ValueError)
    assert not issubclass(APIError, UsageError)
    with pytest.raises(ValueError):
        raise ConfigError("no key")


# ------------------------------------------------------------------------------------------------
# statuses
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequestError),
        (401, AuthenticationError),
        (403, PermissionDeniedError),
        (404, NotFoundError),
        (409, ConflictError),
        (413, BadRequestError),
        (422, BadRequestError),
        (429, RateLimitError),
        (500, ServerError),
        (502, ServerError),
        (503, ServerError),
        (529, OverloadedError),
        (599, ServerError),
        (402, APIStatusError),
        (418, APIStatusError),
        (499, APIStatusError),
    ],
)
def test_error_for_status(status: int, cls: type[APIStatusError]) -> None:
    assert error_for_status(status) is cls


def test_status_classes_carry_their_status_and_an_instance_may_say_another() -> None:
    assert RateLimitError("x").status == 429
    assert OverloadedError("x").status == 529
    assert ServerError("x").status == 500
    assert ServerError("x", status=503).status == 503
    assert ServerError.status == 500  # the class default is untouched
    assert APIError("x").status is None
    assert APIConnectionError("x").status is None
    assert error_for_status(413)("too big", status=413).status == 413


# ------------------------------------------------------------------------------------------------
# attributes, str, one_line, repr
# ------------------------------------------------------------------------------------------------


def test_an_api_error_keeps_what_the_server_said() -> None:
    partial = Reply(choices=[Choice(text="Hel")])
    e = StreamError("overloaded", request_id="req_9", code="overloaded_error", body={"error": 1}, partial=partial)
    assert (e.message, e.request_id, e.code, e.body, e.partial) == (
        "overloaded",
        "req_9",
        "overloaded_error",
        {"error": 1},
        partial,
    )
    assert e.args == ("overloaded",)


def test_the_message_is_one_line_and_never_empty() -> None:
    assert APIError("bad\n  request\t body ").message == "bad request body"
    assert APIError("").message == "(no message)"
    assert APIError("   \n").message == "(no message)"
    assert APIError({"error": "dict"}).message == "{'error': 'dict'}"  # type: ignore[arg-type]


def test_str_has_status_message_request_id_and_what_had_arrived() -> None:
    assert str(APIError("dropped")) == "dropped"
    assert str(NotFoundError("no such model")) == "404 no such model"
    assert str(RateLimitError("slow down", request_id="req_1")) == "429 slow down (request id req_1)"
    partial = Reply(choices=[Choice(text="Hello")])
    assert str(StreamError("cut", request_id="r", partial=partial)) == "cut (request id r) [5 characters had arrived]"
    assert str(StreamError("cut", partial=Reply())) == "cut"  # nothing had arrived: nothing to say


def test_one_line_names_the_class() -> None:
    e = OverloadedError("busy", request_id="req_2")
    assert e.one_line() == "OverloadedError: 529 busy (request id req_2)"
    assert "\n" not in APITimeoutError("took\nlong").one_line()


def test_repr() -> None:
    assert repr(RateLimitError("slow", request_id="r1")) == "RateLimitError('slow', status=429, request_id='r1')"
    assert repr(APIConnectionError("refused")) == "APIConnectionError('refused', status=None, request_id=None)"


# ------------------------------------------------------------------------------------------------
# pickling (multiprocessing, nbclient)
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [APIError, APITimeoutError, StreamError, RateLimitError, OverloadedError])
def test_errors_survive_pickling(cls: type[APIError]) -> None:
    e = cls("boom", status=503, request_id="req_3", code="c", body={"big": "body"}, partial=Reply())
    back = pickle.loads(pickle.dumps(e))
    assert type(back) is cls
    assert (back.message, back.status, back.request_id, back.code) == ("boom", 503, "req_3", "c")
    assert back.body is None and back.partial is None  # bodies and partial replies stay behind
    assert str(back) == str(e)


def test_an_unpickled_status_error_keeps_its_class_status() -> None:
    back = pickle.loads(pickle.dumps(NotFoundError("gone")))
    assert back.status == 404
    assert str(back) == "404 gone"


def test_usage_errors_pickle_too() -> None:
    back = pickle.loads(pickle.dumps(ConfigError("no key")))
    assert type(back) is ConfigError and str(back) == "no key"


# ------------------------------------------------------------------------------------------------
# redact
# ------------------------------------------------------------------------------------------------


def test_redact_replaces_every_occurrence_of_each_secret(canary: str) -> None:
    text = f"key {canary} rejected; you sent {canary} and tok-9999"
    assert redact(text, [canary, "tok-9999"]) == "key *** rejected; you sent *** and ***"
    assert redact(text, (canary,)).count("***") == 2


def test_redact_hides_a_long_prefix_of_a_long_secret(canary: str) -> None:
    cut = canary[: len(canary) * 2 // 3]
    out = redact(f"invalid key {cut}... (truncated)", [canary])
    assert cut not in out
    assert out == "invalid key ***... (truncated)"
    assert redact(f"sent {canary[:-2]}", [canary]) == f"sent ***{canary[len(cut) : -2]}"


def test_redact_leaves_prefixes_of_short_secrets_and_ignores_tiny_ones() -> None:
    short = "abcdefgh"  # under 12 characters: only the whole secret is hidden
    assert redact("abcdef and abcdefgh", [short]) == "abcdef and ***"
    assert redact("a b abc", ["abc", "", "a"]) == "a b abc"  # under 4 characters: never replaced
    assert redact("nothing here", []) == "nothing here"
    assert redact("nothing here") == "nothing here"


# ------------------------------------------------------------------------------------------------
# base64 in messages
# ------------------------------------------------------------------------------------------------


def test_a_data_url_in_a_message_becomes_a_summary() -> None:
    payload = b64(3000)
    e = BadRequestError(f"Invalid image_url data:image/png;base64,{payload} in messages[0]", status=400)
    assert e.message == "Invalid image_url data:image/png;base64,… (2 KB) in messages[0]"
    assert payload[:50] not in str(e)


@pytest.mark.parametrize("cut", ["…", "...", ""])
def test_a_data_url_the_server_cut_short_loses_its_marker_too(cut: str) -> None:
    e = APIError(f"bad data:audio/wav;base64,{'QUJD' * 100}{cut} here")
    assert e.message == "bad data:audio/wav;base64,… (300 B) here"


def test_a_data_url_with_parameters_and_no_mime_type() -> None:
    e = APIError(f"x data:image/jpeg;name=cat.jpg;base64,{'A' * 400}= y")
    assert e.message == "x data:image/jpeg;base64,… (300 B) y"
    e = APIError(f"x data:;base64,{'QUJD' * 100} y")
    assert e.message == "x data:application/octet-stream;base64,… (300 B) y"


def test_a_bare_base64_run_becomes_a_summary_but_long_words_do_not() -> None:
    assert APIError(f"got {b64(3000)} back").message == "got base64,… (2 KB) back"
    word = "a" * 300  # no capitals, no digits: not base64
    path = "/very/long/" + "directory/" * 30
    assert APIError(f"got {word} and {path}").message == f"got {word} and {path}"


def test_short_messages_are_left_alone() -> None:
    text = "data:image/png;base64,QUJD is tiny"
    assert APIError(text).message == text


def test_a_megabyte_payload_does_not_make_a_megabyte_error() -> None:
    e = ServerError(f"echo: data:image/webp;base64,{b64(1024 * 1024)}")
    assert e.message == "echo: data:image/webp;base64,… (1.0 MB)"


# ------------------------------------------------------------------------------------------------
# describe_error
# ------------------------------------------------------------------------------------------------


def test_describe_error_gives_an_api_error_its_class_status_and_request_id() -> None:
    assert describe_error(RateLimitError("slow down", request_id="req_1")) == (
        "RateLimitError: 429 slow down (request id req_1)"
    )
    assert describe_error(APIConnectionError("refused")) == "APIConnectionError: refused"


def test_describe_error_gives_other_exceptions_their_text_on_one_line() -> None:
    assert describe_error(ValueError("bad\n  input")) == "bad input"
    assert describe_error(ConfigError("no key;\nset CLOUDSWAY_API_KEY")) == "no key; set CLOUDSWAY_API_KEY"
    assert describe_error(KeyboardInterrupt()) == ""
