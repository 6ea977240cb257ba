"""``@governed_tool``: run a function only when proctor allows the call."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

from proctor.model.decision import Decision, Effect
from proctor.sdk.errors import ActionDenied, ApprovalRequired, OutputWithheld, ToolCallBlocked
from proctor.sdk.session import Session, current_session

P = ParamSpec("P")
R = TypeVar("R")
OnDeny = Callable[[str, Decision, Mapping[str, Any]], Any]
_SKIPPED_PARAMETERS = ("self", "cls")


def governed_tool(
    action: str,
    *,
    on_deny: OnDeny | None = None,
    session: Session | None = None,
    resource: Callable[[Mapping[str, Any]], str | None] | None = None,
) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Check ``action`` before each call, with the bound arguments as ``args.*``.

    The session is ``session`` when given, else the one entered with
    ``with proctor.session(...)`` in this thread or task. On anything but allow
    the function does not run: ``on_deny(action, decision, args)`` is returned
    when given, else ``ActionDenied`` or ``ApprovalRequired`` is raised.
    Arguments a `scan:` section redacts reach the function redacted. The return
    value goes through ``session.record_output``: it comes back redacted when
    policy says so, and ``OutputWithheld`` is raised when policy withholds it.
    Works on plain and ``async`` functions.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)

        def decide(
            args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[Decision, inspect.BoundArguments, Session | None]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            active = session or current_session()
            if active is None:
                return _no_session(action), bound, None
            arguments = _arguments(bound)
            target = resource(arguments) if resource is not None else None
            decision = active.check(action, args=arguments, resource=target)
            if decision.allowed and decision.masks_args:
                bound.arguments.update(decision.passed_args(arguments))  # masked values only
            return decision, bound, active

        def refuse(decision: Decision, bound: inspect.BoundArguments) -> Any:
            if on_deny is not None:
                return on_deny(action, decision, _arguments(bound))
            raise blocked_error(action, decision)

        def hand_back(result: Any, decision: Decision, active: Session | None) -> Any:
            if active is None:
                return result
            review = active.record_output(action, result, decision=decision, tool=tool_name)
            if not review.allowed:
                raise OutputWithheld(action, review)
            return review.value

        tool_name = getattr(function, "__name__", action)
        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                decision, bound, active = decide(args, kwargs)
                if not decision.allowed:
                    return refuse(decision, bound)
                result = await function(*bound.args, **bound.kwargs)
                return hand_back(result, decision, active)

            wrapper: Callable[..., Any] = run_async
        else:

            @functools.wraps(function)
            def run_sync(*args: Any, **kwargs: Any) -> Any:
                decision, bound, active = decide(args, kwargs)
                if not decision.allowed:
                    return refuse(decision, bound)
                return hand_back(function(*bound.args, **bound.kwargs), decision, active)

            wrapper = run_sync
        wrapper.__proctor_action__ = action  # type: ignore[attr-defined]
        return cast(Callable[P, R], wrapper)

    return decorate


def _arguments(bound: inspect.BoundArguments) -> dict[str, Any]:
    return {
        name: value for name, value in bound.arguments.items() if name not in _SKIPPED_PARAMETERS
    }


def blocked_error(action: str, decision: Decision) -> ToolCallBlocked:
    if decision.effect is Effect.REQUIRE_APPROVAL:
        return ApprovalRequired(action, decision)
    return ActionDenied(action, decision)


def _no_session(action: str) -> Decision:
    return Decision(
        Effect.DENY,
        f"`{action}` was called outside a proctor session; enter `with proctor.session(...)` first",
        code="no_session",
    )
