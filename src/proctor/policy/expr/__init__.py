"""The condition expression language: compiled once at load, evaluated per tool call.

    compiled = compile_expression("args.amount <= 100", location=Location("p.yaml", 12, 11))
    compiled.test(EvalContext(request, timezone))  # True or False

See ``docs/conditions.md`` for the language.
"""

from proctor.policy.expr.compiled import CompiledExpression
from proctor.policy.expr.compiler import compile_expression
from proctor.policy.expr.errors import EvaluationError, ExpressionError

__all__ = ["CompiledExpression", "EvaluationError", "ExpressionError", "compile_expression"]
