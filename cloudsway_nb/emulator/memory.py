"""The emulator reads the conversation: facts from earlier turns, recalled when asked about.

:func:`remember` collects what earlier user turns stated and what earlier tool results said:
a name (*"My name is Ada."*, *"I'm Ada"*, *"call me Ada"*), anything of the user's (*"My favourite
number is 42."*), a named thing (*"The password is swordfish."*), what to remember (*"Remember
that the meeting is at noon."*), quoted text and other sentences holding a number. Each fact is
kept in the second person, as a reply states it (*"your name is Ada"*); a later statement of the
same thing replaces an earlier one.

:func:`recall` reads the last user text: a question about one thing (*"What is my name?"*, *"Who
am I?"*, *"What number did I give you?"*, *"What did the weather tool return?"*) gets the best-
matching fact, or *"You have not told me your X."*; a question about the conversation (*"What
did I tell you?"*, *"What do you remember?"*, *"Summarize our conversation."*) gets every fact
(the last eight), a user message with nothing to pick out quoted as it was. Anything else gets
nothing, so a reply that does not ask stays as it was. The same conversation recalls the same
way on every protocol (chat history, Anthropic or Gemini contents, a Responses
``previous_response_id`` chain), because all of them arrive here as the same turns.

Example:
    >>> from cloudsway_nb.emulator.conversation import Prompt, Turn
    >>> turns = [Turn("user", "My name is Ada."), Turn("assistant", "You said: My name is Ada."),
    ...          Turn("user", "What is my name?")]
    >>> recall(Prompt(turns=turns))
    'From earlier in this conversation: your name is Ada.'
    >>> recall(Prompt(turns=[Turn("user", "Hello"), Turn("user", "How are you?")])) is None
    True
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .conversation import Prompt, Turn

__all__ = ["Fact", "recall", "remember", "second_person"]

_NAME = r"([A-Z][\w'-]*(?:\s+[A-Z][\w'-]*)?)"
_NAME_STATEMENTS = (
    re.compile(r"(?i:\bmy name is)\s+" + _NAME),
    re.compile(r"(?i:\b(?:i am|i'm|call me|this is))\s+" + _NAME + r"(?=\s*(?:[.,!?;]|$|\s+(?:and|but)\b))"),
)
_MINE = re.compile(r"(?i)\bmy\s+((?:[\w'-]+\s+){0,3}?[\w'-]+)\s+(is|are|was|were)\s+(.+)")
_NAMED = re.compile(r"(?i)(?:^|\s)the\s+((?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(is|are|was|were)\s+(.+)")
_REMEMBER = re.compile(r"(?i)\b(?:please\s+)?(?:remember|note|keep in mind|don't forget)(?:\s+that)?[:,]?\s+(.+)")
_QUOTED = re.compile(r"[\"“]([^\"”\n]{1,200})[\"”]")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")

_ASK_ONE = (
    re.compile(
        r"(?i)\b(?:what(?:'s|\s+is|\s+was|\s+are|\s+were)|tell me|do you (?:know|remember)|remind me(?: of)?|"
        r"recall|say)\s+(my|the)\s+((?:[\w'-]+\s+){0,3}?[\w'-]+?)(?:\s+(?:again|now|then|i (?:gave|told|said|"
        r"mentioned)(?: you)?))?\s*[?.!]*\s*$"
    ),
    re.compile(r"(?i)\bwhat\s+((?:[\w'-]+\s+){0,2}?[\w'-]+)\s+did\s+i\s+(?:say|give|mention|tell|pick|choose|use)"),
    re.compile(r"(?i)\bwhat\s+did\s+(?:the\s+)?((?:[\w'-]+\s+){0,2}?[\w'-]+)\s+(?:say|return|report|give|answer)"),
)
_WHO_AM_I = re.compile(r"(?i)\b(?:who am i|what am i called|what do you call me)\b")
_ASK_ALL = re.compile(
    r"(?i)\b(?:what (?:did|have) i (?:just )?(?:say|said|tell|told|mention|mentioned|write|wrote|ask|asked)"
    r"|what do you (?:know|remember)|do you remember|what (?:did|do) i (?:ask|want) you to remember"
    r"|recap|summari[sz]e (?:our|the|this) (?:conversation|chat)|earlier in (?:our|this|the) conversation"
    r"|(?:said|told you|mentioned|asked|wrote) (?:earlier|before|previously))\b"
)
_PERSON = {
    "i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself", "am": "are",
    "i'm": "you're", "i've": "you've", "i'll": "you'll", "i'd": "you'd", "we": "you", "our": "your", "us": "you",
}  # fmt: skip
_SKIP_WORDS = {"the", "a", "an", "my", "your", "tool", "function", "result", "did", "you", "i", "of", "that", "this"}


def second_person(text: str) -> str:
    """``text`` as the other side says it back: *my* → *your*, *I am* → *you are*.

    Example:
        >>> second_person("I am sure my cat likes me")
        'you are sure your cat likes you'
    """

    def swap(match: re.Match[str]) -> str:
        word = match.group(0)
        swapped = _PERSON[word.lower()]
        return swapped.capitalize() if word[0].isupper() and word.lower() != "i" else swapped

    return re.sub(r"(?i)\b(?:i'm|i've|i'll|i'd|i|me|my|mine|myself|am|we|our|us)\b", swap, text)


def _words(text: str) -> set[str]:
    words = re.findall(r"[a-z0-9]+", text.lower().replace("favourite", "favorite").replace("colour", "color"))
    return {w[:-1] if len(w) > 3 and w.endswith("s") and not w.endswith("ss") else w for w in words} - _SKIP_WORDS


def _clean(value: str) -> str:
    return value.strip().rstrip(".!?;, ").strip()


@dataclass(frozen=True)
class Fact:
    """One thing said earlier: what it is about (``key``), and how a reply states it.

    Example:
        >>> Fact("name", "your name is Ada").words
        frozenset({'name'})
    """

    key: str
    sentence: str
    tool: str = ""

    @property
    def words(self) -> frozenset[str]:
        """The words a question may name it by (its key; a tool's name too)."""
        return frozenset(_words(self.key) | _words(self.tool.replace("_", " ")))


def _facts_of_sentence(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    for pattern in _NAME_STATEMENTS:
        match = pattern.search(sentence)
        if match:
            found.append(Fact("name", f"your name is {match.group(1)}"))
            break
    mine = _MINE.search(sentence)
    if mine and _clean(mine.group(1)).lower() != "name":
        key, verb, value = _clean(mine.group(1)), mine.group(2).lower(), _clean(mine.group(3))
        found.append(Fact(key, f"your {second_person(key)} {verb} {second_person(value)}"))
    named = _NAMED.search(sentence)
    if named and not mine:
        key, verb, value = _clean(named.group(1)), named.group(2).lower(), _clean(named.group(3))
        found.append(Fact(key, f"the {key} {verb} {second_person(value)}"))
    remember = _REMEMBER.search(sentence)
    if remember:
        found.append(Fact("remember", f"you asked me to remember: {second_person(_clean(remember.group(1)))}"))
    else:
        for quoted in _QUOTED.findall(sentence):
            found.append(Fact("quote", f'you quoted "{quoted.strip()}"'))
    if not found and re.search(r"\d", sentence):
        found.append(Fact("number", f'you said "{_clean(sentence)}"'))
    return found


def _earlier(prompt: Prompt) -> tuple[list[Turn], str]:
    """The turns before the last user text, and that text."""
    for index in range(len(prompt.turns) - 1, -1, -1):
        turn = prompt.turns[index]
        if turn.role == "user" and turn.text.strip():
            return prompt.turns[:index], turn.text
    return [], ""


def remember(turns: list[Turn]) -> list[Fact]:
    """The facts the user's turns stated and the tool results said, oldest first (a fact stated
    again later replaces the earlier one).

    Example:
        >>> [f.sentence for f in remember([Turn("user", "I'm Ada. My favourite number is 42.")])]
        ['your name is Ada', 'your favourite number is 42']
    """
    facts: dict[tuple[str, str], Fact] = {}
    for turn in turns:
        if turn.role == "user":
            found = [f for sentence in _SENTENCES.split(turn.text) for f in _facts_of_sentence(sentence)]
            if not found and turn.text.strip():  # nothing to pick out: what was said, quoted
                found = [Fact("said", 'you said "' + _clean(" ".join(turn.text.split())[:120]) + '"')]
            for fact in found:
                keep = fact.sentence if fact.key in ("remember", "quote", "number", "said") else ""
                facts.pop((fact.key.lower(), keep), None)
                facts[(fact.key.lower(), keep)] = fact
        for result in turn.tool_results:
            name = result.name or "function"
            text = " ".join(result.content.split())
            text = text if len(text) <= 120 else text[:119].rstrip() + "…"
            fact = Fact(name.replace("_", " "), f"the tool {name} returned: {text}", tool=name)
            facts.pop((fact.key.lower(), text), None)
            facts[(fact.key.lower(), text)] = fact
    return list(facts.values())


def _subject(question: str) -> tuple[str, bool] | None:
    """What one-thing question asks about, and whether it is the user's own (*my X*)."""
    if _WHO_AM_I.search(question):
        return "name", True
    for number, pattern in enumerate(_ASK_ONE):
        match = pattern.search(question)
        if match:
            if number == 0:
                return _clean(match.group(2)), match.group(1).lower() == "my"
            return _clean(match.group(1)), number == 1
    return None


def _best(facts: list[Fact], subject: str) -> list[Fact]:
    wanted = _words(subject)
    if not wanted:
        return []
    head = max(wanted, key=subject.lower().rfind)
    scored = []
    for fact in facts:
        words = fact.words
        if fact.key == "number":
            words = words | {"number"}
        if head not in words and not wanted <= words:
            continue
        scored.append((len(wanted & words) - 0.5 * len(words - wanted), fact))
    if not scored:
        return []
    top = max(score for score, _ in scored)
    return [fact for score, fact in scored if score == top]


def _sentence(facts: list[Fact]) -> str:
    return "From earlier in this conversation: " + "; ".join(f.sentence for f in facts) + "."


def recall(prompt: Prompt) -> str | None:
    """The sentence that answers a question about earlier turns, or None when none is asked.

    Example:
        >>> from cloudsway_nb.emulator.conversation import Prompt, Turn
        >>> recall(Prompt(turns=[Turn("user", "What is my favourite colour?")]))
        'You have not told me your favourite colour.'
    """
    earlier, question = _earlier(prompt)
    if not question:
        return None
    subject = _subject(question)
    if subject is None and not _ASK_ALL.search(question):
        return None  # asks nothing about earlier turns: they are not even read
    facts = remember(earlier)
    if subject is not None:
        what, mine = subject
        chosen = _best(facts, what)
        if chosen:
            return _sentence(chosen)
        if mine:
            return f"You have not told me your {what}."
    if _ASK_ALL.search(question):
        if facts:
            return _sentence(facts[-8:])
        return "This is the start of our conversation: you have told me nothing before."
    return None
