"""`tainted(args.x)`: whether an argument carries a value that came from untrusted output;
`injected(args.x)`: whether it carries one that an injected instruction named.

The request's ``taint`` maps argument paths (``recipient``, ``items[0].iban``)
to the source of their value. ``tainted`` needs the path of its argument, not
its value, so it is compiled here rather than called: its argument must be a
literal path under ``args`` (``args.recipient``, ``args.items[0]``,
``args["to-addr"]``, or ``args`` itself for "any argument"). It is true when
that path or anything under it is tainted (for ``injected``: tainted with an
``injected`` entry, a value near an injection finding of the run's outputs).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from proctor.policy.context import EvalContext
from proctor.policy.expr.compiled import Evaluator
from proctor.policy.expr.errors import ExpressionSource
from proctor.policy.expr.nodes import Call, Key, Path
from proctor.policy.expr.operand import Operand
from proctor.policy.expr.values import BOOLEAN

NAME = "tainted"
INJECTED = "injected"
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def compile_tainted(node: Call, source: ExpressionSource) -> Operand:
    """The operand of ``tainted(<path>)`` or ``injected(<path>)``; a located ``expr_type``
    error for anything else."""
    name = node.name
    argument = node.arguments[0]
    written = source.text[argument.start : argument.end]
    if not isinstance(argument, Path) or argument.root != "args":
        raise source.error(
            "expr_type",
            f"`{name}` needs an argument path such as `args.recipient`, got `{written}`",
            argument.start,
            hint=f"taint is tracked for tool arguments only; write `{name}(args.<name>)`",
        )
    prefix = ""
    for step in argument.steps:
        if not isinstance(step, Key):
            raise source.error(
                "expr_type",
                f"`{name}` needs a fixed path; `{written}` has a computed index",
                step.start,
                hint=f"write the index as a literal: `{name}(args.items[0])`",
            )
        if isinstance(step.key, int) and step.key < 0:
            raise source.error(
                "expr_type",
                f"`{name}` needs a fixed path; `{written}` counts from the end",
                step.start,
                hint="taint is recorded by position from the start: `args.items[0]`",
            )
        prefix = argument_path(prefix, step.key)
    return Operand(tainted_reader(prefix, injected=name == INJECTED), BOOLEAN, node)


def argument_path(parent: str, key: str | int) -> str:
    """The taint key of ``parent`` then ``key``, spelt as conditions spell paths."""
    if isinstance(key, int):
        return f"{parent}[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f"{parent}.{key}" if parent else key
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'{parent}["{escaped}"]'


def tainted_reader(prefix: str, *, injected: bool = False) -> Evaluator:
    """True when ``taint`` has ``prefix`` or a path under it (every path when empty); with
    ``injected``, only a path whose entry says an injection named its value."""
    under = (prefix + ".", prefix + "[")
    if injected:

        def path_injected(ctx: EvalContext) -> bool:
            for key, entry in _taint(ctx).items():
                inside = not prefix or key == prefix or key.startswith(under)
                if inside and isinstance(entry, Mapping) and entry.get(INJECTED):
                    return True
            return False

        return path_injected
    if not prefix:

        def any_tainted(ctx: EvalContext) -> bool:
            return bool(_taint(ctx))

        return any_tainted

    def path_tainted(ctx: EvalContext) -> bool:
        taint = _taint(ctx)
        if not taint:
            return False
        if prefix in taint:
            return True
        return any(key.startswith(under) for key in taint)

    return path_tainted


def _taint(ctx: EvalContext) -> Mapping[str, object]:
    taint: Mapping[str, object] = ctx.root("taint")
    return taint
