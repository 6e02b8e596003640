"""`session.map`: one prompt template over every row of a DataFrame, as a DataFrame of answers.

Each row renders the template with its columns (`"Label: {text}"`), and each (endpoint, row)
becomes one request. Requests are keyed by what they send (`cache.request_key`); identical ones
are sent once, and the ones already in the cache file are not sent at all. `batch_run` sends
the rest on an `AsyncClient`, in an event loop of its own thread (so it works the same inside a
notebook's running loop), under `ratelimit.AdaptiveLimiter`, writing each success to the cache
as it arrives. The result has the input's index and, per endpoint, the columns of `COLUMNS`
(`answer` becoming one column per field with `schema=`); with several endpoints each column is
prefixed with the alias (`gpt.answer`, `claude.answer`).

    layers:  magic / accessor  ->  batch  ->  session  ->  client

Example:
    >>> import pandas as pd
    >>> from cloudsway_nb import Session
    >>> session = Session(); _ = session.use_emulator(pacing="none")
    >>> df = pd.DataFrame({"text": ["a cat", "a dog", "a cat"]}, index=[10, 20, 30])
    >>> out = session.map(df, "Say: {text}", endpoint="gpt", cache=False, progress=False)
    >>> out[["answer", "status"]]
                       answer  status
    10  You said: Say: a cat.      ok
    20  You said: Say: a dog.      ok
    30  You said: Say: a cat.  cached
    >>> session.map(df, "Say: {txt}", cache=False)
    Traceback (most recent call last):
    ...
    cloudsway_nb.errors.UsageError: the template names column 'txt', which the DataFrame does not have \
(its columns: text); e.g. "Summarise: {text}"
    >>> session.close()
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import UsageError, bad_argument
from .ratelimit import check_limit
from .structured import RowSchema

if TYPE_CHECKING:
    from .session import Session

__all__ = ["COLUMNS", "BatchPlan", "Budget", "Estimate", "MapSpec", "estimate_tokens", "map_frame"]

COLUMNS = ("answer", "reasoning", "status", "error", "input_tokens", "output_tokens", "reasoning_tokens",
           "cached_tokens", "cost", "latency")
"""The columns of a map's result, per endpoint (`cost` only when the endpoint has prices)."""

BATCH_OPTIONS = ("concurrency", "rpm", "tpm", "stop", "assumed_output_tokens", "attachments")
"""Keyword arguments of `map` that steer the batch rather than go on the wire."""

DEFAULT_OUTPUT_TOKENS = 256
"""Output tokens assumed per request by an estimate when neither the call nor the endpoint sets max_tokens."""

_TOKEN = re.compile(r"\w{1,8}|[^\w\s]", re.UNICODE)


def estimate_tokens(text: str | None) -> int:
    """Tokens in `text`, estimated offline: runs of up to 8 letters or digits, and each punctuation
    mark (BPE tokenizers land within about 20% of it on English prose).

    Example:
        >>> estimate_tokens("Hello, world!"), estimate_tokens(None)
        (4, 0)
    """
    return len(_TOKEN.findall(text or ""))


@dataclass(frozen=True)
class Budget:
    """The most a run may spend: `tokens` (input + output) and / or `dollars`.

    `budget=` takes a Budget, an int (tokens), a float or "$0.50" (dollars), or a dict.

    Example:
        >>> Budget.of(50_000), Budget.of("$0.25"), Budget.of({"tokens": 10, "dollars": 1})
        (Budget(tokens=50000, dollars=None), Budget(tokens=None, dollars=0.25), Budget(tokens=10, dollars=1.0))
    """

    tokens: int | None = None
    dollars: float | None = None

    @classmethod
    def of(cls, value: Any) -> Budget | None:
        example = "budget=100_000 (tokens) or budget='$0.50'"
        if value is None or isinstance(value, Budget):
            return value
        try:
            if isinstance(value, bool):
                raise ValueError
            if isinstance(value, int):
                return cls(tokens=value) if value > 0 else cls._bad(value, example)
            if isinstance(value, float):
                return cls(dollars=value) if value > 0 else cls._bad(value, example)
            if isinstance(value, str) and value.strip().startswith("$"):
                return cls.of(float(value.strip()[1:]))
            if isinstance(value, dict) and value and set(value) <= {"tokens", "dollars"}:
                tokens, dollars = value.get("tokens"), value.get("dollars")
                return cls(tokens=int(tokens) if tokens is not None else None,
                           dollars=float(dollars) if dollars is not None else None)
        except (TypeError, ValueError):
            pass
        return cls._bad(value, example)

    @staticmethod
    def _bad(value: Any, example: str) -> Budget:
        raise bad_argument("budget", value, "a number of tokens (int), dollars (a float or '$0.50'), "
                           "or {'tokens': N, 'dollars': D}", example)

    def __str__(self) -> str:
        parts = ([f"{self.tokens:,} tokens"] if self.tokens is not None else []) + (
            [f"${self.dollars:g}"] if self.dollars is not None else [])
        return " / ".join(parts)


@dataclass
class MapSpec:
    """A map's settings, checked: what every partition of a run (and a retry) shares."""

    template: str
    endpoints: list[str]
    schema: RowSchema | None = None
    system: str | None = None
    cache: Path | None = None  # None: no cache
    params: dict[str, Any] = field(default_factory=dict)
    concurrency: int = 32
    rpm: int | None = None
    tpm: int | None = None
    budget: Budget | None = None
    progress: bool = True
    stop: Any = None  # a threading.Event, or a function of the progress returning True to stop
    assumed_output_tokens: int = DEFAULT_OUTPUT_TOKENS
    attachments: list[str] = field(default_factory=list)  # columns whose values join each row's prompt


@dataclass(slots=True)
class Request:
    """One distinct request of a run: where it goes, what it says, which rows it answers."""

    key: str
    alias: str
    prompt: str
    rows: list[int]  # positions in the DataFrame
    input_tokens: int
    output_tokens: int  # estimated: max_tokens, or the assumption
    attachments: list[Any] = field(default_factory=list)  # Attachments of the row's columns


@dataclass(slots=True)
class Outcome:
    """What one request came to."""

    status: str  # ok, cached, error, stopped
    answer: Any = None  # the text, or the validated value with a schema
    reasoning: str | None = None
    error: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    reasoning_tokens: int | None = None
    cached_tokens: int | None = None
    cost: float | None = None
    latency: float | None = None


@dataclass
class Estimate:
    """What a run would send: rows, requests, cached ones, tokens (output estimated), dollars."""

    rows: int
    to_send: int  # distinct requests to send
    cached: int  # rows answered by the cache
    duplicates: int  # rows answered by an identical row of the same run
    input_tokens: int
    output_tokens: int
    cost: float | None
    per_endpoint: dict[str, dict[str, Any]] = field(default_factory=dict)

    def to_frame(self) -> Any:
        import pandas as pd

        return pd.DataFrame.from_dict(self.per_endpoint, orient="index")

    def __str__(self) -> str:
        cost = f", about ${self.cost:.4f}" if self.cost is not None else ""
        return (f"{self.rows} rows: {self.to_send} requests to send, {self.cached} cached, {self.duplicates} "
                f"duplicates; ~{self.input_tokens:,} input tokens, <= {self.output_tokens:,} output tokens{cost}")

    def _repr_html_(self) -> str:
        return f"<p>{self}</p>" + self.to_frame().to_html()


def template_fields(template: Any) -> list[str]:
    """The column names a template uses (`{text}`, `{title!r}`, `{price:.2f}`).

    Example:
        >>> template_fields("Title: {title}; price {price:.2f}")
        ['title', 'price']
    """
    if not isinstance(template, str) or not template.strip():
        raise bad_argument("template", template, "a prompt with {column} fields", '"Summarise: {text}"')
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(template) if name is not None]
    except ValueError as exc:
        raise UsageError(f"the template is not valid ({exc}); write a brace as {{{{ or }}}}") from None
    if any(name == "" or name.isdigit() for name in names):
        raise UsageError('the template has a {} without a column name; e.g. "Summarise: {text}"')
    return list(dict.fromkeys(name.split(".")[0].split("[")[0] for name in names))


def _render(frame: Any, template: str, names: list[str]) -> list[str]:
    missing = [n for n in names if n not in frame.columns]
    if missing:
        have = ", ".join(map(str, frame.columns)) or "none"
        first = frame.columns[0] if len(frame.columns) else "text"
        raise UsageError(f"the template names column {missing[0]!r}, which the DataFrame does not have "
                         f'(its columns: {have}); e.g. "Summarise: {{{first}}}"')
    if not names:
        return [template] * len(frame)
    columns = [frame[n].tolist() for n in names]
    return [template.format_map(dict(zip(names, values, strict=True))) for values in zip(*columns, strict=True)]


def make_spec(template: str, endpoint: Any, *, schema: Any, system: Any, cache: Any, progress: Any,
              budget: Any, params: dict[str, Any], default: str | None) -> MapSpec:
    """The arguments of `map`, checked where they are read (one UsageError before anything is sent)."""
    from .cache import default_path

    template_fields(template)
    aliases = ([a.strip() for a in endpoint.split(",") if a.strip()] if isinstance(endpoint, str)
               else list(endpoint) if isinstance(endpoint, Sequence) else [default] if endpoint is None else None)
    if not aliases or not all(isinstance(a, str) and a for a in aliases):
        raise bad_argument("endpoint", endpoint, "an endpoint alias or a list of them", "endpoint=['gpt', 'claude']")
    if system is not None and not isinstance(system, str):
        raise bad_argument("system", system, "the system prompt, a string", "system='Answer in one word.'")
    if cache is not False and cache is not None and not isinstance(cache, str | Path):
        raise bad_argument("cache", cache, "a file path, None (the default file) or False (no cache)",
                           "cache='labels.sqlite'")
    if not isinstance(progress, bool):
        raise bad_argument("progress", progress, "True or False", "progress=False")
    options = {k: params.pop(k) for k in BATCH_OPTIONS if k in params}
    attachments = options.get("attachments") or []
    attachments = [attachments] if isinstance(attachments, str) else attachments
    if not isinstance(attachments, list | tuple) or not all(isinstance(a, str) for a in attachments):
        raise bad_argument("attachments", attachments, "the column (or list of columns) holding each row's "
                           "files: paths, URLs, bytes or images", "attachments='photo'")
    stop = options.get("stop")
    if stop is not None and not callable(stop) and not callable(getattr(stop, "is_set", None)):
        raise bad_argument("stop", stop, "a threading.Event, or a function of the progress returning True to stop",
                           "stop=threading.Event()")
    return MapSpec(
        template=template, endpoints=list(dict.fromkeys(aliases)), schema=RowSchema.of(schema), system=system,
        cache=None if cache is False else (Path(cache).expanduser() if cache is not None else default_path()),
        params=params, progress=progress, budget=Budget.of(budget), stop=stop, attachments=list(attachments),
        concurrency=check_limit("concurrency", options.get("concurrency", 32), "concurrency=16") or 32,
        rpm=check_limit("rpm", options.get("rpm"), "rpm=500"),
        tpm=check_limit("tpm", options.get("tpm"), "tpm=200_000"),
        assumed_output_tokens=check_limit("assumed_output_tokens", options.get("assumed_output_tokens",
                                          DEFAULT_OUTPUT_TOKENS), "assumed_output_tokens=300") or 1,
    )


@dataclass
class BatchPlan:
    """A map ready to run: its requests (distinct, keyed), the cached outcomes, the row layout."""

    spec: MapSpec
    index: Any
    requests: dict[str, Request]  # key -> request, in first-row order
    layout: dict[str, list[str]]  # alias -> the key of each row
    cached: dict[str, Outcome]
    prices: dict[str, Any]  # alias -> Prices or None
    protocols: dict[str, tuple[str, str | None]]  # alias -> (protocol, model)

    @property
    def to_send(self) -> list[Request]:
        return [r for k, r in self.requests.items() if k not in self.cached]

    def estimate(self) -> Estimate:
        per: dict[str, dict[str, Any]] = {}
        for alias, keys in self.layout.items():
            sending = [self.requests[k] for k in dict.fromkeys(keys) if k not in self.cached]
            inp, out = sum(r.input_tokens for r in sending), sum(r.output_tokens for r in sending)
            prices = self.prices[alias]
            cost = prices.cost(_usage(inp, out)) if prices is not None else None
            cached = sum(k in self.cached for k in keys)
            per[alias] = {"rows": len(keys), "to_send": len(sending), "cached": cached,
                          "duplicates": len(keys) - cached - len(sending), "input_tokens": inp,
                          "output_tokens": out, "cost": cost}
        costs = [p["cost"] for p in per.values()]
        return Estimate(
            rows=sum(p["rows"] for p in per.values()), to_send=sum(p["to_send"] for p in per.values()),
            cached=sum(p["cached"] for p in per.values()), duplicates=sum(p["duplicates"] for p in per.values()),
            input_tokens=sum(p["input_tokens"] for p in per.values()),
            output_tokens=sum(p["output_tokens"] for p in per.values()),
            cost=sum(costs) if costs and None not in costs else None, per_endpoint=per,
        )


def _usage(input_tokens: int, output_tokens: int) -> Any:
    from .types import Usage

    return Usage(input=input_tokens, output=output_tokens)


def plan(session: Session, frame: Any, spec: MapSpec) -> BatchPlan:
    """Render every row, key every request, look the keys up in the cache."""
    import pandas as pd

    if not isinstance(frame, pd.DataFrame):
        raise bad_argument("df", frame, "a pandas DataFrame (or a Dask one)", 'session.map(df, "Label: {text}")')
    prompts = _render(frame, spec.template, template_fields(spec.template))
    files = _attachments(frame, spec.attachments)
    requests: dict[str, Request] = {}
    layout: dict[str, list[str]] = {}
    prices, protocols = {}, {}
    for alias in spec.endpoints:
        alias, endpoint = session.resolve(alias)
        if endpoint.protocol == "embeddings":
            raise UsageError(f"endpoint {alias!r} serves embeddings: map needs a chat endpoint")
        prices[alias] = endpoint.prices
        protocols[alias] = (endpoint.protocol, endpoint.model)
        layout[alias] = _keys(session, alias, endpoint, prompts, files, spec, requests)
    cached: dict[str, Outcome] = {}
    if spec.cache is not None and requests:
        from .cache import ResultCache

        with ResultCache(spec.cache) as cache:
            found = cache.get_many(requests)
        cached = {key: _cached_outcome(row, spec.schema) for key, row in found.items()}
    return BatchPlan(spec, frame.index, requests, layout, cached, prices, protocols)


def _attachments(frame: Any, columns: list[str]) -> list[list[Any]]:
    """Each row's attachments: the values of the `attachments=` columns (empty ones skipped), checked now."""
    from .prompts import attachment_list

    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise UsageError(f"attachments={missing[0]!r}: the DataFrame has no such column "
                         f"(its columns: {', '.join(map(str, frame.columns))})")
    if not columns:
        return [[] for _ in range(len(frame))]
    rows = zip(*(frame[c].tolist() for c in columns), strict=True)
    return [attachment_list([v for v in values if v is not None and not (isinstance(v, float) and v != v)])
            for values in rows]


def _keys(session: Session, alias: str, endpoint: Any, prompts: list[str], files: list[list[Any]],
          spec: MapSpec, requests: dict[str, Request]) -> list[str]:
    from .cache import gateway_origin, request_key

    client = session.client
    origin = gateway_origin(client.base_url)
    params = wire_params(spec)
    out_tokens = params.get("max_tokens") or endpoint.defaults.get("max_tokens") or spec.assumed_output_tokens
    system_tokens = estimate_tokens(spec.system) + (3 if spec.system else 0)
    if spec.schema is not None:  # the schema goes with every request, and counts as input
        system_tokens += estimate_tokens(json.dumps(spec.schema.json_schema))
    keys = []
    for position, prompt in enumerate(prompts):
        prep = client.prepare_chat(alias, prompt, system=spec.system, attachments=files[position], tools=None,
                                   stream=False, params=params)
        model = (prep.http.json or {}).get("model", endpoint.model)
        key = request_key(origin + prep.http.path, endpoint.protocol, model, prep.http.json)
        keys.append(key)
        if key in requests:
            requests[key].rows.append(position)
        else:
            requests[key] = Request(key, alias, prompt, [position], estimate_tokens(prompt) + 6 + system_tokens,
                                    int(out_tokens), files[position])
    return keys


def wire_params(spec: MapSpec) -> dict[str, Any]:
    """The call's parameters (the schema included) as every request of the run sends them."""
    params = dict(spec.params)
    if spec.schema is not None:
        params["schema"] = spec.schema.json_schema
    return params


def _cached_outcome(row: Any, schema: RowSchema | None) -> Outcome:
    answer: Any = row.answer
    if schema is not None:
        try:
            answer = schema.validate(row.answer)
        except ValueError:
            answer = None
    return Outcome("cached", answer, row.reasoning, None, row.input_tokens, row.output_tokens,
                   row.reasoning_tokens, row.cached_tokens, None, None)


def map_frame(session: Session, frame: Any, template: str, endpoint: Any = None, *, schema: Any = None,
              system: str | None = None, cache: Any = None, progress: bool = True, dry_run: bool = False,
              budget: Any = None, background: bool = False, **params: Any) -> Any:
    """`session.map(df, template, ...)`: the template over every row, as a DataFrame with `df`'s index.

    Args:
        frame: a pandas DataFrame (a Dask DataFrame or bag gets a lazy result, see `batch_dask`).
        template: the prompt, with `{column}` fields filled from each row.
        endpoint: an alias, a list of them (one set of columns each), or None for the default.
        schema: a JSON schema (dict) or a pydantic model: answers validated, fields as columns.
        system: the system prompt of every request.
        cache: the cache file's path; None for the default file (`cache.default_path`); False for none.
        progress: show a progress bar (tqdm.auto).
        dry_run: send nothing; return an `Estimate` (rows, requests, cached, tokens, dollars).
        budget: tokens (int) or dollars ("$0.50", a float): the run stops before exceeding it.
        background: return a `batch_job.MapJob` at once, shown as the progress bar and a Stop button
            (`job.stop()`, `job.wait()`, `job.done`, `job.result()`), instead of waiting for the run.
        params: `attachments=` (a column, or columns, of files, URLs, bytes or images sent with each
            row's prompt), `concurrency=32`, `rpm=`, `tpm=`, `stop=` (a threading.Event, or a function of the
            `Progress` returning True), `assumed_output_tokens=256` (for estimates without
            max_tokens); everything else goes to every request (`max_tokens`, `temperature`...).

    Returns the result (`batch_run.MapResult`, see `COLUMNS`); `retry_failed()` re-sends its failed rows.
    """
    for name, flag in (("dry_run", dry_run), ("background", background)):
        if not isinstance(flag, bool):
            raise bad_argument(name, flag, "True or False", f"{name}=True")
    spec = make_spec(template, endpoint, schema=schema, system=system, cache=cache, progress=progress,
                     budget=budget, params=params, default=session.default_endpoint)
    if type(frame).__module__.startswith("dask"):
        if background:
            raise UsageError("background=True is for pandas; a Dask map is lazy already: .persist() or "
                             "client.compute() runs it in the background")
        from .batch_dask import map_dask

        return map_dask(session, frame, spec)
    from . import accessor  # noqa: F401 - df.cloudsway, once pandas is here anyway

    the_plan = plan(session, frame, spec)
    if dry_run:
        return the_plan.estimate()
    if background:
        from .batch_job import MapJob

        return MapJob(session, frame, the_plan)
    from .batch_run import run_plan

    return run_plan(session, frame, the_plan)

