"""`Conversation`: one conversation of a Session, its turns and the Reply behind each answer.

Example:
    >>> from cloudsway_nb.types import Choice
    >>> c = Conversation("gpt")
    >>> c.add([Message.user("hi")], Reply(choices=[Choice(text="Hello")]))
    >>> [m.role for m in c.messages]
    ['user', 'assistant']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from .types import Message, Reply

__all__ = ["Conversation"]


@dataclass(slots=True)
class Conversation:
    """A conversation: its system prompt and its turns (user, assistant and tool Messages).

    `replies[i]` is the Reply behind `messages[i]` (None for the user's and tool turns), so a view
    can show each answer's usage; the methods keep the two lists aligned. What `messages` holds is
    exactly what the model gets on the next turn.

    Example:
        >>> from cloudsway_nb.types import Choice
        >>> c = Conversation("gpt")
        >>> c.add([Message.user("hi")], Reply(choices=[Choice(text="Hello")])); len(c), c.replies[0], c.replies[1].text
        (2, None, 'Hello')
        >>> c.truncate(1); [m.role for m in c.messages]
        ['user']
    """

    endpoint: str
    system: str | None = None
    messages: list[Message] = field(default_factory=list)
    replies: list[Reply | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.messages)

    def copy(self) -> Conversation:
        return Conversation(self.endpoint, self.system, list(self.messages), list(self.replies))

    def _align(self) -> None:
        self.replies += [None] * (len(self.messages) - len(self.replies))
        del self.replies[len(self.messages):]

    def add(self, turns: Sequence[Message], reply: Reply | None = None) -> None:
        """Append the turns, then the reply's assistant message (when there is a reply)."""
        self._align()
        self.messages += turns
        self.replies += [None] * len(turns)
        if reply is not None:
            self.messages.append(reply.to_message())
            self.replies.append(reply)

    def truncate(self, length: int) -> None:
        """Keep the first `length` messages (to resend from an edited turn, or regenerate an answer)."""
        self._align()
        del self.messages[length:]
        del self.replies[length:]

    def remove(self, index: int) -> Message:
        """Delete one message (and its reply); returns it."""
        self._align()
        self.replies.pop(index)
        return self.messages.pop(index)

    def replace(self, index: int, reply: Reply) -> None:
        """Put another answer in place of the assistant message at `index` (the one picked in a comparison)."""
        self._align()
        self.messages[index] = reply.to_message()
        self.replies[index] = reply
