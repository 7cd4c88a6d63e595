"""The `calculator` tool: arithmetic on numbers, parsed with `ast` and never `eval`-ed.

Offers:
- CalculatorTool: `{"expression": str}` -> `{"expression", "result"}`.
- evaluate: the evaluator itself.

Only numbers (int, float), `+ - * / // % **`, unary `+ -` and parentheses are accepted. The
input is at most MAX_EXPRESSION_CHARS characters, exponents are at most MAX_EXPONENT in size and
every intermediate integer at most MAX_RESULT_BITS bits (about 3,900 digits), so any accepted
expression is computed in well under a millisecond.
"""

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from src.lib.llm.tools.registry import Tool, ToolContext, ToolError, argument

MAX_EXPRESSION_CHARS = 200
MAX_EXPONENT = 1000
MAX_RESULT_BITS = 13_000

type Number = int | float

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {
    ast.UAdd: operator.pos,
    ast.USub: operator.neg,
}


def _check_power(base: Number, exponent: Number) -> None:
    if abs(exponent) > MAX_EXPONENT:
        raise ToolError(f"Exponents larger than {MAX_EXPONENT} are not allowed")
    integers = isinstance(base, int) and isinstance(exponent, int)
    if integers and exponent > 0 and int(base).bit_length() * exponent > MAX_RESULT_BITS:
        raise ToolError("The result would be too large")


def _checked(value: Any) -> Number:
    if isinstance(value, int) and value.bit_length() > MAX_RESULT_BITS:
        raise ToolError("The result is too large")
    if isinstance(value, float) and not math.isfinite(value):
        raise ToolError("The result is not a finite number")
    if not isinstance(value, int | float):
        raise ToolError("The result is not a real number")
    return value


def _evaluate(node: ast.AST) -> Number:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float):
            raise ToolError("Only numbers are allowed")
        return _checked(node.value)
    if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
        return _checked(_UNARY[type(node.op)](_evaluate(node.operand)))
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _evaluate(node.left), _evaluate(node.right)
        if isinstance(node.op, ast.Pow):
            _check_power(left, right)
        try:
            return _checked(_BINARY[type(node.op)](left, right))
        except ZeroDivisionError as error:
            raise ToolError("Division by zero") from error
        except OverflowError as error:
            raise ToolError("The result is too large") from error
    raise ToolError("Only numbers, + - * / // % ** and parentheses are allowed")


def evaluate(expression: str) -> Number:
    """Compute an arithmetic expression.

    Args:
        expression: For example `(2 + 3) * 4 ** 2 / 7`.

    Returns:
        The result (an int when every step stays in integers).

    Raises:
        ToolError: The expression is too long, not arithmetic on numbers, divides by zero, or
            its result (or a step of it) is too large or not a finite real number.
    """
    if len(expression) > MAX_EXPRESSION_CHARS:
        raise ToolError(f"Expressions are limited to {MAX_EXPRESSION_CHARS} characters")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
        raise ToolError("Not a valid arithmetic expression") from error
    return _evaluate(tree.body)


PARAMETERS: dict[str, Any] = {
    "type": "object",
    "properties": {
        "expression": {
            "type": "string",
            "description": "The expression, for example (2 + 3) * 4.",
            "maxLength": MAX_EXPRESSION_CHARS,
        }
    },
    "required": ["expression"],
    "additionalProperties": False,
}


class CalculatorTool(Tool):
    """Evaluates arithmetic safely."""

    name = "calculator"
    description = (
        "Evaluate an arithmetic expression on numbers: + - * / // % ** and parentheses, "
        f"at most {MAX_EXPRESSION_CHARS} characters."
    )
    parameters = PARAMETERS

    async def run(self, arguments: dict[str, Any], context: ToolContext) -> Any:
        """Compute `arguments["expression"]`."""
        expression = argument(arguments, "expression", str)
        return {"expression": expression, "result": evaluate(expression)}
