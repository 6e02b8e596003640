"""Reading the magic's line: `{name}` interpolation, `-o key=value` values, shell-like words, and
the parser of the `%cloudsway` line commands. Pure: nothing here runs a call.

Example:
    >>> parse_option("max_tokens=200"), split_line("gpt -s 'Be brief.'")
    (('max_tokens', 200), ['gpt', '-s', 'Be brief.'])
"""

from __future__ import annotations

import ast
import builtins
import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from IPython.core.error import UsageError
from IPython.core.magic_arguments import MagicArgumentParser

from .types import PROTOCOLS

__all__ = ["SHOW_ITEMS", "interpolate", "line_parser", "parse_option", "parse_show", "parse_value", "split_line"]

SHOW_ITEMS = ("reasoning", "usage", "raw", "logprobs")
"""What `--show` turns on or off."""


def parse_show(spec: str | None, defaults: Mapping[str, bool]) -> dict[str, bool]:
    """`--show`: changes to the defaults, read left to right: `ITEM` or `+ITEM` adds, `-ITEM` removes,
    `none` turns everything off (so `none,reasoning` shows only the reasoning).

    Example:
        >>> defaults = {"reasoning": True, "usage": True, "raw": False, "logprobs": True}
        >>> parse_show("+raw", defaults) == {**defaults, "raw": True}
        True
        >>> parse_show("raw,-usage", defaults)["usage"], parse_show("none", defaults)["reasoning"]
        (False, False)
    """
    show = {key: bool(defaults.get(key, False)) for key in SHOW_ITEMS}
    if spec is None:
        return show
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        if item == "none":
            show = dict.fromkeys(SHOW_ITEMS, False)
            continue
        on = not item.startswith("-")
        key = item.lstrip("+-")
        if key not in show:
            raise UsageError(
                f"--show: {item!r} is not one of {', '.join(SHOW_ITEMS)}, none "
                "(ITEM or +ITEM adds to what is shown, -ITEM hides it; e.g. --show +raw or --show -usage)"
            )
        show[key] = on
    return show

def _session_keywords() -> frozenset[str]:
    """The keyword arguments of Session.ask / ask_many themselves (not the model's parameters)."""
    import inspect

    from .session import Session

    names = set()
    for method in (Session.ask, Session.ask_many):
        names |= {p.name for p in inspect.signature(method).parameters.values()
                  if p.kind is not inspect.Parameter.VAR_KEYWORD and p.name != "self"}
    return frozenset(names)


_OWN_ARGUMENTS = _session_keywords()
"""What -o never sets: the session's own arguments, which the magic sets from its flags."""


_BRACES = re.compile(r"(?<!\{)\{([^{}\n]+)\}(?!\})")


def interpolate(text: str, namespace: Mapping[str, Any]) -> str:
    """Replace `{name}` / `{expr}` with values from `namespace`; anything else stays literal.

    An expression is replaced only when it parses, every name in it is defined (in the namespace
    or builtins), at least one comes from the namespace, and evaluating it succeeds. So JSON,
    code and unknown names in a prompt are left alone. `{In[3]}` / `{Out[3]}` work in IPython.

    Example:
        >>> interpolate('Hi {who}! {"a": 1} {missing} {len(xs)}', {"who": "Ada", "xs": [1, 2]})
        'Hi Ada! {"a": 1} {missing} 2'
    """

    def replace(match: re.Match[str]) -> str:
        expr = match.group(1).strip()
        try:
            tree = ast.parse(expr, mode="eval")
        except SyntaxError:
            return match.group(0)
        names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
        if not any(n in namespace for n in names):
            return match.group(0)
        if any(n not in namespace and not hasattr(builtins, n) for n in names):
            return match.group(0)
        try:
            value = eval(compile(tree, "<cloudsway prompt>", "eval"), {"__builtins__": builtins}, dict(namespace))
        except Exception:
            return match.group(0)
        return str(value)

    return _BRACES.sub(replace, text)


def parse_value(raw: str) -> Any:
    """A flag value as Python data: JSON (numbers, objects, lists), booleans, else the text.

    Example:
        >>> [parse_value(v) for v in ["0.2", "3", "true", "False", "none", '{"a": 1}', "gpt-4o"]]
        [0.2, 3, True, False, None, {'a': 1}, 'gpt-4o']
    """
    lowered = raw.strip().lower()
    if lowered in ("true", "yes", "on"):
        return True
    if lowered in ("false", "no", "off"):
        return False
    if lowered in ("none", "null"):
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw


def parse_option(text: str) -> tuple[str, Any]:
    """`key=value` from `-o` as (key, parsed value).

    Example:
        >>> parse_option("top_p=0.9")
        ('top_p', 0.9)
    """
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise UsageError(f"-o/--option expects key=value, got {text!r}")
    if key in _OWN_ARGUMENTS:
        raise UsageError(
            f"-o {key}=...: {key!r} is set by the magic itself, not a model parameter "
            "(see %%cloudsway? for the flag that sets it)"
        )
    return key, parse_value(raw.strip())


def split_line(line: str) -> list[str]:
    """Shell-like words (quotes removed, as in a terminal); `--show -usage` is kept as one
    option (argparse would read `-usage` as a flag of its own).

    Example:
        >>> split_line("gpt --show -usage,+raw")
        ['gpt', '--show=-usage,+raw']
    """
    try:
        words = shlex.split(line)
    except ValueError as exc:
        raise UsageError(f"cannot parse the magic line: {exc}") from None
    for i in range(len(words) - 1):
        if words[i] == "--show" and words[i + 1].startswith("-"):
            words[i : i + 2] = [f"--show={words[i + 1]}"]
            break
    return words



def line_parser() -> MagicArgumentParser:
    parser = MagicArgumentParser(prog="%cloudsway", description="Line commands of %cloudsway")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    connect = sub.add_parser(
        "connect", help="use the configured gateway when CLOUDSWAY_API_KEY is set, else start the emulator"
    )
    where = connect.add_mutually_exclusive_group()
    where.add_argument("--emulator", dest="where", action="store_const", const=True, help="always the emulator")
    where.add_argument("--gateway", dest="where", action="store_const", const=False,
                       help="always the configured gateway")
    sub.add_parser("login", help="ask for the API key (hidden input; kept in memory only)")
    sub.add_parser("endpoints", help="the endpoint registry as a DataFrame")
    add = sub.add_parser("add", help="register an endpoint alias")
    add.add_argument("name")
    add.add_argument("--path", required=True, help="the deployment's endpointPath")
    add.add_argument("--protocol", required=True, choices=PROTOCOLS)
    add.add_argument("--model")
    add.add_argument("--save", action="store_true",
                     help="also write the registry file (refused while the emulator runs)")
    remove = sub.add_parser("remove", help="forget an endpoint alias")
    remove.add_argument("name")
    use = sub.add_parser("use", help="make an endpoint the default")
    use.add_argument("name")
    usage = sub.add_parser("usage", help="the session ledger (one row per call) as a DataFrame")
    usage.add_argument("--by-endpoint", action="store_true", help="totals per endpoint instead")
    history = sub.add_parser("history", help="a conversation as a DataFrame")
    history.add_argument("name", nargs="?", help="a --chat name or an endpoint (default: the default endpoint)")
    reset = sub.add_parser("reset", help="forget every conversation")
    reset.add_argument("--all", action="store_true", help="clear the ledger too")
    sub.add_parser("config", help="the settings (the key masked)")
    emulator = sub.add_parser("emulator", help="run the bundled gateway emulator and use it")
    emulator.add_argument("action", choices=["start", "stop"])
    emulator.add_argument("--pacing", choices=["realistic", "none"], default=None,
                          help="realistic: a first token after 0.3 s, then 40 tokens a second (the default); none")
    emulator.add_argument("--chunk-delay", type=float, default=None, metavar="S", help="seconds between chunks")
    emulator.add_argument("--first-token-delay", type=float, default=None, metavar="S",
                          help="seconds before the first token")
    chat = sub.add_parser("chat", help="open the chat panel (again: the same conversation)")
    chat.add_argument("endpoint", nargs="?", help="the endpoint to start with (default: the default endpoint)")
    chat.add_argument("-s", "--system", help="system prompt")
    chat.add_argument("--name", default="panel", help="the conversation's name (%%cloudsway --chat NAME shares it)")
    chat.add_argument("--no-save", action="store_true", help="keep the transcript in memory only (not in .cloudsway/)")
    chat.add_argument("-T", "--tool", action="append", default=[], metavar="NAME",
                      help="a tool (a function, Tool, Toolbox or list in the notebook) each turn may call (repeatable)")
    return parser
