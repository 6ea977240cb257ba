"""A Pratt parser: tokens to a syntax tree, within the size and nesting limits.

Precedence, loosest first: `or`; `and`; prefix `not`; comparisons (not
chainable); `+ -`; `* / %`; prefix `-`; paths and calls.
"""

from __future__ import annotations

from typing import NoReturn

from proctor.policy.expr.errors import ExpressionSource
from proctor.policy.expr.lexer import Token, TokenKind, tokenize
from proctor.policy.expr.nodes import (
    Binary,
    Call,
    DynamicKey,
    Key,
    ListLiteral,
    Literal,
    Logical,
    Node,
    Path,
    Unary,
)

MAX_SOURCE_LENGTH = 4096
MAX_NODES = 256
MAX_DEPTH = 32

_OR, _AND, _NOT, _COMPARE, _SUM, _PRODUCT, _NEGATE = 10, 20, 30, 40, 50, 60, 70
# operator text -> (normalised operator, binding power); `||` and `&&` are `or` and `and`
_PUNCT_OPERATORS = {
    "||": ("or", _OR),
    "&&": ("and", _AND),
    **{op: (op, _COMPARE) for op in ("==", "!=", "<", "<=", ">", ">=")},
    **{op: (op, _SUM) for op in ("+", "-")},
    **{op: (op, _PRODUCT) for op in ("*", "/", "%")},
}
_WORD_OPERATORS = {
    "or": ("or", _OR),
    "and": ("and", _AND),
    **{word: (word, _COMPARE) for word in ("in", "contains", "matches", "startswith", "endswith")},
}
_LITERAL_WORDS = {"true": True, "false": False, "null": None}
# Words that can never start an operand (the infix words double as functions).
_NOT_OPERANDS = frozenset({"and", "or", "in"})
_PUNCT_HINTS = {
    "=": "use `==` to compare",
    "&": "use `&&` or `and`",
    "|": "use `||` or `or`",
}


def parse(source: ExpressionSource) -> tuple[Node, int]:
    """The syntax tree of ``source`` and its node count."""
    if len(source.text) > MAX_SOURCE_LENGTH:
        raise source.error(
            "expr_too_large",
            f"expression is {len(source.text)} characters long, more than {MAX_SOURCE_LENGTH}",
            0,
        )
    parser = _Parser(source, tokenize(source))
    if parser.peek.kind is TokenKind.END:
        raise source.error("expr_syntax", "empty expression", 0)
    node = parser.expression(0)
    trailing = parser.peek
    if trailing.kind is not TokenKind.END:
        parser.unexpected(trailing, "expected an operator or the end of the expression")
    return node, parser.node_count


class _Parser:
    def __init__(self, source: ExpressionSource, tokens: list[Token]) -> None:
        self.source = source
        self.tokens = tokens
        self.position = 0
        self.nesting = 0
        self.node_count = 0

    @property
    def peek(self) -> Token:
        return self.tokens[self.position]

    def advance(self) -> Token:
        token = self.tokens[self.position]
        if token.kind is not TokenKind.END:
            self.position += 1
        return token

    def at_punct(self, text: str) -> bool:
        token = self.peek
        return token.kind is TokenKind.PUNCT and token.text == text

    def expect_punct(self, text: str, opened: Token | None = None) -> Token:
        if not self.at_punct(text):
            hint = None
            if opened is not None:
                column = self.source.location(opened.start).column
                hint = f"to close `{opened.text}` at column {column}"
            self.unexpected(self.peek, f"expected `{text}`", hint)
        return self.advance()

    def unexpected(self, token: Token, expected: str, hint: str | None = None) -> NoReturn:
        if token.kind is TokenKind.END:
            message = f"unexpected end of expression, {expected}"
        else:
            message = f"unexpected {token.describe()}, {expected}"
            if hint is None and token.kind is TokenKind.PUNCT:
                hint = _PUNCT_HINTS.get(token.text)
        raise self.source.error("expr_syntax", message, token.start, hint=hint)

    def count(self, node: Node, nodes: int = 1) -> Node:
        """Account for a new node against the size and depth limits."""
        self.node_count += nodes
        if self.node_count > MAX_NODES:
            raise self.source.error(
                "expr_too_large", f"expression has more than {MAX_NODES} nodes", node.start
            )
        if node.depth > MAX_DEPTH:
            raise self.source.error(
                "expr_too_large", f"expression is nested more than {MAX_DEPTH} deep", node.start
            )
        return node

    def expression(self, min_power: int) -> Node:
        self.nesting += 1
        if self.nesting > MAX_DEPTH:
            raise self.source.error(
                "expr_too_large",
                f"expression is nested more than {MAX_DEPTH} deep",
                self.peek.start,
            )
        left = self.prefix()
        compared = False
        while True:
            operator = self.infix_operator()
            if operator is None:
                break
            name, power, width = operator
            if power <= min_power:
                break
            token = self.peek
            if power == _COMPARE and compared:
                raise self.source.error(
                    "expr_syntax",
                    f"comparisons cannot be chained: unexpected {token.describe()}",
                    token.start,
                    hint="join them with `and`",
                )
            self.position += width
            if name in ("and", "or"):
                left = self.logical(name, power, left)
            else:
                right = self.expression(power)
                depth = max(left.depth, right.depth) + 1
                node = Binary(name, left, right, token.start, left.start, right.end, depth)
                left = self.count(node)
            compared = power == _COMPARE
        self.nesting -= 1
        return left

    def logical(self, name: str, power: int, first: Node) -> Node:
        operands = [first, self.expression(power)]
        while (operator := self.infix_operator()) is not None and operator[0] == name:
            self.position += operator[2]
            operands.append(self.expression(power))
        depth = max(operand.depth for operand in operands) + 1
        node = Logical(name, tuple(operands), first.start, operands[-1].end, depth)
        return self.count(node, len(operands) - 1)

    def infix_operator(self) -> tuple[str, int, int] | None:
        """The operator at the current token: (name, binding power, tokens it spans)."""
        token = self.peek
        if token.kind is TokenKind.PUNCT:
            found = _PUNCT_OPERATORS.get(token.text)
            return (found[0], found[1], 1) if found else None
        if token.kind is TokenKind.NAME:
            word = token.word
            if word == "not" and self.tokens[self.position + 1].word == "in":
                return ("not in", _COMPARE, 2)
            found = _WORD_OPERATORS.get(word)
            return (found[0], found[1], 1) if found else None
        return None

    def prefix(self) -> Node:
        token = self.advance()
        if token.kind in (TokenKind.NUMBER, TokenKind.STRING):
            return self.count(Literal(token.value, token.start, token.end))
        if token.kind is TokenKind.NAME:
            return self.name(token)
        if token.kind is TokenKind.PUNCT:
            if token.text == "(":
                inner = self.expression(0)
                self.expect_punct(")", token)
                return inner
            if token.text == "[":
                return self.list_literal(token)
            if token.text == "-":
                return self.negate(token)
            if token.text == "!":
                return self.unary("not", token, self.expression(_NOT))
        self.unexpected(token, "expected a value")

    def negate(self, token: Token) -> Node:
        operand = self.expression(_NEGATE)
        value = operand.value if isinstance(operand, Literal) else None
        if isinstance(value, int | float) and not isinstance(value, bool):
            # A negative number literal stays one literal node.
            return Literal(-value, token.start, operand.end)
        return self.unary("-", token, operand)

    def unary(self, operator: str, token: Token, operand: Node) -> Node:
        node = Unary(operator, operand, token.start, operand.end, operand.depth + 1)
        return self.count(node)

    def name(self, token: Token) -> Node:
        word = token.word
        if word in _LITERAL_WORDS:
            return self.count(Literal(_LITERAL_WORDS[word], token.start, token.end))
        if word == "not":
            return self.unary("not", token, self.expression(_NOT))
        if self.at_punct("("):
            return self.call(token)
        if word in _NOT_OPERANDS:
            self.unexpected(token, "expected a value")
        return self.path(token)

    def call(self, name: Token) -> Node:
        opened = self.advance()
        arguments = self.comma_separated(")", opened)
        end = self.tokens[self.position - 1].end
        depth = max((argument.depth for argument in arguments), default=0) + 1
        return self.count(Call(name.word, tuple(arguments), name.start, end, depth))

    def list_literal(self, opened: Token) -> Node:
        items = self.comma_separated("]", opened)
        end = self.tokens[self.position - 1].end
        depth = max((item.depth for item in items), default=0) + 1
        return self.count(ListLiteral(tuple(items), opened.start, end, depth))

    def comma_separated(self, closing: str, opened: Token) -> list[Node]:
        """Items up to ``closing`` (consumed); a trailing comma is allowed."""
        items: list[Node] = []
        while not self.at_punct(closing):
            items.append(self.expression(0))
            if not self.at_punct(","):
                break
            self.advance()
        self.expect_punct(closing, opened)
        return items

    def path(self, root: Token) -> Node:
        steps: list[Key | DynamicKey] = []
        depth = 1
        nodes = 1  # the root and each `.name`; a `[...]` index counted its own nodes
        while True:
            if self.at_punct("."):
                self.advance()
                field = self.advance()
                if field.kind is not TokenKind.NAME:
                    self.unexpected(field, "expected a field name after `.`")
                steps.append(Key(field.text, field.start, field.end))
                nodes += 1
            elif self.at_punct("["):
                opened = self.advance()
                index = self.expression(0)
                closed = self.expect_punct("]", opened)
                key = index.value if isinstance(index, Literal) else None
                if isinstance(key, str) or (isinstance(key, int) and not isinstance(key, bool)):
                    steps.append(Key(key, opened.start, closed.end))
                else:
                    steps.append(DynamicKey(index, opened.start, closed.end))
                    depth = max(depth, index.depth + 1)
            else:
                break
        end = steps[-1].end if steps else root.end
        return self.count(Path(root.text, tuple(steps), root.start, end, depth), nodes)
