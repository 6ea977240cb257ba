"""The view of a request that condition expressions read.

Roots: ``args``, ``user``, ``agent``, ``time``, ``context``, ``run``,
``findings`` (what the scanners found in the arguments), ``taint`` (argument
path -> the untrusted source of its value), ``tool`` (the MCP tool called
through the proxy: ``context.tool``), plus the scalars
``action`` and ``resource``. Each root is built on first use, so a
condition that reads only ``args.amount`` never pays for the time view.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import datetime, tzinfo
from operator import attrgetter
from typing import Any

from proctor.model.request import CheckRequest

ROOTS = (
    "args",
    "user",
    "agent",
    "time",
    "context",
    "run",
    "action",
    "resource",
    "findings",
    "taint",
    "tool",
)
TIME_FIELDS = (
    "hour",
    "minute",
    "second",
    "weekday",
    "day_name",
    "day",
    "month",
    "year",
    "date",
    "clock",
    "epoch",
    "iso",
    "timezone",
)
_UNBUILT: Any = object()  # a cache miss (None is a value)
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class EvalContext:
    """One request as seen by expressions; roots are computed lazily and cached."""

    __slots__ = ("_cache", "args", "local", "request", "timezone")

    def __init__(self, request: CheckRequest, timezone: tzinfo) -> None:
        self.request = request
        self.timezone = timezone
        self._cache: dict[str, Any] | None = None  # built roots, from the first one built
        # `now` in the set's time zone, converted on the first `time.*` read
        self.local: datetime | None = None
        # `args.*`, the root most conditions read, without a root lookup each time
        self.args = request.args if request.exact_args is None else request.exact_args

    def root(self, name: str) -> Any:
        """The value of root ``name``; a KeyError when the root is absent (e.g. no run)."""
        cache = self._cache
        if cache is None:
            cache = self._cache = {}
        else:
            value = cache.get(name, _UNBUILT)
            if value is not _UNBUILT:
                return value
        value = cache[name] = self._build(name)
        return value

    def local_time(self) -> datetime:
        """``now`` in the policy set's time zone, which every ``time.*`` field reads."""
        local = self.local
        if local is None:
            local = self.local = self.request.now.astimezone(self.timezone)
        return local

    @property
    def now(self) -> datetime:
        return self.request.now

    def _build(self, name: str) -> Any:
        request = self.request
        if name == "args":
            return request.evaluated_args
        if name == "context":
            return request.context
        if name == "action":
            return request.action
        if name == "resource":
            if request.resource is None:
                raise KeyError("resource")
            return request.resource
        if name == "agent":
            agent = request.agent
            return {
                "id": agent.id,
                "role": agent.role,
                "tier": agent.tier.value,
                "tags": sorted(agent.tags),
                "owner": agent.owner,
            }
        if name == "user":
            user = request.user
            if user is None:
                raise KeyError("user")
            view: dict[str, Any] = dict(user.claims)
            view["sub"] = user.sub
            view["scopes"] = list(user.scopes)
            view["claims"] = user.claims
            return view
        if name == "run":
            run = request.run
            if run is None:
                raise KeyError("run")
            known: dict[str, Any] = {
                "id": run.run_id,
                "injection_seen": bool(run.injections),
                "findings": {"injection": injection_summary(run.injections)},
            }
            counters = (
                ("tool_calls", run.tool_calls),
                ("elapsed", run.elapsed_seconds),
                ("spend", run.spend),
            )
            known.update((name, value) for name, value in counters if value is not None)
            return known
        if name == "time":
            return TimeView(self.request.now, self.timezone, self.local_time())
        if name == "findings":
            return findings_view(request.findings)
        if name == "taint":
            return request.taint
        if name == "tool":  # the MCP tool a call goes to, as the proxy describes it
            tool = request.context.get("tool")
            if not isinstance(tool, Mapping):
                raise KeyError("tool")
            return tool
        raise KeyError(name)


FINDING_FAMILIES = ("pii", "secret", "injection", "scan", "content")


def findings_view(findings: Iterable[Mapping[str, Any]]) -> dict[str, dict[str, Any]]:
    """``findings.<family or type>``: ``found``, ``count``, ``score`` (highest), ``types``,
    ``paths``.

    The families are always present (``findings.injection.score`` is 0 when
    nothing was found), so a condition on them never misses a path; a full type
    such as ``findings["pii.payment_card"]`` is present only when found.
    """
    view: dict[str, dict[str, Any]] = {family: _summary() for family in FINDING_FAMILIES}
    for finding in findings:
        kind = str(finding.get("type", ""))
        family = kind.split(".", 1)[0]
        for key in (family, kind) if kind != family else (family,):
            summary = view.setdefault(key, _summary())
            summary["found"] = True
            summary["count"] += 1
            summary["score"] = max(summary["score"], float(finding.get("score", 0.0)))
            if kind not in summary["types"]:
                summary["types"].append(kind)
            path = finding.get("path")
            if path is not None and path not in summary["paths"]:
                summary["paths"].append(path)
    return view


def injection_summary(sources: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """``run.findings.injection``: ``count``, ``score`` (highest), ``sources`` (tool, call)."""
    listed = [dict(source) for source in sources]
    return {
        "count": len(listed),
        "score": max((float(s.get("score", 0.0)) for s in listed), default=0.0),
        "sources": listed,
        "tools": sorted({str(s.get("tool")) for s in listed}),
    }


def _summary() -> dict[str, Any]:
    return {"found": False, "count": 0, "score": 0.0, "types": [], "paths": []}


def time_view(now: datetime, timezone: tzinfo) -> Mapping[str, Any]:
    """The ``time.*`` fields of ``now`` in the policy set's time zone."""
    return TimeView(now, timezone)


class TimeView(Mapping[str, Any]):
    """``time.*``: each field computed when read, from one conversion to local time."""

    __slots__ = ("_local", "_now")

    def __init__(self, now: datetime, timezone: tzinfo, local: datetime | None = None) -> None:
        self._now = now
        self._local = now.astimezone(timezone) if local is None else local

    def __getitem__(self, name: str) -> Any:
        field = _TIME_FIELDS.get(name)
        if field is None:
            raise KeyError(name)
        return field(self._local, self._now)

    def __iter__(self) -> Iterator[str]:
        return iter(_TIME_FIELDS)

    def __len__(self) -> int:
        return len(_TIME_FIELDS)


_TIME_FIELDS: dict[str, Callable[[datetime, datetime], Any]] = {
    "hour": lambda local, now: local.hour,
    "minute": lambda local, now: local.minute,
    "second": lambda local, now: local.second,
    "weekday": lambda local, now: local.isoweekday(),
    "day_name": lambda local, now: _DAY_NAMES[local.weekday()],
    "day": lambda local, now: local.day,
    "month": lambda local, now: local.month,
    "year": lambda local, now: local.year,
    "date": lambda local, now: local.date().isoformat(),
    "clock": lambda local, now: f"{local.hour:02d}:{local.minute:02d}",
    "epoch": lambda local, now: now.timestamp(),
    "iso": lambda local, now: local.isoformat(),
    "timezone": lambda local, now: str(local.tzinfo),
}
assert tuple(_TIME_FIELDS) == TIME_FIELDS
# fields that are attributes of the local datetime, read without a function of their own
_LOCAL_ATTRIBUTES = frozenset({"hour", "minute", "second", "day", "month", "year"})


def time_reader(name: str) -> Callable[[EvalContext], Any] | None:
    """A reader of ``time.<name>`` straight from the context's local time (None when
    ``name`` is no time field)."""
    field = _TIME_FIELDS.get(name)
    if field is None:
        return None
    if name in _LOCAL_ATTRIBUTES:
        get = attrgetter(name)

        def read_local(ctx: EvalContext) -> Any:
            local = ctx.local
            return get(local if local is not None else ctx.local_time())

        return read_local

    def read_field(ctx: EvalContext) -> Any:
        return field(ctx.local_time(), ctx.request.now)

    return read_field
