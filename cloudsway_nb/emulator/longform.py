"""Long, structured answers: deterministic Markdown of the kind and length a prompt asks for.

:func:`read_request` decides, from the last user text alone, whether a long-form answer is
wanted and of what kind (the same words give the same answer on every protocol; ``max_tokens``
only caps it, since Anthropic's requires one on every call):

=========  ========================================================================================
kind       asked for by
=========  ========================================================================================
essay      *essay*, *write an article / a report / a blog post*, or a length in words or paragraphs
story      *story*, *fable*, *tale*
list       *List ...* (a sentence starting so), *a list*, *bullet points*, *steps*, *top 5*
table      *a table*, *in a table*, *table of / comparing*, *tabulate*
code       *code*, *snippet*, *a script*, *implement*, *write a function / class / program / query*,
           a language and *function / program / example* (*a Rust function*)
math       *prove*, *proof*, *derive*, *equation*, *formula*, *theorem*, *LaTeX*
mixed      *long*, *detailed*, *in depth*, *thorough*, *comprehensive*, *in Markdown* with no kind
           above: a bit of everything (sections, a list, a table, code and math)
=========  ========================================================================================

Sizes: *short* / *brief* / *quick* make it shorter, *long* / *detailed* longer; *300-word* or
*300 words* sets the length in words (prose), *5 paragraphs* in paragraphs, *5 items* / *top 5*
/ *7 steps* / *4 rows* the number of items or rows. The topic is what follows *about*, *on*,
*for*, *comparing*, *to* ... (or the request with its verbs taken out; when nothing is left, the
answer picks one, as a model would).

:func:`compose` writes it: Markdown blocks (joined by blank lines) that are well-formed on their
own, so a cut at a block boundary still renders: ``#``/``##`` headings, paragraphs, numbered and
bulleted lists, a pipe table with a header row, fenced code with a language (a complete, valid
program, see :mod:`.code_samples`), and math as ``$...$`` inline and ``$$`` display blocks (a real
derivation: Pythagoras, Gauss's sum, the geometric series, the quadratic formula or the square of
a sum). Every choice is drawn from a generator seeded by the reply's seed (a digest of the
request), so the same request always gets the same answer, and another one a different answer.

Example:
    >>> form = read_request("Write a short essay about lighthouses.")
    >>> form.kinds, form.size, form.topic
    (('essay',), 'short', 'lighthouses')
    >>> read_request("Why is the sky blue?") is None
    True
    >>> blocks = compose(form, "0" * 64)
    >>> blocks[0]
    'You asked for a short essay on lighthouses.'
    >>> blocks[1]
    '# Lighthouses'
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from .code_samples import function_name, language_of, run_command, sample

__all__ = ["KINDS", "LongForm", "compose", "describe", "outline", "prose_words", "read_request"]

#: The kinds of long-form answer, in the order their parts appear in a reply.
KINDS = ("essay", "story", "list", "table", "code", "math")

_NUMBERS = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10,
    "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "a dozen": 12,
}  # fmt: skip
_COUNT = r"(\d+|" + "|".join(sorted(_NUMBERS, key=len, reverse=True)) + r")"
_TRIGGERS: dict[str, re.Pattern[str]] = {
    "essay": re.compile(
        r"\bessays?\b|"
        r"\b(?:write|draft|compose)\s+(?:me\s+)?(?:a|an)\s+(?:[\w-]+\s+){0,2}(?:article|report|blog post)\b",
        re.IGNORECASE,
    ),
    "story": re.compile(r"\b(?:story|stories|fable|tale)\b", re.IGNORECASE),
    "list": re.compile(
        r"(?:^|[.!?]\s+)(?:please\s+)?list\b|\b(?:a|as a|in a|into a|numbered|bulleted|bullet|short|long|markdown)\s+"
        r"list\b|\bbullet(?:ed)?[- ]points?\b|\bbullets\b|\bstep[- ]by[- ]step\b|\bsteps\b|\bchecklist\b|"
        rf"\btop\s+{_COUNT}\b",
        re.IGNORECASE,
    ),
    "table": re.compile(
        r"\btabulate\b|\b(?:a|as a|in a|into a|markdown|comparison|summary)\s+table\b|"
        r"\btable\s+(?:of|comparing|with|that|showing|listing)\b",
        re.IGNORECASE,
    ),
    "code": re.compile(
        r"\b(?:code|snippet|implement|implementation)\b|\b(?:a|an|shell|bash|python|small|short)\s+script\b|"
        r"\bwrite\s+(?:me\s+)?(?:a|an|the|some)?\s*(?:\w+\s+)?(?:function|class|program|query|method)\b|"
        r"\b(?:python|javascript|typescript|rust|golang|java|sql|bash|shell)\s+(?:function|class|program|example|query)\b",
        re.IGNORECASE,
    ),
    "math": re.compile(r"\b(?:prove|proof|derive|derivation|equations?|formulas?|theorem|latex)\b", re.IGNORECASE),
}
_MIXED = re.compile(
    r"\b(?:a|very|really|be)\s+long\b(?!\s+(?:time|way|while|day|days|ago|distance|run))|"
    r"\blong\s+(?:answer|explanation|response|reply|text|version|piece|read|form)\b|"
    r"\b(?:lengthy|detailed|in detail|in depth|in-depth|thorough|comprehensive|extensive|elaborate|at length)\b|"
    r"\b(?:in|as|with|using)\s+markdown\b|\bmarkdown\s+(?:answer|reply|response|format|formatting|document)\b",
    re.IGNORECASE,
)
_COMPARE = re.compile(
    r"\bcompar\w*\s+(.+?)\s+(?:and|with|to|vs\.?|versus)\s+(.+?)(?:\s+in\s+a\s+table|[.?!;,]|$)", re.IGNORECASE
)
_SHORT = re.compile(r"\b(?:short|brief|quick|concise|small|tiny)\b", re.IGNORECASE)
_WORDS = re.compile(r"\b(\d{1,5})[- ]?words?\b", re.IGNORECASE)
_PARAGRAPHS = re.compile(rf"\b{_COUNT}\s+paragraphs?\b", re.IGNORECASE)
_ITEMS = re.compile(
    rf"\b{_COUNT}\s+(?:\w+\s+)?(?:items|points|steps|rows|reasons|ideas|things|tips|examples|ways|facts|bullets|"
    r"entries|options|benefits|questions)\b|"
    rf"\b(?:top|list)\s+{_COUNT}\b",
    re.IGNORECASE,
)
_TOPIC = re.compile(
    r"\b(?:about|on|regarding|concerning|explaining|comparing|compare|for|to|of|that)\s+(.+?)\s*(?:[.?!;:]|$)",
    re.IGNORECASE,
)
_REQUEST_WORDS = re.compile(
    r"\b(?:please|write|give|show|tell|make|create|draft|compose|produce|prepare|generate|explain|describe|prove|"
    r"derive|list|tabulate|implement|can|could|would|you|me|us|i|want|need|like|a|an|some|in|as|with|"
    r"short|brief|quick|concise|small|tiny|long|lengthy|detailed|in-depth|depth|thorough|comprehensive|extensive|"
    r"markdown|essays?|article|report|blog|post|story|stories|fable|tale|table|code|snippet|script|function|program|"
    r"class|query|example|proof|equation|formula|steps?|bullet|points?|words?|paragraphs?|items?|rows?|top|numbered|"
    r"answer|response|reply|please|python|javascript|typescript|rust|golang|java|sql|bash|shell)\b",
    re.IGNORECASE,
)

_ASPECTS = (
    "its origins", "the core idea", "how it works", "everyday use", "the main benefit", "the main risk", "cost",
    "the time it takes", "common mistakes", "the people involved", "the tools involved", "a simple example",
    "the numbers", "open questions", "what changes next", "getting started", "the trade-offs", "the evidence",
    "local differences", "scale", "safety", "upkeep", "the learning curve", "measuring success",
)  # fmt: skip
_SENTENCES = (
    "The easiest way into {topic} is to start with {aspect}.",
    "When people talk about {topic}, {aspect} usually comes up first.",
    "A closer look at {aspect} shows what is really at stake.",
    "The biggest differences between the usual approaches show up in {aspect}.",
    "Most of the confusion around {topic} comes from {aspect}.",
    "Seen through {aspect}, the whole subject looks simpler than it first appears.",
    "It helps to keep {aspect} and {other} apart when thinking about {topic}.",
    "Experienced people pay close attention to {aspect}.",
    "A small change in {aspect} can have a large effect on everything else.",
    "The best way to judge {aspect} is to try things on a small scale first.",
    "A good part of the interest in {topic} comes down to {aspect}.",
    "For a beginner, {aspect} is the part worth learning first.",
    "Comparing {aspect} with {other} gives a balanced picture of {topic}.",
    "There is no single right answer about {aspect}, only better and worse trade-offs.",
    "Good notes on {aspect} make {topic} much easier to explain to others.",
    "In the long run, it pays to weigh {aspect} above {other}.",
    "Questions about {aspect} are a good test of real understanding.",
    "Many guides to {topic} skip {aspect}, which is a mistake.",
    "Through {aspect}, there is a natural link between {topic} and {other}.",
    "With {aspect} understood, the rest falls into place.",
    "Anyone curious about {topic} will find {aspect} rewarding to study.",
    "Records of {aspect} are often more revealing than opinions about it.",
    "Over time, views on {aspect} have changed more than most people expect.",
    "A practical rule of thumb: look at {aspect} before worrying about {other}.",
)  # fmt: skip
_ITEM_SENTENCES = (
    "start here: it shapes everything else about {topic}.",
    "worth checking early, before {other} gets in the way.",
    "the part most people underestimate.",
    "easy to measure, and a good sign of progress.",
    "where a small effort pays off the most.",
    "a common source of mistakes; take it slowly.",
    "best learned from a concrete example.",
    "the piece that ties {topic} to {other}.",
)  # fmt: skip
_STORY_SENTENCES = (
    "Every morning {a_hero} walked {place}, thinking about {topic}.",
    "One day the {hero} met {a_friend}, who laughed at the idea of {topic}.",
    '"You will never manage it," said the {friend}, and went back to sleep.',
    "The {hero} said nothing and kept working, a little every day.",
    "The seasons turned, and the work on {topic} grew slowly but surely.",
    "When the first storm came, the {friend} had nowhere to go.",
    "The {hero} opened the door and shared what the work had made.",
    "They sat together while the rain fell, and neither of them spoke for a long while.",
    "By spring, the {friend} had started a small project of its own.",
    "Other animals came to watch, and some of them stayed to help.",
    "Nobody remembered who had laughed first, only who had kept going.",
    "In the evenings they talked about {topic} and about the work still to do.",
    "Years later, the young ones still asked to hear how it had started.",
    "The {hero} always answered the same way: one small step, then another.",
)  # fmt: skip
_CHARACTERS = (
    ("a fox", "fox"), ("a heron", "heron"), ("an old tortoise", "tortoise"), ("a young crow", "crow"),
    ("a field mouse", "mouse"), ("a patient badger", "badger"), ("a hare", "hare"),
)  # fmt: skip
_PLACES = ("by a slow river", "at the edge of a pine forest", "on a windy hill", "near a quiet lake", "in a meadow")
_ESSAY_TOPICS = ("lighthouses", "city gardens", "bicycles", "bridges", "public libraries", "rivers", "tea")
_STORY_TOPICS = ("a winter store", "a garden", "a bridge across the stream", "a new home", "a dam")
_MORALS = (
    "Slow and steady work outlasts quick mockery.",
    "Kindness shared in a storm is remembered in the sun.",
    "Small efforts, repeated, become great ones.",
    "Those who build help even those who doubted them.",
)
_WORDS_BANK = ("alpha", "beta", "gamma", "delta", "lima", "oscar", "tango", "zulu", "kilo", "echo")


@dataclass(frozen=True)
class LongForm:
    """What a prompt asks for: the kinds of part, their size and the topic.

    Example:
        >>> LongForm(("code",), language="rust").language
        'rust'
    """

    kinds: tuple[str, ...]
    size: str = "normal"
    topic: str = ""
    words: int | None = None
    paragraphs: int | None = None
    items: int | None = None
    language: str = "python"
    mixed: bool = False
    fable: bool = False
    compare: tuple[str, str] | None = None


def _count(text: str) -> int:
    text = text.lower()
    return int(text) if text.isdigit() else _NUMBERS.get(text, 0)


def _topic(text: str) -> str:
    flat = " ".join(text.split())
    match = _TOPIC.search(flat)
    topic = match.group(1) if match else _REQUEST_WORDS.sub(" ", re.sub(r"\b\d+[- ]?\w*\b", " ", flat))
    topic = re.sub(
        r",?\s*\b(?:in|as|into|with|including)\s+(?:a|an|some)\s+(?:\w+\s+)?(?:table|list|code|proof|essay)\b.*$",
        "",
        topic,
        flags=re.IGNORECASE,
    )
    topic = re.sub(r"\s+", " ", re.sub(r"[^\w\s'+#-]", " ", topic)).strip(" -")
    words = topic.split()
    while words and words[0].lower() in ("a", "an", "some", "my", "me", "us", "how", "why", "what"):
        words = words[1:]
    while words and words[-1].lower() in ("the", "a", "an"):
        words = words[:-1]
    if len(words) == 1 and words[0].lower() == "the":
        words = []
    return " ".join(words[:8])


def read_request(text: str) -> LongForm | None:
    """The long form ``text`` asks for, or None when it asks for none (a short answer then).

    Example:
        >>> read_request("Write a 150-word fable").words, read_request("Write a 150-word fable").fable
        (150, True)
        >>> read_request("List 3 tips for tea").kinds, read_request("List 3 tips for tea").items
        (('list',), 3)
    """
    text = text or ""
    kinds = [kind for kind in KINDS if _TRIGGERS[kind].search(text)]
    words = _WORDS.search(text)
    paragraphs = _PARAGRAPHS.search(text)
    mixed = bool(_MIXED.search(text))
    if not kinds and (words or paragraphs):
        kinds = ["essay"]
    if not kinds and mixed:
        kinds, mixed_all = ["essay", "list", "table", "code", "math"], True
    else:
        mixed_all = False
    if not kinds:
        return None
    if "story" in kinds and "essay" in kinds:
        kinds.remove("essay")
    items = None
    for match in _ITEMS.finditer(text):
        items = _count(next(g for g in match.groups() if g)) or None
        if items:
            break
    size = "short" if _SHORT.search(text) else "long" if mixed else "normal"
    compare = None
    found = _COMPARE.search(text)
    if found:
        compare = (found.group(1).strip(), found.group(2).strip())
    return LongForm(
        kinds=tuple(kinds),
        size=size,
        topic=_topic(text),
        words=min(int(words.group(1)), 5000) if words else None,
        paragraphs=min(_count(paragraphs.group(1)), 30) or None if paragraphs else None,
        items=min(items, 50) if items else None,
        language=language_of(text),
        mixed=mixed_all,
        fable=bool(re.search(r"\bfable\b", text, re.IGNORECASE)),
        compare=compare,
    )


def prose_words(text: str) -> int:
    """Words of Markdown text outside code blocks (markup and numbers in math left out).

    Example:
        >>> prose_words("# Title\\n\\nTwo words.\\n\\n```python\\nx = 1\\n```")
        3
    """
    text = re.sub(r"```.*?```", " ", text, flags=re.DOTALL)
    text = re.sub(r"\$\$.*?\$\$|\$[^$\n]*\$", " ", text, flags=re.DOTALL)
    return len(re.findall(r"[A-Za-z][\w'’-]*", text))


def _title(text: str) -> str:
    return text[:1].upper() + text[1:]


class _Writer:
    """Seeded choices for one answer: decks of aspects, sentences and details, each dealt without
    repeats until it runs out (then shuffled again)."""

    def __init__(self, form: LongForm, seed: str) -> None:
        self.form = form
        self.random = random.Random(int(seed[:16] or "0", 16))
        fallback = _STORY_TOPICS if "story" in form.kinds else _ESSAY_TOPICS
        self.topic = form.topic or self.random.choice(fallback)
        self.decks: dict[str, list[int]] = {}

    def deal(self, name: str, size: int) -> int:
        deck = self.decks.setdefault(name, [])
        if not deck:
            deck.extend(self.random.sample(range(size), size))
        return deck.pop()

    def aspect(self) -> str:
        return _ASPECTS[self.deal("aspect", len(_ASPECTS))]

    def peek_aspect(self) -> str:
        deck = self.decks.setdefault("aspect", [])
        if not deck:
            deck.extend(self.random.sample(range(len(_ASPECTS)), len(_ASPECTS)))
        return _ASPECTS[deck[-1]]

    def other(self, aspect: str) -> str:
        return self.random.choice([a for a in _ASPECTS if a != aspect])

    def sentence(self, aspect: str) -> str:
        template = _SENTENCES[self.deal("sentence", len(_SENTENCES))]
        values = {"topic": self.topic, "aspect": aspect, "Aspect": _title(aspect), "other": self.other(aspect)}
        return _title(template.format(**values))

    def detail(self, aspect: str) -> str:
        template = _ITEM_SENTENCES[self.deal("detail", len(_ITEM_SENTENCES))]
        return template.format(topic=self.topic, other=self.other(aspect))

    def paragraph(self, sentences: int) -> str:
        return " ".join(self.sentence(self.aspect()) for _ in range(sentences))

    def words(self) -> list[str]:
        mine = [w for w in re.findall(r"[a-z]+", self.topic.lower()) if len(w) > 2][:2]
        bank = list(_WORDS_BANK)
        self.random.shuffle(bank)
        return (mine + bank)[:3]


def _describe(form: LongForm, topic: str) -> str:
    size = {"short": "a short ", "long": "a long ", "normal": "a "}[form.size]
    if form.mixed:
        return f"a long, structured answer about {topic}"
    kind = form.kinds[0]
    if kind == "essay":
        what = f"an essay of about {form.words} words" if form.words else f"{size}essay"
    elif kind == "story":
        noun = "fable" if form.fable else "story"
        what = f"a {noun} of about {form.words} words" if form.words else f"{size}{noun}"
    elif kind == "list":
        what = f"a list of {form.items} items" if form.items else f"{size}list"
    elif kind == "table":
        what = f"a table comparing {form.compare[0]} and {form.compare[1]}" if form.compare else f"{size}table"
    elif kind == "code":
        what = f"{_LANGUAGE_NAMES.get(form.language, form.language)} code"
    else:
        what = f"{size}proof"
        if len(form.kinds) == 1:
            return f"{what} of {topic}"
    if len(form.kinds) > 1:
        names = {"list": "a list", "table": "a table", "code": "code", "math": "math"}
        extra = [names.get(k, k) for k in form.kinds[1:]]
        what += " with " + " and ".join(extra)
    what = what.replace("a essay", "an essay")
    if form.compare and kind == "table":
        return what
    return f"{what} on {topic}"


def describe(form: LongForm, seed: str) -> str:
    """What was asked for, in words (the topic as :func:`compose` with ``seed`` picks it).

    Example:
        >>> describe(read_request("List 3 tips for tea"), "0" * 64)
        'a list of 3 items on tea'
    """
    return _describe(form, _Writer(form, seed).topic)


_LANGUAGE_NAMES = {
    "python": "Python", "javascript": "JavaScript", "typescript": "TypeScript", "bash": "Bash", "sql": "SQL",
    "rust": "Rust", "go": "Go", "java": "Java",
}  # fmt: skip


def outline(form: LongForm) -> list[str]:
    """The parts the answer will have, in order (for the reasoning text).

    Example:
        >>> outline(read_request("Write Python code to sort names"))
        ['an introduction', 'the code', 'how it works']
    """
    parts = ["an introduction"]
    for kind in form.kinds:
        parts += {
            "essay": ["a few sections of prose"] if not form.mixed else ["an overview"],
            "story": ["the story"] + (["its moral"] if form.fable else []),
            "list": ["a numbered list"],
            "table": ["a table"],
            "code": ["the code", "how it works"] + (["how to run it"] if form.size == "long" or form.mixed else []),
            "math": ["a derivation with equations"],
        }[kind]
    if form.mixed or "essay" in form.kinds:
        parts.append("a conclusion")
    return list(dict.fromkeys(parts))


def _list_block(writer: _Writer, count: int) -> str:
    lines = []
    for number in range(1, count + 1):
        aspect = writer.aspect()
        lines.append(f"{number}. **{_title(aspect)}**: {writer.detail(aspect)}")
    return "\n".join(lines)


def _table_block(writer: _Writer, form: LongForm, rows: int) -> str:
    if form.compare:
        left, right = (_title(x.replace("|", "/")) for x in form.compare)
        lines = [f"| Aspect | {left} | {right} |", "| --- | --- | --- |"]
        for _ in range(rows):
            a, b = writer.random.sample(("low", "medium", "high", "varies", "strong", "weak"), 2)
            lines.append(f"| {_title(writer.aspect())} | {a} | {b} |")
        return "\n".join(lines)
    lines = ["| # | Aspect | Why it matters | Score |", "| ---: | --- | --- | ---: |"]
    for number in range(1, rows + 1):
        aspect = writer.aspect()
        why = _title(writer.detail(aspect).rstrip("."))
        lines.append(f"| {number} | {_title(aspect)} | {why} | {writer.random.randint(1, 5)}/5 |")
    return "\n".join(lines)


def _code_blocks(writer: _Writer, form: LongForm, heading: str | None) -> list[str]:
    language = form.language
    name = function_name(writer.topic)
    code = sample(language, writer.topic, writer.words()).rstrip("\n")
    blocks = [heading] if heading else []
    blocks.append(f"```{language}\n{code}\n```")
    explain = [
        f"1. **`{name}`** does one job, so it is easy to test on its own.",
        "2. The input is cleaned before it is used, so stray spaces and empty values do no harm.",
        "3. The example at the bottom shows the expected output when the file is run.",
    ]
    level = "###" if heading else "##"
    if form.size != "short" or form.mixed:
        blocks += [f"{level} How it works", "\n".join(explain)]
    if form.size == "long" or form.mixed:
        blocks += [f"{level} Run it", f"```bash\n{run_command(language, name)}\n```"]
    return blocks


_MATH = {
    "pythagoras": (
        "the Pythagorean theorem",
        "For a right triangle with legs $a$ and $b$ and hypotenuse $c$, $a^2 + b^2 = c^2$.",
        [
            (
                "Place four copies of the triangle inside a square of side $a + b$, leaving a tilted square of "
                "side $c$ in the middle. The big square's area counted two ways:"
            ),
            "$$\n(a + b)^2 = c^2 + 4 \\cdot \\tfrac{1}{2} a b\n$$",
            "Expanding the left side:",
            "$$\na^2 + 2ab + b^2 = c^2 + 2ab\n$$",
            "Subtracting $2ab$ from both sides leaves the claim:",
            "$$\na^2 + b^2 = c^2\n$$",
        ],
    ),
    "gauss": (
        "the sum of the first $n$ integers",
        "For every $n \\ge 1$, $1 + 2 + \\dots + n = \\frac{n(n+1)}{2}$.",
        [
            "Write the sum forwards and backwards and add the two lines term by term:",
            "$$\nS = 1 + 2 + \\dots + n, \\qquad S = n + (n - 1) + \\dots + 1\n$$",
            "Each of the $n$ columns adds up to $n + 1$, so",
            "$$\n2S = n(n + 1) \\quad\\Longrightarrow\\quad S = \\frac{n(n + 1)}{2}\n$$",
            "For example, $n = 5$ gives $S = 15$.",
        ],
    ),
    "geometric": (
        "the geometric series",
        "For $r \\ne 1$, $\\sum_{k=0}^{n-1} r^k = \\frac{1 - r^n}{1 - r}$.",
        [
            "Call the sum $S$ and multiply it by $r$:",
            "$$\nS = 1 + r + \\dots + r^{n-1}, \\qquad rS = r + r^2 + \\dots + r^n\n$$",
            "Subtracting the second line from the first, every middle term cancels:",
            "$$\nS - rS = 1 - r^n \\quad\\Longrightarrow\\quad S = \\frac{1 - r^n}{1 - r}\n$$",
        ],
    ),
    "quadratic": (
        "the quadratic formula",
        "If $a \\ne 0$ and $ax^2 + bx + c = 0$, then $x = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}$.",
        [
            "Divide by $a$ and complete the square:",
            "$$\nx^2 + \\frac{b}{a}x + \\frac{b^2}{4a^2} = \\frac{b^2}{4a^2} - \\frac{c}{a}\n$$",
            "The left side is a perfect square:",
            "$$\n\\left(x + \\frac{b}{2a}\\right)^2 = \\frac{b^2 - 4ac}{4a^2}\n$$",
            "Taking square roots and solving for $x$:",
            "$$\nx = \\frac{-b \\pm \\sqrt{b^2 - 4ac}}{2a}\n$$",
        ],
    ),
    "binomial": (
        "the square of a sum",
        "For all numbers $a$ and $b$, $(a + b)^2 = a^2 + 2ab + b^2$.",
        [
            "By definition of the square and the distributive law,",
            "$$\n(a + b)^2 = (a + b)(a + b) = a(a + b) + b(a + b)\n$$",
            "Distributing once more and collecting the two equal middle terms:",
            "$$\na^2 + ab + ba + b^2 = a^2 + 2ab + b^2\n$$",
        ],
    ),
}
_MATH_WORDS = {
    "pythagoras": "pythag", "gauss": "sum", "geometric": "geometric", "quadratic": "quadratic", "binomial": "square",
}  # fmt: skip


def _math_blocks(writer: _Writer, form: LongForm, heading: str | None) -> list[str]:
    topic = writer.topic.lower()
    key = next((k for k, word in _MATH_WORDS.items() if word in topic), None)
    key = key or writer.random.choice(sorted(_MATH))
    name, claim, steps = _MATH[key]
    blocks = [heading] if heading else []
    blocks.append(f"**Claim ({name}).** {claim}")
    blocks.append("**Proof.** " + steps[0])
    blocks += steps[1:]
    if form.size == "long":
        blocks.append(f"**Check.** {writer.sentence(writer.aspect())}")
    blocks.append("This completes the proof. $\\blacksquare$")
    return blocks


def _prose_blocks(writer: _Writer, form: LongForm, budget_words: int) -> list[str]:
    """Sections (a heading, two paragraphs) holding ``budget_words`` words, one sentence more at most;
    ``form.paragraphs`` paragraphs instead when the request counted them."""
    blocks: list[str] = []
    wanted = form.paragraphs
    words = 0
    count = 0
    while (wanted is not None and count < wanted) or (wanted is None and words < budget_words):
        if count % 2 == 0:
            blocks.append(f"## {_title(writer.peek_aspect())}")
            words += prose_words(blocks[-1])
        sentences: list[str] = []
        aspect = writer.aspect()
        while len(sentences) < 4 and (wanted is not None or words < budget_words):
            sentences.append(writer.sentence(aspect if not sentences else writer.aspect()))
            words += prose_words(sentences[-1])
        blocks.append(" ".join(sentences))
        count += 1
    return blocks


def _story_blocks(writer: _Writer, form: LongForm, budget_words: int) -> list[str]:
    (a_hero, hero), (a_friend, friend) = writer.random.sample(_CHARACTERS, 2)
    values = {
        "a_hero": a_hero, "hero": hero, "a_friend": a_friend, "friend": friend,
        "place": writer.random.choice(_PLACES), "topic": writer.topic,
    }  # fmt: skip
    blocks = [f"# The {_title(hero)} and the {_title(friend)}"]
    ending = [f"**Moral:** {writer.random.choice(_MORALS)}"] if form.fable else []
    words = prose_words(blocks[0]) + prose_words(" ".join(ending))
    paragraph: list[str] = []
    written = 0
    for index in range(10**4):
        if (form.paragraphs is None and words >= budget_words) or (
            form.paragraphs is not None and written >= form.paragraphs
        ):
            break
        text = _STORY_SENTENCES[index % len(_STORY_SENTENCES)]
        if index and index % len(_STORY_SENTENCES) == 0:
            text = "Another year went by. " + text
        paragraph.append(text.format(**values))
        words += prose_words(paragraph[-1])
        if len(paragraph) == 4:
            blocks.append(" ".join(paragraph))
            paragraph, written = [], written + 1
    if paragraph:
        blocks.append(" ".join(paragraph))
    return blocks + ending


_PROSE_WORDS = {
    "essay": {"short": 150, "normal": 300, "long": 600},
    "story": {"short": 120, "normal": 250, "long": 500},
}
_ITEMS_BY_SIZE = {"short": 3, "normal": 5, "long": 8}


def compose(form: LongForm, seed: str, notes: list[str] | None = None) -> list[str]:
    """The answer's Markdown blocks, in order; ``notes`` (sentences about media, tool results,
    earlier turns, instructions) join the opening paragraph.

    Example:
        >>> blocks = compose(read_request("Write Python code to reverse a string"), "1" * 64)
        >>> blocks[1].splitlines()[0], blocks[1].splitlines()[-1]
        ('```python', '```')
    """
    writer = _Writer(form, seed)
    intro = " ".join([f"You asked for {_describe(form, writer.topic)}.", *(notes or [])])
    blocks = [intro]
    kinds = form.kinds
    items = form.items or _ITEMS_BY_SIZE[form.size]
    rows = form.items or _ITEMS_BY_SIZE[form.size] - (1 if form.size != "short" else 0)
    sub = bool(form.mixed or len(kinds) > 1)
    closing = ["## Conclusion", writer.sentence("the whole picture")] if form.mixed or "essay" in kinds else []
    if "essay" in kinds or form.mixed:
        blocks.append(f"# {_title(writer.topic)}")
    for kind in kinds:
        if kind == "essay":
            if form.mixed:
                blocks += ["## Overview", writer.paragraph(4)]
            else:
                budget = form.words or _PROSE_WORDS["essay"][form.size]
                budget -= prose_words(" ".join(blocks + closing))
                blocks += _prose_blocks(writer, form, max(budget, 1))
        elif kind == "story":
            budget = (form.words or _PROSE_WORDS["story"][form.size]) - prose_words(intro)
            blocks += _story_blocks(writer, form, max(budget, 1))
        elif kind == "list":
            blocks += (["## Key points"] if sub else []) + [_list_block(writer, items)]
        elif kind == "table":
            blocks += (["## At a glance"] if sub else []) + [_table_block(writer, form, rows)]
        elif kind == "code":
            blocks += _code_blocks(writer, form, "## In code" if sub else None)
        elif kind == "math":
            blocks += _math_blocks(writer, form, "## The math" if sub else None)
    return blocks + closing
