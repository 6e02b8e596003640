"""Token counts estimated when the server sent none: an interrupted stream is still billed.

A stream stopped by the user (or cut by an error) usually ends before the server's usage event, so
the reply has no counts; left blank, the ledger would under-count what the gateway bills. The
Session fills the missing counts here and marks the usage `estimated` (the footer shows `~`, the
ledger's `estimated` column is true).

The estimator is deliberately simple and needs no tokenizer: about 4 characters a token (the rule
of thumb OpenAI and Anthropic give for English text), rounded up, plus 4 tokens of framing per
message (role and separators, as OpenAI's chat format costs). The input is every message sent
(system prompt, text parts, tool calls and tool results); attachments are not counted, so an
estimate under-counts a prompt with images. The output is the text, reasoning and tool-call
arguments that had arrived. Counts the server did send are kept as they are.

Example:
    >>> from cloudsway_nb.types import Choice, Message, Reply, Usage
    >>> estimate_tokens("Hello there, how are you?")
    7
    >>> reply = Reply(choices=[Choice(text="x" * 40)], usage=Usage(input=12))
    >>> estimated_usage(reply.usage, [Message.user("Hi")], None, reply)
    Usage(input=12, output=10, reasoning=None, cached=None, total=22, estimated=True)
"""

from __future__ import annotations

from collections.abc import Iterable

from .types import Message, Reply, Usage

__all__ = ["CHARS_PER_TOKEN", "MESSAGE_OVERHEAD", "estimate_input", "estimate_output", "estimate_reply",
           "estimate_tokens", "estimated_usage"]

CHARS_PER_TOKEN = 4
"""Characters per token of the estimate (English prose averages about 4)."""

MESSAGE_OVERHEAD = 4
"""Tokens of framing counted per message sent (role, separators)."""


def estimate_tokens(text: str) -> int:
    """About how many tokens `text` is: its length over CHARS_PER_TOKEN, rounded up.

    Example:
        >>> estimate_tokens(""), estimate_tokens("abcd"), estimate_tokens("abcde")
        (0, 1, 2)
    """
    return -(-len(text) // CHARS_PER_TOKEN)


def estimate_input(messages: Iterable[Message], system: str | None = None) -> int:
    """The estimated prompt tokens of a request: its system prompt and messages (text, tool calls).

    Example:
        >>> estimate_input([Message.user("What is 2+2?")], "Be brief.")
        14
    """
    total = MESSAGE_OVERHEAD + estimate_tokens(system) if system else 0
    for message in messages:
        total += MESSAGE_OVERHEAD + estimate_tokens(message.text())
        for call in message.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments_json)
    return total


def estimate_output(reply: Reply) -> int:
    """The estimated generated tokens of a reply: the text, reasoning and tool-call arguments of every choice.

    Example:
        >>> from cloudsway_nb.types import Choice
        >>> estimate_output(Reply(choices=[Choice(text="abcd", reasoning="abcdefgh")]))
        3
    """
    total = 0
    for choice in reply.choices:
        total += estimate_tokens(choice.text) + estimate_tokens(choice.reasoning)
        for call in choice.tool_calls:
            total += estimate_tokens(call.name) + estimate_tokens(call.arguments_json)
    return total


def estimated_usage(usage: Usage, messages: Iterable[Message], system: str | None, reply: Reply | None) -> Usage:
    """`usage` with a missing input and output count estimated (marked `estimated`), else `usage` itself.

    For an interrupted reply the output the server counted before the cut (Anthropic's
    `message_start` says 1) is raised to the estimate of what had arrived when that is more.
    Without a reply (a non-streamed call interrupted before its answer) only the input is estimated.

    Example:
        >>> u = Usage(input=5, output=3)
        >>> estimated_usage(u, [], None, None) is u
        True
        >>> from cloudsway_nb.types import Choice
        >>> cut = Reply(choices=[Choice(text="x" * 40)], incomplete=True)
        >>> estimated_usage(Usage(input=5, output=1), [], None, cut).output
        10
    """
    output = usage.output
    if reply is not None and (output is None or reply.incomplete):
        guess = estimate_output(reply)
        output = guess if output is None or guess > output else output
    missing_input = usage.input is None
    if not missing_input and output == usage.output:
        return usage
    return Usage(
        input=estimate_input(messages, system) if missing_input else usage.input,
        output=output,
        reasoning=usage.reasoning,
        cached=usage.cached,
        total=None,  # the sum of the counts above
        raw=usage.raw,
        estimated=True,
    )


def estimate_reply(reply: Reply, messages: Iterable[Message], system: str | None = None) -> None:
    """Fill in `reply.usage` the counts the server did not send (see `estimated_usage`).

    Example:
        >>> from cloudsway_nb.types import Choice
        >>> reply = Reply(choices=[Choice(text="abcdefgh")], incomplete=True)
        >>> estimate_reply(reply, [Message.user("Hi")])
        >>> (reply.usage.input, reply.usage.output, reply.usage.estimated)
        (5, 2, True)
    """
    reply.usage = estimated_usage(reply.usage, messages, system, reply)
