"""``@governed_tool``: run a function only when proctor allows the call."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping
from typing import Any, ParamSpec, TypeVar, cast

from proctor.model.decision import Decision, Effect
from proctor.sdk.errors import ActionDenied, ApprovalRequired, ToolCallBlocked
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
    Works on plain and ``async`` functions.
    """

    def decorate(function: Callable[P, R]) -> Callable[P, R]:
        signature = inspect.signature(function)

        def decide(
            args: tuple[Any, ...], kwargs: dict[str, Any]
        ) -> tuple[Decision, dict[str, Any]]:
            bound = signature.bind(*args, **kwargs)
            bound.apply_defaults()
            arguments = {
                name: value
                for name, value in bound.arguments.items()
                if name not in _SKIPPED_PARAMETERS
            }
            active = session or current_session()
            if active is None:
                return _no_session(action), arguments
            target = resource(arguments) if resource is not None else None
            return active.check(action, args=arguments, resource=target), arguments

        def refuse(decision: Decision, arguments: dict[str, Any]) -> Any:
            if on_deny is not None:
                return on_deny(action, decision, arguments)
            raise blocked_error(action, decision)

        if inspect.iscoroutinefunction(function):

            @functools.wraps(function)
            async def run_async(*args: Any, **kwargs: Any) -> Any:
                decision, arguments = decide(args, kwargs)
                if not decision.allowed:
                    return refuse(decision, arguments)
                return await function(*args, **kwargs)

            wrapper: Callable[..., Any] = run_async
        else:

            @functools.wraps(function)
            def run_sync(*args: Any, **kwargs: Any) -> Any:
                decision, arguments = decide(args, kwargs)
                if not decision.allowed:
                    return refuse(decision, arguments)
                return function(*args, **kwargs)

            wrapper = run_sync
        wrapper.__proctor_action__ = action  # type: ignore[attr-defined]
        return cast(Callable[P, R], wrapper)

    return decorate


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
