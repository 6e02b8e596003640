"""A call's turn as messages: the prompt, its attachments and its tools, each checked where it is read.

Used by the client (to build a request) and by the Session (to keep the turn it adds to a
conversation); imports nothing heavy, so the magic loads fast.

Example:
    >>> [m.role for m in prompt_messages(["Hi", {"role": "assistant", "content": "Hello"}])]
    ['user', 'assistant']
    >>> prompt_messages(None)
    Traceback (most recent call last):
    ...
    cloudsway_nb.errors.UsageError: prompt=None (NoneType) is not valid: it takes a string, a Message, or a \
list of messages; e.g. client.chat('gpt', 'Hello')
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from .errors import UsageError, bad_argument
from .types import Attachment, Message, Tool

__all__ = ["attachment_list", "prompt_messages", "tool_list", "with_attachments"]


def prompt_messages(prompt: Any, what: str = "prompt") -> list[Message]:
    """The prompt as messages: a string (a user turn), a Message, a message dict, or a list of them."""
    if isinstance(prompt, str | Message | dict):
        return [Message.coerce(prompt, what)]
    if isinstance(prompt, Sequence) and not isinstance(prompt, bytes | bytearray):
        if not prompt:
            raise UsageError(f"{what} is an empty list: pass a string, or at least one message")
        return [Message.coerce(m, f"{what}[{i}]") for i, m in enumerate(prompt)]
    raise bad_argument(what, prompt, "a string, a Message, or a list of messages", "client.chat('gpt', 'Hello')")


def attachment_list(attachments: Any) -> list[Attachment]:
    """`attachments=` as a list of Attachments: None means none, a single item (a path, URL, bytes,
    image...) is one attachment, not a sequence of characters; each goes through `media.attach()`."""
    if attachments is None:
        return []
    if isinstance(attachments, str | bytes | bytearray | Path | Attachment) or not isinstance(attachments, Iterable):
        items = [attachments]
    else:
        items = list(attachments)
    if all(isinstance(item, Attachment) for item in items):
        return items
    from .media import attach  # lazy: paths, bytes, PIL images, figures... become Media

    return [item if isinstance(item, Attachment) else attach(item) for item in items]


def tool_list(tools: Any) -> list[Tool | dict[str, Any]]:
    """`tools=` as a list: None means none; one tool on its own is a list of one."""
    if tools is None:
        return []
    items = [tools] if isinstance(tools, Tool | dict) or callable(tools) else tools
    if not isinstance(items, Iterable) or isinstance(items, str | bytes):
        raise bad_argument("tools", tools, "a list of Tools, functions or tool dicts", "tools=[get_weather]")
    return [t if isinstance(t, Tool | dict) else Tool.from_any(t) for t in items]


def with_attachments(messages: list[Message], attachments: list[Attachment]) -> list[Message]:
    """The messages with the attachments added to the last user turn (a new one when there is none)."""
    if not attachments:
        return messages
    users = [i for i, m in enumerate(messages) if m.role == "user"]
    if not users:
        return [*messages, Message.user(list(attachments))]
    last = messages[users[-1]]
    content = [last.content] if isinstance(last.content, str) else list(last.content)
    if content == [""]:
        content = []
    out = list(messages)
    out[users[-1]] = Message(last.role, [*content, *attachments], last.tool_calls, last.tool_call_id, last.name)
    return out
