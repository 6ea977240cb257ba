"""Readers for request paths (`args.amount`, `args.items[0]`, `args["a-b"]`).

Only maps (any Mapping) and lists (list, tuple) are stepped into, by key or
index; never attributes of objects. A key or index that is not there raises
``missing_attribute`` naming the path up to that step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from proctor.policy.context import EvalContext, time_reader
from proctor.policy.expr.compiled import Evaluator
from proctor.policy.expr.errors import missing, type_error
from proctor.policy.expr.roots import MAP_ROOTS
from proctor.policy.expr.values import describe


@dataclass(frozen=True, slots=True)
class PathStep:
    key: str | int | Evaluator  # an Evaluator for a computed index
    parent: str  # the path text before this step, for messages
    text: str  # the path text up to and including this step


def path_reader(root: str, steps: Sequence[PathStep]) -> Evaluator:
    """A closure reading ``root`` then each step; specialised for the common short paths."""
    if not steps:
        return _root_reader(root)
    first = steps[0]
    if len(steps) == 1 and root in MAP_ROOTS and isinstance(first.key, str):
        return _field_reader(root, first.key, first)
    plan = tuple(steps)

    def read_path(ctx: EvalContext) -> Any:
        try:
            value = ctx.root(root)
        except KeyError:
            raise missing(root) from None
        for step in plan:
            key = step.key
            if callable(key):
                key = _index_value(key(ctx), step)
            value = step_into(value, key, step)
        return value

    return read_path


def _root_reader(root: str) -> Evaluator:
    def read_root(ctx: EvalContext) -> Any:
        try:
            return ctx.root(root)
        except KeyError:
            raise missing(root) from None

    return read_root


def _field_reader(root: str, key: str, step: PathStep) -> Evaluator:
    if root == "args":  # the most common root, read without a root lookup

        def read_argument(ctx: EvalContext) -> Any:
            try:
                return ctx.args[key]
            except KeyError:
                raise missing(step.text) from None
            except (TypeError, IndexError):
                # Not the Mapping a map root should be: let the careful path explain.
                return step_into(ctx.args, key, step)

        return read_argument
    if root == "time" and (read_time := time_reader(key)) is not None:
        return read_time  # a fixed set of fields, from one conversion to local time

    def read_field(ctx: EvalContext) -> Any:
        try:
            container = ctx.root(root)
        except KeyError:
            raise missing(root) from None
        try:
            return container[key]
        except KeyError:
            raise missing(step.text) from None
        except (TypeError, IndexError):
            # Not the Mapping a map root should be: let the careful path explain.
            return step_into(container, key, step)

    return read_field


def step_into(container: Any, key: str | int, step: PathStep) -> Any:
    """``container[key]`` for a map or a list, with proctor's errors."""
    if type(container) is dict or isinstance(container, Mapping):
        try:
            return container[key]
        except KeyError:
            raise missing(step.text) from None
    if isinstance(container, list | tuple):
        if isinstance(key, int) and not isinstance(key, bool):
            try:
                return container[key]
            except IndexError:
                raise missing(step.text) from None
        raise type_error(
            f"`{step.parent}` is a list; index it with a whole number, not {describe(key)}"
        )
    raise type_error(f"`{step.parent}` is {describe(container)}, not a map or a list")


def _index_value(key: Any, step: PathStep) -> str | int:
    if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
        return key
    raise type_error(
        f"the index in `{step.text}` must be text or a whole number, not {describe(key)}"
    )
