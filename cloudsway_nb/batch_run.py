"""Running a `batch.BatchPlan`: the requests sent concurrently, each row's outcome as it comes.

The run is async (an `AsyncClient`, `ratelimit.AdaptiveLimiter`, one worker task per slot of
concurrency) in an event loop of its own thread, so `session.map` is a plain call in a script
and in a notebook, whose kernel already runs a loop. The calling thread shows the progress and
waits; a KeyboardInterrupt (the notebook's Stop button) or `stop=` ends the run at once: the
requests in flight are cancelled and their rows marked `stopped`, the finished ones are kept.

Each request is retried with the client's policy (`RetryPolicy`: statuses, `retry-after`,
backoff), the limiter learning from every answer; with a schema, an answer that does not
validate is asked again once, with the validation error. Every success is written to the cache
before the next row is looked at.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import pandas as pd

from .batch import COLUMNS, BatchPlan, Outcome, Request, wire_params
from .errors import APIError, UsageError, describe_error
from .ratelimit import AdaptiveLimiter

if TYPE_CHECKING:
    from .session import Session

__all__ = ["MapResult", "Progress", "run_plan"]

REASK = ("Your answer did not match the required JSON schema: {error}. "
         "Answer again with JSON only, matching the schema.")


@dataclass
class Progress:
    """Counts of a run so far (what the progress bar shows, and what `stop=` functions see).

    Example:
        >>> p = Progress(total=10, done=3, cached=2, failed=1, input_tokens=40, output_tokens=8)
        >>> p.finished, p.tokens
        (6, 48)
    """

    total: int = 0  # rows
    done: int = 0  # rows answered by a request of this run
    cached: int = 0
    failed: int = 0
    stopped: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    throttled: int = 0
    retries: int = 0
    sent: int = 0  # requests sent (re-asks and retries included)

    @property
    def finished(self) -> int:
        return self.done + self.cached + self.failed

    @property
    def tokens(self) -> int:
        return self.input_tokens + self.output_tokens


class Runner:
    """The async side of a run (one per `run_plan`, used from its own event loop's thread)."""

    def __init__(self, session: Session, the_plan: BatchPlan) -> None:
        self.plan, self.spec = the_plan, the_plan.spec
        self.session = session
        self.outcomes: dict[str, Outcome] = dict(the_plan.cached)
        self.progress = Progress(total=sum(len(k) for k in the_plan.layout.values()))
        self.progress.cached = sum(k in the_plan.cached for keys in the_plan.layout.values() for k in keys)
        self.pending = iter(the_plan.to_send)
        self.reserved = [0, 0.0]  # tokens, dollars of the requests in flight
        self._in_flight = 0
        self._settled = asyncio.Event()  # set as each request ends
        self.stop_reason: str | None = None
        self.entries: list[Any] = []  # ledger entries, added by the calling thread at the end
        self.loop: asyncio.AbstractEventLoop | None = None
        self.error: BaseException | None = None
        self._workers: list[asyncio.Task[Any]] = []
        if self.spec.budget is not None and self.spec.budget.dollars is not None:
            unpriced = [a for a, p in the_plan.prices.items() if p is None]
            if unpriced:
                raise UsageError(f"budget in dollars needs prices, and endpoint {unpriced[0]!r} has none; "
                                 "give it prices (add_endpoint(..., prices={'input': 2.5, 'output': 10})) "
                                 "or a budget in tokens")

    def request_stop(self, reason: str) -> None:
        """Stop from any thread, even before the run's loop has started (its workers then send nothing)."""
        if self.stop_reason is None:
            self.stop_reason = reason
        loop = self.loop
        if loop is not None and not loop.is_closed():
            try:
                loop.call_soon_threadsafe(self.stop, reason)
            except RuntimeError:  # the loop closed meanwhile: the run has ended
                pass

    def stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason
        for task in self._workers:
            task.cancel()

    async def run(self) -> None:
        from .cache import ResultCache

        self.loop = asyncio.get_running_loop()
        self.client = self.session.client.async_client()
        self.limiter = AdaptiveLimiter(self.spec.concurrency, self.spec.rpm, self.spec.tpm)
        self.cache = ResultCache(self.spec.cache) if self.spec.cache is not None else None
        try:
            count = min(self.spec.concurrency, len(self.plan.to_send))
            self._workers = [asyncio.create_task(self._worker()) for _ in range(count)]
            if self.stop_reason is not None:  # asked before the loop was ready
                self.stop(self.stop_reason)
            results = await asyncio.gather(*self._workers, return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException) and not isinstance(r, asyncio.CancelledError)]
            if errors:
                raise errors[0]
        finally:
            if self.cache is not None:
                self.cache.close()
            await self.client.aclose()

    async def _worker(self) -> None:
        event = self.spec.stop if hasattr(self.spec.stop, "is_set") else None
        while self.stop_reason is None and (request := next(self.pending, None)) is not None:
            if event is not None and event.is_set():
                self.stop("stopped by stop=")
                return
            if not await self._fits(request):
                if self.stop_reason is None:  # no new request; the ones in flight (within the budget) finish
                    self.stop_reason = f"stopped: the budget ({self.spec.budget}) would be exceeded"
                return
            await self._one(request)

    async def _fits(self, request: Request) -> bool:
        """Whether the request fits the budget: what it may cost, with what is spent and reserved by the
        requests in flight. While some are in flight it waits for them: they often spend less than reserved."""
        while not self._affordable(request):
            if self._in_flight == 0 or self.stop_reason is not None:
                return False
            self._settled.clear()
            await self._settled.wait()
        return self.stop_reason is None

    def _affordable(self, request: Request) -> bool:
        budget = self.spec.budget
        if budget is None:
            return True
        tokens = request.input_tokens + request.output_tokens
        prices = self.plan.prices[request.alias]
        dollars = prices.cost(_usage(request.input_tokens, request.output_tokens)) if prices is not None else 0.0
        if budget.tokens is not None and self.progress.tokens + self.reserved[0] + tokens > budget.tokens:
            return False
        return not (budget.dollars is not None
                    and self.progress.cost + self.reserved[1] + (dollars or 0.0) > budget.dollars)

    async def _one(self, request: Request) -> None:
        prices = self.plan.prices[request.alias]
        reserve = (request.input_tokens + request.output_tokens,
                   (prices.cost(_usage(request.input_tokens, request.output_tokens)) or 0.0) if prices else 0.0)
        self.reserved[0] += reserve[0]
        self.reserved[1] += reserve[1]
        self._in_flight += 1
        try:
            outcome = await self._outcome(request)
        except Exception as exc:  # whatever one row runs into fails that row, never the run
            outcome = Outcome("error", error=self.client.redact(_one_line(exc)))
        finally:
            self.reserved[0] -= reserve[0]
            self.reserved[1] -= reserve[1]
            self._in_flight -= 1
            self._settled.set()  # the workers waiting for room in the budget look again (after the record below)
        self._record(request, outcome)

    async def _outcome(self, request: Request) -> Outcome:
        from .prompts import with_attachments
        from .types import Message

        started = time.perf_counter()
        replies: list[Any] = []
        messages: list[Any] = with_attachments([Message.user(request.prompt)], request.attachments)
        try:
            reply = await self._call(request, messages)
            replies.append(reply)
            answer, mismatch = self._validated(reply.text)
            if mismatch is not None:  # asked once more, with the validation error
                messages += [reply.to_message(), Message.user(REASK.format(error=mismatch))]
                reply = await self._call(request, messages)
                replies.append(reply)
                answer, mismatch = self._validated(reply.text)
        except APIError as exc:
            return self._totals(Outcome("error", error=self.client.redact(describe_error(exc))), replies, started)
        outcome = Outcome("ok" if mismatch is None else "error", answer, reply.reasoning or None,
                          f"schema: {mismatch}" if mismatch is not None else None)
        outcome = self._totals(outcome, replies, started)
        if mismatch is None and self.cache is not None:
            try:
                self.cache.put(_cached_row(request, self.plan, reply, outcome))
            except sqlite3.Error as exc:  # the answer is paid for: keep it, and say it was not saved
                outcome.error = f"not cached: {_one_line(exc)}"
        return outcome

    def _validated(self, text: str) -> tuple[Any, str | None]:
        schema = self.spec.schema
        if schema is None:
            return text, None
        try:
            return schema.validate(text), None
        except ValueError as exc:
            return None, str(exc)

    def _totals(self, outcome: Outcome, replies: list[Any], started: float) -> Outcome:
        """Token counts, cost and latency summed over the request's replies (a re-ask included)."""
        for name, attr in (("input_tokens", "input"), ("output_tokens", "output"),
                           ("reasoning_tokens", "reasoning"), ("cached_tokens", "cached")):
            values = [getattr(r.usage, attr) for r in replies if getattr(r.usage, attr) is not None]
            setattr(outcome, name, sum(values) if values else None)
        costs = [r.cost for r in replies]
        outcome.cost = sum(costs) if costs and None not in costs else None
        outcome.latency = time.perf_counter() - started
        return outcome

    async def _call(self, request: Request, messages: list[Any]) -> Any:
        """One request with the client's retry policy, each answer shown to the limiter."""
        endpoint = self.client.endpoints[request.alias]
        params = wire_params(self.spec)
        policy = self.client.policy_for({k: params[k] for k in ("retry", "max_retries") if k in params})
        prep = self.client.prepare_chat(request.alias, messages, system=self.spec.system, attachments=None,
                                        tools=None, stream=False, params={**params, "max_retries": 0})
        attempt = 0
        while True:
            seen: dict[str, Any] = {}

            def observe(status: int | None, headers: Any, seen: dict[str, Any] = seen) -> None:
                self.limiter.observe(status, headers)
                if status is None or status >= 400:
                    seen["failure"] = (status, headers)

            started = time.perf_counter()
            try:
                async with self.limiter.slot(request.input_tokens + request.output_tokens):
                    self.progress.sent += 1
                    try:
                        reply = await self.client.send_prepared(prep, observe)
                    except asyncio.CancelledError:  # stopped in flight: sent, so in the ledger (estimated)
                        self._ledger(request, None, None, started, interrupted=True)
                        raise
            except APIError as exc:
                self._ledger(request, None, exc, started)
                failure = seen.get("failure")
                if failure is None or attempt >= policy.max_retries or not policy.should_retry(*failure):
                    raise
                self.progress.retries += 1
                await asyncio.sleep(policy.delay(attempt, failure[1]))
                attempt += 1
                continue
            prices = endpoint.prices
            reply.cost = prices.cost(reply.usage) if prices is not None else None
            self._ledger(request, reply, None, started)
            return reply

    def _ledger(self, request: Request, reply: Any, error: APIError | None, started: float,
                interrupted: bool = False) -> None:
        from .ledger import LedgerEntry, usage_counts
        from .types import Usage

        protocol, model = self.plan.protocols[request.alias]
        # a request cut short was sent, and its prompt may be billed: its input estimated, and priced (as ask does)
        usage = reply.usage if reply is not None else Usage(input=request.input_tokens, output=0) if interrupted \
            else Usage()
        prices = self.plan.prices[request.alias]
        cost = reply.cost if reply is not None else prices.cost(usage) if interrupted and prices else None
        self.entries.append(LedgerEntry(
            endpoint=request.alias, protocol=protocol, model=(reply.model if reply is not None else None) or model,
            status="interrupted" if interrupted else "ok" if error is None else "error", estimated=interrupted,
            latency=time.perf_counter() - started,
            error=self.client.redact(describe_error(error)) if error is not None else None,
            request_id=error.request_id if error is not None else None,
            cost=cost,
            **usage_counts(usage),
        ))

    def _record(self, request: Request, outcome: Outcome) -> None:
        self.outcomes[request.key] = outcome
        p = self.progress
        rows = len(request.rows)
        if outcome.status == "ok":
            p.done += 1
            p.cached += rows - 1
        else:
            p.failed += rows
        p.input_tokens += outcome.input_tokens or 0
        p.output_tokens += outcome.output_tokens or 0
        p.cost += outcome.cost or 0.0
        p.throttled = self.limiter.throttled
        stop = self.spec.stop
        if stop is not None and not hasattr(stop, "is_set") and stop(p):
            self.stop("stopped by stop=")


def _one_line(error: BaseException) -> str:
    """An error as one line, with its class (APIErrors name theirs already)."""
    text = describe_error(error)
    return text if isinstance(error, APIError) else f"{type(error).__name__}: {text}"


def _usage(input_tokens: int, output_tokens: int) -> Any:
    from .types import Usage

    return Usage(input=input_tokens, output=output_tokens)


def _cached_row(request: Request, the_plan: BatchPlan, reply: Any, outcome: Outcome) -> Any:
    from .cache import CachedRow

    protocol, model = the_plan.protocols[request.alias]
    return CachedRow(request.key, request.alias, protocol, reply.model or model, request.prompt, reply.text,
                     outcome.reasoning, outcome.input_tokens, outcome.output_tokens, outcome.reasoning_tokens,
                     outcome.cached_tokens, outcome.latency)


def run_plan(session: Session, frame: Any, the_plan: BatchPlan) -> Any:
    """Run in a thread of its own (with its own event loop) while this thread shows the progress."""
    from .progress import ProgressBar

    runner = Runner(session, the_plan)
    bar = ProgressBar(runner.progress, enabled=the_plan.spec.progress)
    finished = start(runner)
    try:
        watch(runner, finished, bar)
    except KeyboardInterrupt:
        runner.request_stop("stopped: interrupted")
        _join(finished)
    finally:
        bar.close()
    return finish(session, frame, the_plan, runner)


def start(runner: Runner) -> threading.Event:
    """Start the run in a thread with its own event loop; the event is set when it has ended."""
    finished = threading.Event()  # waited on, not Thread.join: an interrupted join can report a live thread dead

    def target() -> None:
        try:
            asyncio.run(runner.run())
        except BaseException as exc:  # shown in the calling thread
            runner.error = exc
        finally:
            finished.set()

    threading.Thread(target=target, name="cloudsway-batch", daemon=True).start()
    return finished


def watch(runner: Runner, finished: threading.Event, bar: Any) -> None:
    """Refresh the bar (four times a second) and pass a `stop=` event on, until the run ends."""
    stop = runner.spec.stop
    while not finished.wait(0.25):
        if hasattr(stop, "is_set") and stop.is_set():
            runner.request_stop("stopped by stop=")
        bar.update(runner.limiter.limit if hasattr(runner, "limiter") else None)


def finish(session: Session, frame: Any, the_plan: BatchPlan, runner: Runner) -> MapResult:
    """An ended run as its result; its calls join the session's ledger (an error of the run is raised)."""
    for entry in runner.entries:
        session.ledger.append(entry)
    runner.entries = []
    if runner.error is not None:
        raise runner.error
    return MapResult.build(session, frame, the_plan, runner)


def _join(finished: threading.Event) -> None:
    """Wait for the run's thread to wind down (it cancels at once); a second interrupt does not cut it short."""
    while True:
        try:
            if finished.wait(0.1):
                return
        except KeyboardInterrupt:
            continue


def _frame_columns(the_plan: BatchPlan, outcomes: dict[str, Outcome], alias: str, reason: str | None) -> dict:
    keys = the_plan.layout[alias]
    seen: set[str] = set()
    rows: list[Outcome] = []
    for key in keys:
        outcome = outcomes.get(key) or Outcome("stopped", error=reason or "stopped")
        if key in seen and outcome.status == "ok":  # an identical row answered it: nothing was paid again
            outcome = replace(outcome, status="cached", cost=0.0 if outcome.cost is not None else None, latency=None)
        elif outcome.status == "cached" and the_plan.prices[alias] is not None:
            outcome.cost = 0.0
        seen.add(key)
        rows.append(outcome)
    schema = the_plan.spec.schema
    columns: dict[str, Any] = {}
    if schema is None:
        columns["answer"] = pd.Series([o.answer for o in rows], dtype=object)
    else:
        values = [schema.columns(o.answer) if o.answer is not None else {} for o in rows]
        for name in schema.fields:
            columns[name] = pd.Series([v.get(name) for v in values], dtype=object)
    for name in COLUMNS[1:]:
        if name == "cost" and the_plan.prices[alias] is None:
            continue
        dtype = "Int64" if name.endswith("_tokens") else "float64" if name in ("cost", "latency") else object
        columns[name] = pd.Series([getattr(o, name) for o in rows], dtype=dtype)
    return columns


def empty_result(spec: Any, prices: dict[str, Any]) -> pd.DataFrame:
    """A map's result with no rows: its columns and dtypes (Dask's `meta`)."""
    empty = BatchPlan(spec, pd.RangeIndex(0), {}, {a: [] for a in spec.endpoints}, {}, prices,
                      {a: ("chat", None) for a in spec.endpoints})
    data: dict[str, Any] = {}
    for alias in spec.endpoints:
        cols = _frame_columns(empty, {}, alias, None)
        data.update(cols if len(spec.endpoints) == 1 else {f"{alias}.{k}": v for k, v in cols.items()})
    return pd.DataFrame(data)


class MapResult(pd.DataFrame):
    """A map's DataFrame, which remembers its run: `retry_failed()` re-sends only the failed rows, and
    `progress` holds the run's counts (requests sent, retries, 429s seen, tokens, cost)."""

    _metadata = ["_batch", "progress"]  # noqa: RUF012 - pandas' own convention for subclasses

    @property
    def _constructor(self) -> type:
        return MapResult

    @classmethod
    def build(cls, session: Session, frame: Any, the_plan: BatchPlan, runner: Runner) -> MapResult:
        aliases = the_plan.spec.endpoints
        data: dict[str, Any] = {}
        for alias in aliases:
            cols = _frame_columns(the_plan, runner.outcomes, alias, runner.stop_reason)
            data.update(cols if len(aliases) == 1 else {f"{alias}.{k}": v for k, v in cols.items()})
        result = cls({k: v.array for k, v in data.items()}, index=frame.index)
        result._batch = (session, frame, the_plan.spec)
        statuses = [c for c in result.columns if str(c).split(".")[-1] == "status"]
        runner.progress.stopped = int(result[statuses].eq("stopped").to_numpy().sum())
        result.progress = runner.progress  # not in attrs: to_parquet writes those as JSON
        return result

    def retry_failed(self, *, stopped: bool = False, **changes: Any) -> MapResult:
        """Send again only the (row, endpoint) pairs whose status is `error` (and `stopped` with
        `stopped=True`); returns the whole table with those cells replaced, its index and dtypes kept.
        `changes` override the map's settings (e.g. `concurrency=4`)."""
        from .batch import plan

        session, frame, spec = self._batch
        wanted = {"error", "stopped"} if stopped else {"error"}
        spec = replace(spec, **changes) if changes else spec
        merged = pd.DataFrame(self).copy()
        runs: list[Progress] = []
        for alias in spec.endpoints:  # one endpoint at a time: an answer another endpoint gave is not sent again
            prefix = f"{alias}." if len(spec.endpoints) > 1 else ""
            positions = (self[f"{prefix}status"].isin(wanted).to_numpy()).nonzero()[0]
            if not len(positions):
                continue
            part = frame.iloc[positions]  # by position: an index with repeated labels is fine
            again = run_plan(session, part, plan(session, part, replace(spec, endpoints=[alias])))
            for name in again.columns:
                values = merged[prefix + name].array.copy()
                values[positions] = again[name].array
                merged[prefix + name] = values
            runs.append(again.progress)
        merged = MapResult(merged)
        merged._batch = (session, frame, spec)
        merged.progress = _summed(runs)
        return merged


def _summed(runs: list[Progress]) -> Progress:
    """The counts of several runs together (a retry of several endpoints)."""
    total = Progress()
    for run in runs:
        for name, value in vars(run).items():
            setattr(total, name, getattr(total, name) + value)
    return total
