"""A conversation kept outside the kernel: lossless JSON, Markdown, and notebook cells.

`conversation_to_dict` / `conversation_from_dict` round-trip a `session.Conversation` exactly:
every message (text, attachments with their bytes, tool calls and results, reasoning, the
protocol's own items) and every reply's usage (estimate mark included), cost, times and status.
`to_markdown` is for reading; `to_cells` makes one markdown cell per message with each fenced
Python code block as a code cell.

Example:
    >>> from cloudsway_nb.session import Conversation
    >>> from cloudsway_nb.types import Choice, Message, Reply, Usage
    >>> conv = Conversation("gpt", "Be brief.")
    >>> conv.add([Message.user("Hi")], Reply(choices=[Choice(text="Hello!")], usage=Usage(input=3, output=2)))
    >>> again = conversation_from_dict(conversation_to_dict(conv))
    >>> [m.text() for m in again.messages], again.replies[1].usage.output, again.system
    (['Hi', 'Hello!'], 2, 'Be brief.')
    >>> print(to_markdown(again))
    # Conversation with gpt
    <BLANKLINE>
    *System:* Be brief.
    <BLANKLINE>
    **User:** Hi
    <BLANKLINE>
    **Assistant:** Hello!
    <BLANKLINE>
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from ..types import Attachment, Choice, Message, Reply, ToolCall, Usage

if TYPE_CHECKING:
    from ..session import Conversation

__all__ = ["FORMAT", "conversation_from_dict", "conversation_to_dict", "read_transcript", "to_cells", "to_markdown",
           "write_transcript"]

FORMAT = "cloudsway-nb transcript"
_VERSION = 1


def _part_to_dict(part: Any) -> dict[str, Any]:
    if isinstance(part, str):
        return {"type": "text", "text": part}
    if isinstance(part, Attachment):
        out: dict[str, Any] = {"type": "attachment", "kind": part.kind, "mime_type": part.mime_type}
        if part.url is not None:
            out["url"] = part.url
        else:
            out["data"] = part.base64()
        name = getattr(part, "filename", None)
        if name:
            out["filename"] = name
        return out
    return {"type": "wire", "value": part}  # a protocol's own part, as given


def _part_from_dict(data: dict[str, Any]) -> Any:
    kind = data.get("type")
    if kind == "text":
        return data["text"]
    if kind == "attachment":
        raw = base64.b64decode(data["data"]) if "data" in data else None
        return Attachment(kind=data["kind"], mime_type=data["mime_type"], data=raw, url=data.get("url"),
                          filename=data.get("filename"))
    return data.get("value")


def message_to_dict(message: Message) -> dict[str, Any]:
    """A Message as JSON-able data (attachments with their bytes as base64)."""
    content: Any = message.content if isinstance(message.content, str) else [_part_to_dict(p) for p in message.content]
    out: dict[str, Any] = {"role": message.role, "content": content}
    if message.tool_calls:
        out["tool_calls"] = [{"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls]
    for key in ("tool_call_id", "name", "reasoning", "native", "native_protocol"):
        value = getattr(message, key)
        if value is not None:
            out[key] = value
    return out


def message_from_dict(data: dict[str, Any]) -> Message:
    content = data.get("content", "")
    parts = content if isinstance(content, str) else [_part_from_dict(p) for p in content]
    calls = [ToolCall(id=c["id"], name=c["name"], arguments=c.get("arguments")) for c in data.get("tool_calls", [])]
    return Message(role=data["role"], content=parts, tool_calls=calls, tool_call_id=data.get("tool_call_id"),
                   name=data.get("name"), reasoning=data.get("reasoning"), native=data.get("native"),
                   native_protocol=data.get("native_protocol"))


def _reply_to_dict(reply: Reply | None) -> dict[str, Any] | None:
    if reply is None:
        return None
    u = reply.usage
    out = {
        "endpoint": reply.endpoint, "model": reply.model, "protocol": reply.protocol, "id": reply.id,
        "latency": reply.latency, "ttft": reply.ttft, "incomplete": reply.incomplete,
        "finish_reason": reply.finish_reason, "text": reply.text, "reasoning": reply.reasoning,
        "usage": {"input": u.input, "output": u.output, "reasoning": u.reasoning, "cached": u.cached, "total": u.total,
                  "estimated": u.estimated},  # an interrupted answer's counts stay marked estimated
    }
    out.update(status=reply.status, cost=reply.cost, polls=reply.polls)  # lossless: the priced cost too
    return out


def _reply_from_dict(data: dict[str, Any] | None) -> Reply | None:
    if data is None:
        return None
    choice = Choice(text=data.get("text") or "", reasoning=data.get("reasoning") or "",
                    finish_reason=data.get("finish_reason"))
    return Reply(choices=[choice], usage=Usage(**data.get("usage") or {}), protocol=data.get("protocol") or "",
                 model=data.get("model"), id=data.get("id"), status=data.get("status"), endpoint=data.get("endpoint"),
                 latency=data.get("latency"), ttft=data.get("ttft"), incomplete=bool(data.get("incomplete")),
                 cost=data.get("cost"), polls=data.get("polls"))


def conversation_to_dict(conv: Conversation, **extra: Any) -> dict[str, Any]:
    """The conversation as JSON-able data (`extra` keys are kept alongside, e.g. the panel's settings)."""
    conv.truncate(len(conv.messages))  # aligns the replies with the messages
    return {
        "format": FORMAT, "version": _VERSION, "endpoint": conv.endpoint, "system": conv.system,
        "messages": [message_to_dict(m) for m in conv.messages],
        "replies": [_reply_to_dict(r) for r in conv.replies], **extra,
    }


def conversation_from_dict(data: Any) -> Conversation:
    """A Conversation from `conversation_to_dict`'s data; a UsageError if it is not one."""
    from ..session import Conversation

    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UsageError("not a cloudsway-nb transcript (export one with panel.export_json(path))")
    messages = [message_from_dict(m) for m in data.get("messages", [])]
    replies = [_reply_from_dict(r) for r in data.get("replies", [])]
    conv = Conversation(data.get("endpoint") or "", data.get("system"), messages, replies)
    conv.truncate(len(messages))
    return conv


def write_transcript(path: str | Path, conv: Conversation, **extra: Any) -> Path:
    """Write the conversation as JSON, atomically (a crash mid-write leaves the old file whole)."""
    file = Path(path).expanduser()
    file.parent.mkdir(parents=True, exist_ok=True)
    partial = file.with_name(file.name + ".partial")
    partial.write_text(json.dumps(conversation_to_dict(conv, **extra), ensure_ascii=False, indent=1), encoding="utf-8")
    partial.replace(file)
    return file


def read_transcript(path: str | Path) -> tuple[Conversation, dict[str, Any]]:
    """(the conversation, the whole document) from a transcript file; a UsageError naming the file if unreadable."""
    file = Path(path).expanduser()
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"cannot read the transcript {file}: {exc}") from None
    return conversation_from_dict(data), data


_LABELS = {"user": "User", "assistant": "Assistant", "tool": "Tool result", "system": "System"}


def _attachment_line(part: Attachment) -> str:
    name = getattr(part, "filename", None) or part.url or part.mime_type
    return f"*[attached {part.kind}: {name}]*"


def _message_markdown(message: Message) -> str:
    parts = [message.content] if isinstance(message.content, str) else message.content
    body = "\n\n".join(p if isinstance(p, str) else _attachment_line(p) for p in parts
                       if isinstance(p, str | Attachment))
    calls = "".join(f"\n\n*calls* `{c.name}({c.arguments_json})`" for c in message.tool_calls)
    if message.role == "tool":  # a text fence: to_cells keeps it Markdown (a result is not code to run)
        return f"**Tool result** `{message.name or message.tool_call_id}`:\n\n```text\n{body}\n```"
    return f"**{_LABELS.get(message.role, message.role.title())}:** {body}{calls}"


def to_markdown(conv: Conversation, title: str | None = None) -> str:
    """The conversation as Markdown: a heading, the system prompt, then each message."""
    lines = [f"# {title or f'Conversation with {conv.endpoint}'}", ""]
    if conv.system:
        lines += [f"*System:* {conv.system}", ""]
    for message in conv.messages:
        lines += [_message_markdown(message), ""]
    return "\n".join(lines)


_FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.S | re.M)


def to_cells(conv: Conversation) -> list[dict[str, Any]]:
    """Notebook cells (nbformat 4 dicts): one markdown cell per message, each code block a code cell
    (Python blocks, or unlabelled ones, as runnable code; others as raw text in a markdown fence)."""
    cells: list[dict[str, Any]] = []

    def markdown(text: str) -> None:
        if text.strip():
            cells.append({"cell_type": "markdown", "metadata": {}, "source": text.strip()})

    for message in conv.messages:
        text = _message_markdown(message)
        position = 0
        for block in _FENCE.finditer(text):
            language, code = block.group(1).lower(), block.group(2)
            markdown(text[position:block.start()])
            if language in ("", "python", "py", "ipython", "python3"):
                cells.append({"cell_type": "code", "metadata": {}, "source": code.rstrip("\n"), "outputs": [],
                              "execution_count": None})
            else:
                markdown(block.group(0))
            position = block.end()
        markdown(text[position:])
    return cells
