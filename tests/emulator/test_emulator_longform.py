"""Long, structured answers: asked for more (an essay, a story, code, a table, a list, a proof, a long
answer, a length in words), the emulator answers with deterministic, well-formed Markdown of that
kind and length, within max_tokens, with usage that counts exactly the text sent; short prompts
answer as before."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest
from markdown_it import MarkdownIt

from cloudsway_nb.emulator.conversation import Prompt, Tool, ToolCall, ToolResult, Turn
from cloudsway_nb.emulator.generate import plan_reply
from cloudsway_nb.emulator.longform import prose_words, read_request
from cloudsway_nb.emulator.tokenizer import count_tokens, pieces

BEARER = {"Authorization": "Bearer k"}
MD = MarkdownIt("commonmark").enable("table")


def reply(text: str, **prompt: Any) -> Any:
    return plan_reply(Prompt(turns=[Turn("user", text)], **prompt))


def tokens_of(markdown: str) -> list[str]:
    return [t.type for t in MD.parse(markdown)]


def fences(markdown: str) -> list[tuple[str, str]]:
    """(info, content) of every fenced code block."""
    return [(t.info, t.content) for t in MD.parse(markdown) if t.type == "fence"]


def assert_well_formed(markdown: str) -> None:
    lines = markdown.splitlines()
    assert sum(1 for line in lines if line.startswith("```")) % 2 == 0, "a code fence is left open"
    assert sum(1 for line in lines if line.strip() == "$$") % 2 == 0, "a display-math block is left open"
    outside = re.sub(r"```.*?```|\$\$.*?\$\$", "", markdown, flags=re.S)
    for paragraph in outside.split("\n\n"):
        assert paragraph.count("$") % 2 == 0, f"unbalanced inline math in {paragraph!r}"
        assert paragraph.count("**") % 2 == 0, f"unbalanced bold in {paragraph!r}"
    for info, _ in fences(markdown):
        assert info, "a code fence without a language"
    for block in re.findall(r"(?m)^\|.*\|$(?:\n^\|.*\|$)+", markdown):  # every table: same columns per row
        assert len({row.count("|") for row in block.splitlines()}) == 1


# ---------------------------------------------------------------- which prompts ask for more


@pytest.mark.parametrize(
    ("prompt", "kinds"),
    [
        ("Write a short essay about lighthouses.", ("essay",)),
        ("Write me a 300-word essay", ("essay",)),
        ("Write a 150-word fable", ("story",)),
        ("Tell me a story about a brave ant", ("story",)),
        ("Write Python code to reverse a string", ("code",)),
        ("Write a Rust function that sorts names", ("code",)),
        ("Compare tea and coffee in a table", ("table",)),
        ("List 5 tips for brewing tea", ("list",)),
        ("What are the steps to bake bread?", ("list",)),
        ("Prove the Pythagorean theorem", ("math",)),
        ("Give me a long, detailed answer about tides", ("essay", "list", "table", "code", "math")),
        ("Write 200 words about bees", ("essay",)),
        ("Explain rainbows in Markdown", ("essay", "list", "table", "code", "math")),
    ],
)
def test_prompts_that_ask_for_more(prompt: str, kinds: tuple[str, ...]) -> None:
    form = read_request(prompt)
    assert form is not None and form.kinds == kinds


@pytest.mark.parametrize(
    "prompt",
    [
        "Why is the sky blue? One sentence, please.",
        "Explain tides to a ten-year-old.",
        "How long is the video?",
        "Describe the image.",
        "Summarize the history of maps.",
        "Summarise this long report.",
        "Name three moons of Jupiter.",
        "Count from one to five",
        "<img src=x onerror=alert(1)> <script>alert(2)</script>",
        "It took a long time to get here.",
        "Put the cup on the table",
        "Convert this markdown to HTML",
        "Hello",
    ],
)
def test_short_prompts_answer_as_before(prompt: str) -> None:
    assert read_request(prompt) is None
    assert reply(prompt).text == f"You said: {' '.join(prompt.split())}" + ("" if prompt[-1] in ".?!" else ".")


@pytest.mark.parametrize(
    ("prompt", "topic"),
    [
        ("Give me a short Markdown answer on tides: a list, a table and some code.", "tides"),
        ("Write an essay about bees with a list", "bees"),
        ("Compare tea and coffee in a table", "tea and coffee"),
        ("Prove the Pythagorean theorem", "the Pythagorean theorem"),
        ("Write me a 300-word essay", ""),  # none: the answer picks one
    ],
)
def test_the_topic_is_what_the_request_is_about(prompt: str, topic: str) -> None:
    assert read_request(prompt).topic == topic


def test_max_tokens_alone_does_not_make_an_answer_long() -> None:
    # Anthropic needs max_tokens on every call (this client sends 4096): the words decide
    assert reply("Hello", max_tokens=4096).text == "You said: Hello."


# ---------------------------------------------------------------- of that kind


def test_an_essay_has_a_title_sections_paragraphs_and_a_conclusion() -> None:
    text = reply("Write a short essay about lighthouses.").text
    assert text.startswith("You asked for a short essay on lighthouses.\n\n# Lighthouses\n\n## ")
    assert text.endswith(text.split("## Conclusion\n\n")[-1]) and "## Conclusion" in text
    kinds = tokens_of(text)
    assert kinds.count("heading_open") >= 3 and kinds.count("paragraph_open") >= 4
    assert_well_formed(text)


def test_code_is_a_complete_program_in_a_fence_tagged_with_its_language() -> None:
    text = reply("Write Python code to reverse a string").text
    assert_well_formed(text)
    (info, code), *_ = fences(text)
    assert info == "python" and "def reverse_string(text: str) -> str:" in code
    compile(code, "answer.py", "exec")
    namespace: dict[str, Any] = {}
    exec(compile(code.replace('if __name__ == "__main__":', "if False:"), "answer.py", "exec"), namespace)
    assert namespace["reverse_string"]("abc") == "cba"
    for prompt, language in [
        ("Write a Rust function that sorts names", "rust"),
        ("Show me JavaScript code for a todo list", "javascript"),
        ("Write a SQL query for the top customers", "sql"),
        ("Write a bash script to tidy a folder", "bash"),
        ("Write a long Python script that counts words", "python"),
    ]:
        found = fences(reply(prompt).text)
        assert found[0][0] == language, prompt
    long = fences(reply("Write a long Python script that counts words").text)
    assert [info for info, _ in long] == ["python", "bash"]  # the program, then how to run it
    compile(long[0][1], "answer.py", "exec")


def test_a_table_has_a_header_row_and_the_rows_asked_for() -> None:
    text = reply("Compare tea and coffee in a table with 6 rows").text
    assert_well_formed(text)
    assert tokens_of(text).count("tr_open") == 7  # the header and 6 rows
    assert "| Aspect | Tea | Coffee |" in text
    assert tokens_of(reply("Make a table of the planets").text).count("th_open") == 4


def test_a_list_has_the_items_asked_for() -> None:
    text = reply("List 7 tips for brewing tea").text
    assert_well_formed(text)
    assert tokens_of(text).count("list_item_open") == 7 and "ordered_list_open" in tokens_of(text)
    assert tokens_of(reply("List three tips for brewing tea").text).count("list_item_open") == 3


def test_a_proof_has_inline_and_display_math() -> None:
    text = reply("Prove the Pythagorean theorem").text
    assert_well_formed(text)
    assert "$a^2 + b^2 = c^2$" in text and "$$\na^2 + b^2 = c^2\n$$" in text
    assert "$$\nS - rS = 1 - r^n" in reply("Derive the geometric series formula").text


def test_a_long_answer_has_a_bit_of_everything() -> None:
    text = reply("Give me a long, detailed answer about tides").text
    assert_well_formed(text)
    kinds = tokens_of(text)
    for kind in ("heading_open", "ordered_list_open", "table_open", "fence", "paragraph_open"):
        assert kind in kinds, kind
    assert "$$" in text and count_tokens(text) > 600


def test_a_story_and_a_fable() -> None:
    fable = reply("Write a 150-word fable").text
    assert_well_formed(fable)
    assert fable.splitlines()[2].startswith("# The ") and "\n\n**Moral:** " in fable


# ---------------------------------------------------------------- of that length


@pytest.mark.parametrize(("prompt", "words"), [("Write me a 300-word essay", 300), ("Write a 150-word fable", 150),
                                               ("Write a 1000 word essay on rivers", 1000)])  # fmt: skip
def test_a_length_in_words_is_kept(prompt: str, words: int) -> None:
    text = reply(prompt).text
    assert words <= prose_words(text) <= words * 1.1 + 10


def test_paragraphs_and_sizes() -> None:
    text = reply("Write an essay in 3 paragraphs about bees").text
    body = [t for t in MD.parse(text) if t.type == "inline" and t.map and not t.content.startswith("You asked")]
    headings = [t for t in MD.parse(text) if t.type == "heading_open"]
    assert len(body) - len(headings) == 3 + 1  # three paragraphs and the conclusion
    short, normal, long = (
        prose_words(reply(f"Write a {size}essay about bees").text) for size in ("short ", "", "long ")
    )
    assert short < normal < long


# ---------------------------------------------------------------- deterministic, within max_tokens


def test_the_same_request_gets_the_same_answer_and_another_one_another() -> None:
    first = reply("Write an essay about bridges").text
    assert reply("Write an essay about bridges").text == first
    assert reply("Write an essay about bridges", max_tokens=5000, effort="high").text == first  # settings: same text
    assert reply("Write an essay about rivers").text != first
    two = plan_reply(Prompt(turns=[Turn("user", "Write an essay about bridges")], n=2), 1).text
    assert two.startswith("Alternative 2: You asked for") and two != first


def test_max_tokens_cuts_a_long_answer_where_its_markdown_stays_well_formed() -> None:
    full = reply("Give me a long, detailed answer about tides")
    for limit in (60, 150, 300, 500):
        cut = reply("Give me a long, detailed answer about tides", max_tokens=limit)
        assert cut.finish == "length" and cut.text_tokens <= limit and full.text.startswith(cut.text)
        assert cut.output_tokens == count_tokens(cut.text) <= limit
        assert_well_formed(cut.text)
    tiny = reply("Give me a long, detailed answer about tides", max_tokens=5)
    assert tiny.text_tokens == 5 and tiny.finish == "length"  # not even the first block fits: cut inside it
    roomy = reply("Give me a long, detailed answer about tides", max_tokens=full.text_tokens)
    assert roomy.finish == "stop" and roomy.text == full.text


def test_usage_counts_the_text_exactly_and_streams_it_token_by_token() -> None:
    plan = reply("Write Python code to count words")
    assert "".join(plan.text_pieces) == plan.text
    assert plan.text_tokens == count_tokens(plan.text) == len([p for p in pieces(plan.text) if p.strip()])


def test_reasoning_plans_the_parts_and_grows_with_effort() -> None:
    low, high = (reply("Write a long essay about tea", reasoning=True, effort=e) for e in ("low", "high"))
    assert low.reasoning == "The user asks for a long essay on tea."
    assert high.reasoning.startswith("The user asks for a long essay on tea. I will write an introduction, ")
    assert "under a short heading" in high.reasoning and high.reasoning_tokens > 3 * low.reasoning_tokens
    capped = reply("Write a long essay about tea", reasoning=True, effort="high", reasoning_budget=10)
    assert capped.reasoning_tokens == 10
    # a thinking budget and no effort (Anthropic, Gemini): the budget stands for the effort
    budgets = [reply("Write a long essay about tea", reasoning=True, reasoning_budget=b) for b in (1024, 4096, 16384)]
    assert [b.reasoning for b in budgets[:2]] == [
        low.reasoning,
        reply("Write a long essay about tea", reasoning=True).reasoning,
    ]
    assert budgets[2].reasoning == high.reasoning


def test_tool_results_earlier_turns_and_instructions_join_the_opening() -> None:
    turns = [
        Turn("system", "Be warm."),
        Turn("user", "My name is Ada."),
        Turn("user", "Write a short essay about what I told you earlier"),
    ]
    text = plan_reply(Prompt(turns=turns)).text
    opening = text.split("\n\n")[0]
    assert opening.startswith("You asked for a short essay on")
    assert "From earlier in this conversation: your name is Ada." in opening
    assert "Instructions noted: Be warm." in opening
    turns = [
        Turn("user", "Write a short essay on the weather in Oslo"),
        Turn("assistant", tool_calls=[ToolCall("get_weather", {"city": "Oslo"}, "call_1")]),
        Turn("tool", tool_results=[ToolResult("get_weather", "sunny, 21 C", "call_1")]),
    ]
    text = plan_reply(Prompt(turns=turns, tools=[Tool("get_weather")])).text
    assert text.startswith("You asked for a short essay on the weather in Oslo. The tool get_weather returned: sunny")


# ---------------------------------------------------------------- on every protocol


QUESTION = "Give me a long, detailed answer about tides"


def _texts(client: httpx.Client, question: str, limit: int | None = None) -> dict[str, tuple[str, str, int]]:
    """protocol -> (text, finish, output tokens), non-streamed."""
    cap: dict[str, Any] = {} if limit is None else {"max_tokens": limit}
    chat = client.post(
        "/v1/ai/gpt/chat/completions", json={"messages": [{"role": "user", "content": question}], **cap}
    ).json()
    claude = client.post(
        "/claude/v1/messages",
        json={"max_tokens": limit or 4096, "messages": [{"role": "user", "content": question}]},
    ).json()
    gemini = client.post(
        "/v1/ai/gemini/generateContent",
        json={
            "contents": [{"role": "user", "parts": [{"text": question}]}],
            **({"generationConfig": {"maxOutputTokens": limit}} if limit else {}),
        },
    ).json()
    responses = client.post(
        "/v1/ai/o3/responses", json={"input": question, **({"max_output_tokens": limit} if limit else {})}
    ).json()
    return {
        "chat": (chat["choices"][0]["message"]["content"], chat["choices"][0]["finish_reason"],
                 chat["usage"]["completion_tokens"]),
        "messages": (claude["content"][0]["text"], claude["stop_reason"], claude["usage"]["output_tokens"]),
        "gemini": (gemini["candidates"][0]["content"]["parts"][0]["text"], gemini["candidates"][0]["finishReason"],
                   gemini["usageMetadata"]["candidatesTokenCount"]),
        "responses": (responses["output"][0]["content"][0]["text"], responses["status"],
                      responses["usage"]["output_tokens"]),
    }  # fmt: skip


@pytest.fixture
def client(emulator_url: str) -> httpx.Client:
    with httpx.Client(base_url=emulator_url, headers={**BEARER, "x-api-key": "k"}, timeout=10) as c:
        yield c


def test_every_protocol_gives_the_same_long_answer_and_counts_it(client: httpx.Client) -> None:
    found = _texts(client, QUESTION)
    texts = {text for text, _, _ in found.values()}
    assert len(texts) == 1
    (text,) = texts
    assert_well_formed(text)
    assert {name: (finish, tokens) for name, (_, finish, tokens) in found.items()} == {
        "chat": ("stop", count_tokens(text)),
        "messages": ("end_turn", count_tokens(text)),
        "gemini": ("STOP", count_tokens(text)),
        "responses": ("completed", count_tokens(text)),
    }


def test_every_protocol_reports_the_cut_when_max_tokens_is_too_small(client: httpx.Client) -> None:
    found = _texts(client, QUESTION, limit=200)
    assert {finish for _, finish, _ in found.values()} == {"length", "max_tokens", "MAX_TOKENS", "incomplete"}
    assert all(tokens == count_tokens(text) <= 200 for text, _, tokens in found.values())
    for text, _, _ in found.values():
        assert_well_formed(text)


def test_the_stream_carries_the_same_text_a_token_at_a_time(client: httpx.Client) -> None:
    body = {
        "messages": [{"role": "user", "content": QUESTION}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    lines = [json.loads(line[6:]) for line in client.post("/v1/ai/gpt/chat/completions", json=body).text.splitlines()
             if line.startswith("data: {")]  # fmt: skip
    deltas = [c["choices"][0]["delta"].get("content") for c in lines if c["choices"]]
    deltas = [d for d in deltas if d]
    text = "".join(deltas)
    assert text == _texts(client, QUESTION)["chat"][0]
    assert len(deltas) == count_tokens(text) == lines[-1]["usage"]["completion_tokens"]
