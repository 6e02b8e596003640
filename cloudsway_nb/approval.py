"""Approving tool calls: what an approver is shown, what it answers, and "approve all" per session.

An approver is any function `approve(request) -> answer` (the `approve=` of `Session.ask` /
`Agent`; the notebook's buttons are one, in `tool_view`). It is called, one call at a time, for
each tool call whose tool requires approval. Its answer may be:

    True / "approve"          run the call as asked
    a dict                    run it with these arguments instead (an edit)
    False / None / "reject"   do not run it; the model is told the user rejected it
    Decision.reject("why")    do not run it; the model is told why
    "approve_all"             run it, and every later call in this session without asking

Example:
    >>> request = ToolRequest("pay", {"amount": 500}, "c1")
    >>> decide(lambda r: r.arguments["amount"] < 100 or Decision.reject("too much"), request)
    Decision(action='reject', arguments=None, reason='too much')
    >>> decide(lambda r: {"amount": 50}, request).arguments
    {'amount': 50}
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from .errors import bad_argument

__all__ = ["Approver", "Decision", "ToolRequest", "approve_all", "approved_for_session", "decide", "revoke_all"]


@dataclass(frozen=True, slots=True)
class ToolRequest:
    """A tool call waiting for approval: the tool's name, the arguments the model gave, the call id."""

    name: str
    arguments: Any
    call_id: str
    description: str = ""


@dataclass(frozen=True, slots=True)
class Decision:
    """An approver's answer: approve (maybe with edited `arguments`), reject (with a `reason` the
    model is told), or approve_all (this call and every later one in the session)."""

    action: Literal["approve", "reject", "approve_all"]
    arguments: Any = None
    reason: str = ""

    @classmethod
    def approve(cls, arguments: Any = None) -> Decision:
        return cls("approve", arguments)

    @classmethod
    def reject(cls, reason: str = "") -> Decision:
        return cls("reject", None, reason)

    @classmethod
    def approve_all(cls) -> Decision:
        return cls("approve_all")


Approver = Callable[[ToolRequest], Any]
"""`approve=`: called with a ToolRequest, returns an answer (see the module docstring)."""


def _as_decision(answer: Any) -> Decision:
    if isinstance(answer, Decision):
        return answer
    if answer is True or answer == "approve":
        return Decision.approve()
    if answer is None or answer is False or answer == "reject":
        return Decision.reject()
    if answer == "approve_all":
        return Decision.approve_all()
    if isinstance(answer, dict):
        return Decision.approve(answer)
    raise bad_argument("approve (its answer)", answer,
                       "True, False, a dict of edited arguments, 'approve_all' or Decision.reject('why')",
                       "approve=lambda request: request.name != 'delete_file'")


def decide(approver: Approver, request: ToolRequest) -> Decision:
    """The approver's answer to `request`, as a Decision (a bad answer is a UsageError naming it)."""
    return _as_decision(approver(request))


_approved: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


def approve_all(session: Any) -> None:
    """From now on, every tool call in `session` runs without asking ("approve all for this session")."""
    _approved[session] = True


def revoke_all(session: Any) -> None:
    """Ask again for each call that requires approval in `session`."""
    _approved.pop(session, None)


def approved_for_session(session: Any) -> bool:
    """Whether "approve all" was given in this session."""
    return _approved.get(session, False)
