"""The embeddings adapter and the Embeddings value, from hand-written fixtures."""

from __future__ import annotations

import base64
import copy
import struct

import pytest

from cloudsway_nb.errors import MalformedReplyError, UsageError
from cloudsway_nb.protocols import get_adapter
from cloudsway_nb.protocols.embeddings import Embeddings, EmbeddingsAdapter
from cloudsway_nb.types import Usage

adapter = EmbeddingsAdapter()


def b64(*values: float) -> str:
    """What the server sends for encoding_format=base64: packed little-endian float32."""
    return base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()


def reply(*embeddings, model="text-embedding-3-small", usage=None):
    return {
        "object": "list",
        "data": [{"object": "embedding", "index": i, "embedding": e} for i, e in enumerate(embeddings)],
        "model": model,
        "usage": usage if usage is not None else {"prompt_tokens": 8, "total_tokens": 8},
    }


# ------------------------------------------------------------------------------ requests


def test_registered_and_carries_no_media():
    assert isinstance(get_adapter("embeddings"), EmbeddingsAdapter)
    assert (adapter.name, adapter.media_kinds) == ("embeddings", ())


def test_request_for_one_text():
    req = adapter.build_embed_request("team/MaaS-e5", "The quick brown fox", "multilingual-e5-large", {})
    assert (req.method, req.path, req.stream) == ("POST", "/v1/ai/team/MaaS-e5/embeddings", False)
    assert req.json == {
        "model": "multilingual-e5-large",
        "input": ["The quick brown fox"],
        "encoding_format": "base64",
    }


def test_request_for_many_texts_with_params():
    req = adapter.build_embed_request("e5", ("a", "b"), None, {"dimensions": 256, "user": "u-1", "extra": None})
    assert req.json == {"input": ["a", "b"], "encoding_format": "base64", "dimensions": 256, "user": "u-1"}


def test_the_user_can_ask_for_floats():
    req = adapter.build_embed_request("e5", ["a"], None, {"encoding_format": "float"})
    assert req.json["encoding_format"] == "float"


def test_token_arrays_pass_through():
    assert adapter.build_embed_request("e5", [[1, 2, 3]], None, {}).json["input"] == [[1, 2, 3]]


@pytest.mark.parametrize("texts", [[], "", ["a", ""]])
def test_nothing_to_embed(texts):
    with pytest.raises(UsageError):
        adapter.build_embed_request("e5", texts, None, {})


def test_embeddings_do_not_chat():
    """The adapter says what it can do; it has no chat methods to refuse with."""
    assert adapter.can("embeddings") and not adapter.can("chat") and not adapter.can("stream")
    for method in ("build_request", "parse_reply", "stream_parser", "build_retrieve"):
        assert not hasattr(adapter, method)


# ------------------------------------------------------------------------------ replies


def test_base64_vectors_decoded_in_order():
    data = reply(b64(0.5, -1.25, 3.0), b64(0.1, 0.2, 0.3))
    data["data"].reverse()  # servers may answer out of order: index decides
    original = copy.deepcopy(data)
    e = adapter.parse_embeddings(data)
    assert e.vectors[0] == [0.5, -1.25, 3.0]
    assert e.vectors[1] == pytest.approx([0.1, 0.2, 0.3], rel=1e-6)
    assert (len(e), e.dimensions, e.model) == (2, 3, "text-embedding-3-small")
    assert e.usage == Usage(input=8, total=8)
    assert e.usage.raw == {"prompt_tokens": 8, "total_tokens": 8}
    assert data == original  # the server's JSON is not modified


def test_float_vectors():
    data = reply([0.25, 0.5], [1.0, -1.0], usage={"prompt_tokens": 4, "total_tokens": 5})
    e = adapter.parse_embeddings(data)
    assert e.vectors == [[0.25, 0.5], [1.0, -1.0]]
    assert (e.usage.input, e.usage.total, e.usage.output) == (4, 5, None)
    assert e.raw["data"][0]["embedding"] is e.vectors[0]  # shared, not copied


def test_raw_summarizes_base64():
    encoded = b64(*range(64))
    e = adapter.parse_embeddings(reply(encoded))
    assert e.raw["data"][0]["embedding"] == "<base64: 64 float32>"
    assert encoded not in repr(e.raw)
    assert (e.raw["model"], e.raw["usage"], e.raw["object"]) == (
        "text-embedding-3-small",
        {"prompt_tokens": 8, "total_tokens": 8},
        "list",
    )


def test_sequence_behaviour_and_repr():
    e = adapter.parse_embeddings(reply(b64(1, 2), b64(3, 4), b64(5, 6)))
    assert e[1] == [3.0, 4.0]
    assert e[-1] == [5.0, 6.0]
    assert e[:2] == [[1.0, 2.0], [3.0, 4.0]]
    assert list(e) == e.vectors
    assert repr(e) == "Embeddings(3 vectors × 2 dimensions, model='text-embedding-3-small', tokens=8)"
    assert e.latency is None


def test_to_numpy_from_base64_and_from_floats():
    np = pytest.importorskip("numpy")
    packed = adapter.parse_embeddings(reply(b64(1, 2, 3), b64(4, 5, 6))).to_numpy()
    floats = adapter.parse_embeddings(reply([1, 2, 3], [4, 5, 6])).to_numpy()
    for array in (packed, floats):
        assert array.shape == (2, 3)
        assert array.dtype == np.float32
        assert array.tolist() == [[1, 2, 3], [4, 5, 6]]
    packed[0, 0] = 9  # a writable copy
    assert adapter.parse_embeddings(reply(b64(1.5))).to_numpy(dtype="float64").dtype == np.float64


def test_empty_reply_and_missing_usage():
    e = adapter.parse_embeddings({"data": [], "model": "m"})
    assert (len(e), e.dimensions, e.usage.input, e.usage.raw) == (0, None, None, None)
    assert repr(e) == "Embeddings(0 vectors × 0 dimensions, model='m')"


def test_a_hand_built_value():
    e = Embeddings([[1.0, 0.0]], model="m")
    assert e == Embeddings([[1.0, 0.0]], model="m")
    assert e.usage == Usage()


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([], "JSON object"),
        ({"error": {"message": "input too long"}}, "input too long"),
        ({"object": "list"}, "'data' list"),
        ({"data": [{"index": 0}]}, "no 'embedding'"),
        ({"data": [{"index": 0, "embedding": "not base64!"}]}, "not valid base64"),
        ({"data": [{"index": 0, "embedding": base64.b64encode(b"abcde").decode()}]}, "whole float32"),
    ],
)
def test_malformed_replies(data, match):
    with pytest.raises(MalformedReplyError, match=match):
        adapter.parse_embeddings(data)
