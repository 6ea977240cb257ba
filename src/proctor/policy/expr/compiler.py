"""Compiling an expression: parse, resolve names, check kinds, fold constants, build closures.

The stages, in order: ``parse`` (syntax and size limits), then one pass over
the tree (``_Compiler``) that resolves roots, fields and functions, rejects
kinds that can never work, folds constant sub-expressions and returns a tree of
closures. Nothing is looked up by name at evaluation time.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from proctor.errors import Location
from proctor.policy.context import ROOTS, EvalContext
from proctor.policy.expr.binary import compile_binary
from proctor.policy.expr.compiled import CompiledExpression, Evaluator, Test
from proctor.policy.expr.errors import ExpressionSource, did_you_mean, type_error
from proctor.policy.expr.functions import (
    CONTEXT_FUNCTIONS,
    FUNCTIONS,
    OPERATOR_FUNCTIONS,
    PATH_FUNCTIONS,
    FunctionSpec,
)
from proctor.policy.expr.nodes import (
    Binary,
    Call,
    Key,
    ListLiteral,
    Literal,
    Logical,
    Node,
    Path,
    Unary,
)
from proctor.policy.expr.operand import Operand, a_kind, constant, fold
from proctor.policy.expr.operators import MIRRORED, ORDERINGS, logical_not, negate
from proctor.policy.expr.parser import parse
from proctor.policy.expr.paths import PathStep, path_reader
from proctor.policy.expr.roots import ROOT_SCHEMAS
from proctor.policy.expr.taint import compile_tainted
from proctor.policy.expr.timevalues import epoch_seconds
from proctor.policy.expr.values import ANY, BOOLEAN, LIST, MAP, NUMBER, describe

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def compile_expression(source: str, *, location: Location | None = None) -> CompiledExpression:
    """Compile ``source`` once; raises ``ExpressionError`` at the first problem found.

    ``location`` is where the expression starts in its file; error locations
    are computed from it.
    """
    text = ExpressionSource(source, location)
    tree, node_count = parse(text)
    compiler = _Compiler(text)
    operand = compiler.compile(tree)
    return CompiledExpression(
        source=source,
        node_count=node_count,
        paths=frozenset(compiler.paths),
        evaluate=operand.evaluate,
        test=_tester(operand),
    )


def _tester(operand: Operand) -> Test:
    if operand.kind == BOOLEAN:
        return operand.evaluate  # a boolean kind is a guarantee, not a guess
    evaluate = operand.evaluate

    def test(ctx: EvalContext) -> bool:
        result = evaluate(ctx)
        if result is True or result is False:
            return result
        raise type_error(f"a condition must be true or false, not {describe(result)}")

    return test


class _Compiler:
    def __init__(self, source: ExpressionSource) -> None:
        self.source = source
        self.paths: set[str] = set()

    def compile(self, node: Node) -> Operand:
        if isinstance(node, Literal):
            return constant(node.value, node)
        if isinstance(node, Path):
            return self.path(node)
        if isinstance(node, Binary):
            left, right = self.compile(node.left), self.compile(node.right)
            return compile_binary(
                node.operator, left, right, node, node.operator_start, self.source
            )
        if isinstance(node, Logical):
            return self.logical(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Call):
            return self.call(node)
        return self.list_literal(node)

    def fail(self, code: str, message: str, offset: int, hint: str | None = None) -> Exception:
        return self.source.error(code, message, offset, hint=hint)

    def unknown(self, what: str, name: str, known: Iterable[str], offset: int) -> Exception:
        """``expr_unknown_<what>``: no ``what`` is called ``name``; the hint names the nearest."""
        return self.fail(
            f"expr_unknown_{what}", f"unknown {what} `{name}`", offset, did_you_mean(name, known)
        )

    def path(self, node: Path) -> Operand:
        schema = ROOT_SCHEMAS.get(node.root)
        if schema is None:
            raise self.unknown("root", node.root, ROOTS, node.start)
        kind, fields, text = schema.kind, schema.fields, node.root
        steps: list[PathStep] = []
        static_text: str | None = None  # the path before its first computed index
        for step in node.steps:
            if kind not in (MAP, LIST, ANY):
                raise self.fail(
                    "expr_unknown_field",
                    f"`{text}` is {a_kind(kind)} and has no fields",
                    step.start,
                )
            key: str | int | Evaluator
            if isinstance(step, Key):
                key = step.key
                if fields is not None and key not in fields:
                    raise self._unknown_field(text, key, fields, step.start)
                kind = fields[key] if fields is not None and isinstance(key, str) else ANY
                step_text = text + _step_text(key)
            else:
                key = self.compile(step.expression).evaluate
                kind = ANY
                inner = self.source.text[step.expression.start : step.expression.end]
                static_text = text if static_text is None else static_text
                step_text = f"{text}[{inner}]"
            steps.append(PathStep(key, text, step_text))
            text, fields = step_text, None
        self.paths.add(static_text or text)
        single = steps[0].key if node.root == "args" and len(steps) == 1 else None
        argument = single if isinstance(single, str) else None
        return Operand(path_reader(node.root, steps), kind, node, path=text, argument=argument)

    def _unknown_field(self, text: str, key: str | int, fields: Any, offset: int) -> Exception:
        if not fields:
            return self.fail("expr_unknown_field", f"`{text}` is text and has no fields", offset)
        return self.fail(
            "expr_unknown_field",
            f"unknown field `{key}` of `{text}`",
            offset,
            did_you_mean(str(key), fields),
        )

    def logical(self, node: Logical) -> Operand:
        """`and` / `or`: operands must be booleans; constant operands are folded away."""
        decisive = node.operator == "or"  # the value that stops the evaluation
        operands = [self.compile(child) for child in node.operands]
        kept: list[Operand] = []
        for operand in operands:
            if operand.kind not in (BOOLEAN, ANY):
                raise self.fail(
                    "expr_type",
                    f"`{node.operator}` needs booleans, got {operand.describe()}",
                    operand.node.start,
                )
        for operand in operands:
            if not operand.is_constant:
                kept.append(operand)
            elif operand.constant is decisive:
                if not kept:
                    return constant(decisive, node)
                kept.append(operand)
                break  # what follows is never evaluated
            # A neutral constant (`true` in an `and`) changes nothing: dropped.
        if not kept:
            return constant(not decisive, node)
        if len(kept) == 1 and kept[0].kind == BOOLEAN:
            return Operand(kept[0].evaluate, BOOLEAN, node)
        if not decisive and len(kept) == 2 and (window := self.window(kept)) is not None:
            return Operand(window, BOOLEAN, node)
        return Operand(_logical_closure(decisive, kept), BOOLEAN, node)

    def window(self, operands: list[Operand]) -> Evaluator | None:
        """`time.hour >= 9 AND time.hour <= 17`: one read of the path, two comparisons.

        Only for two orderings of the same fixed path with number literals; a value
        that is not an int or a float goes through the two compiled comparisons, so
        errors and their messages are theirs.
        """
        bounds: list[tuple[str, Callable[[Any, Any], bool], Any]] = []
        for operand in operands:
            found = _ordering_of_path(operand.node)
            if found is None:
                return None
            path, operator, bound = found
            bounds.append((self.source.text[path.start : path.end], ORDERINGS[operator], bound))
        (text, low_compare, low), (other, high_compare, high) = bounds
        if text != other:
            return None
        path_node = _ordering_of_path(operands[0].node)
        assert path_node is not None
        read = self.path(path_node[0]).evaluate
        first, second = (operand.evaluate for operand in operands)

        def within(ctx: EvalContext) -> Any:
            value = read(ctx)
            kind = type(value)
            if kind is int or kind is float:
                return low_compare(value, low) and high_compare(value, high)
            return first(ctx) and second(ctx)

        return within

    def unary(self, node: Unary) -> Operand:
        operand = self.compile(node.operand)
        read = operand.evaluate
        if node.operator == "not":
            if operand.kind not in (BOOLEAN, ANY):
                message = f"`not` needs a boolean, got {operand.describe()}"
                raise self.fail("expr_type", message, node.operand.start)
            if operand.kind == BOOLEAN:

                def invert(ctx: EvalContext) -> bool:
                    return not read(ctx)

            else:

                def invert(ctx: EvalContext) -> bool:
                    return logical_not(read(ctx))

            result = Operand(invert, BOOLEAN, node)
        else:
            if operand.kind not in (NUMBER, ANY):
                raise self.fail(
                    "expr_type", f"cannot negate {operand.describe()}", node.operand.start
                )

            def minus(ctx: EvalContext) -> Any:
                return negate(read(ctx))

            result = Operand(minus, NUMBER, node)
        return fold(result, self.source, node.start) if operand.is_constant else result

    def call(self, node: Call) -> Operand:
        spec = FUNCTIONS.get(node.name)
        if spec is None:
            raise self.unknown("function", node.name, FUNCTIONS, node.start)
        self._check_arity(spec, node)
        if node.name in PATH_FUNCTIONS:
            self.paths.add("taint")
            return compile_tainted(node, self.source)
        arguments = [self.compile(argument) for argument in node.arguments]
        if node.name in OPERATOR_FUNCTIONS:
            left, right = arguments
            return compile_binary(node.name, left, right, node, node.start, self.source)
        if node.name in CONTEXT_FUNCTIONS:
            return Operand(_now, NUMBER, node)
        for argument in arguments:
            if argument.kind != ANY and argument.kind not in spec.accepts:
                raise self.fail(
                    "expr_type",
                    f"`{spec.name}` needs {spec.expects}, got {argument.describe()}",
                    argument.node.start,
                )
        result = Operand(_call_closure(spec, arguments), spec.returns, node)
        if all(argument.is_constant for argument in arguments):
            # A bad constant argument (`duration("1x")`) is the token to point at.
            return fold(result, self.source, node.arguments[0].start)
        return result

    def _check_arity(self, spec: FunctionSpec, node: Call) -> None:
        count = len(node.arguments)
        low, high = spec.min_arguments, spec.max_arguments
        if low <= count and (high is None or count <= high):
            return
        if high is None:
            expected = f"at least {low} argument{'s' if low != 1 else ''}"
        elif low == high:
            expected = f"{low} argument{'s' if low != 1 else ''}"
        else:
            expected = f"{low} to {high} arguments"
        raise self.fail("expr_arity", f"`{spec.name}` takes {expected}, got {count}", node.start)

    def list_literal(self, node: ListLiteral) -> Operand:
        items = [self.compile(item) for item in node.items]
        if all(item.is_constant for item in items):
            return constant(tuple(item.constant for item in items), node)
        readers = tuple(item.evaluate for item in items)

        def build_list(ctx: EvalContext) -> tuple[Any, ...]:
            return tuple([read(ctx) for read in readers])

        return Operand(build_list, LIST, node)


def _step_text(key: str | int) -> str:
    if isinstance(key, int):
        return f"[{key}]"
    if _IDENTIFIER.fullmatch(key):
        return f".{key}"
    escaped = key.replace("\\", "\\\\").replace('"', '\\"')
    return f'["{escaped}"]'


def _ordering_of_path(node: Node) -> tuple[Path, str, Any] | None:
    """``(path, operator, number)`` of `path <op> number` (or `number <op> path`, mirrored)."""
    if not isinstance(node, Binary) or node.operator not in ORDERINGS:
        return None
    left, right, operator = node.left, node.right, node.operator
    if isinstance(left, Literal):
        left, right, operator = right, left, MIRRORED[operator]
    if (
        isinstance(left, Path)
        and all(isinstance(step, Key) for step in left.steps)
        and isinstance(right, Literal)
        and type(right.value) in (int, float)
    ):
        return left, operator, right.value
    return None


def _logical_closure(decisive: bool, operands: list[Operand]) -> Evaluator:
    word = "or" if decisive else "and"
    readers = tuple(operand.evaluate for operand in operands)
    if len(readers) == 2 and all(operand.kind == BOOLEAN for operand in operands):
        first, second = readers
        if decisive:

            def either(ctx: EvalContext) -> Any:
                return first(ctx) or second(ctx)

            return either

        def both(ctx: EvalContext) -> Any:
            return first(ctx) and second(ctx)

        return both

    def chain(ctx: EvalContext) -> bool:
        for read in readers:
            result = read(ctx)
            if result is decisive:
                return result is True
            if result is not (not decisive):
                raise type_error(f"`{word}` needs booleans, got {describe(result)}")
        return not decisive

    return chain


def _call_closure(spec: FunctionSpec, arguments: list[Operand]) -> Evaluator:
    run = spec.run
    if len(arguments) == 1:
        read = arguments[0].evaluate

        def call_one(ctx: EvalContext) -> Any:
            return run(read(ctx))

        return call_one
    readers = tuple(argument.evaluate for argument in arguments)

    def call_many(ctx: EvalContext) -> Any:
        return run(*[read(ctx) for read in readers])

    return call_many


def _now(ctx: EvalContext) -> float:
    """The request's time (the injected clock), never the system clock."""
    return epoch_seconds(ctx.now)
