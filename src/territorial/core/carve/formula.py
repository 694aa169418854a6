"""A small, safe formula language for measures such as workload: ``1 + employees / 1000``.

Grammar: numbers, field names, ``+ - * /`` and ``**``, parentheses, unary minus, and the
functions ``min(a, b, ...)``, ``max(a, b, ...)``, ``sqrt``, ``log`` (natural), ``log1p``,
``abs``. A missing (null) field value counts as 0. Anything else — attribute access,
subscripts, other names of functions, strings — is refused with a message naming it.
A formula compiles to a Polars expression, so it is evaluated on whole columns at once.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Collection

import polars as pl

from territorial.errors import ValidationError

_BINARY: dict[type[ast.operator], Callable[[pl.Expr, pl.Expr], pl.Expr]] = {
    ast.Add: lambda a, b: a + b,
    ast.Sub: lambda a, b: a - b,
    ast.Mult: lambda a, b: a * b,
    ast.Div: lambda a, b: a / b,
    ast.Pow: lambda a, b: a.pow(b),
}
_UNARY: dict[str, Callable[[pl.Expr], pl.Expr]] = {
    "sqrt": lambda a: a.sqrt(),
    "log": lambda a: a.log(),
    "log1p": lambda a: a.log1p(),
    "abs": lambda a: a.abs(),
}


def formula_fields(text: str) -> set[str]:
    """The field names a formula reads.

    >>> sorted(formula_fields("1 + number_of_employees / 1000 + max(annual_revenue, 0)"))
    ['annual_revenue', 'number_of_employees']
    """
    tree = _parse(text)
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and id(n) not in calls}


def compile_formula(text: str, *, fields: Collection[str] | None = None) -> pl.Expr:
    """A Polars expression computing ``text`` over a frame's columns (nulls count as 0).

    Parameters
    ----------
    text
        The formula, e.g. ``"1 + number_of_employees / 1000"``.
    fields
        The field names allowed; any when None.

    Examples
    --------
    >>> frame = pl.DataFrame({"number_of_employees": [2000.0, None]})
    >>> frame.select(compile_formula("1 + number_of_employees / 1000"))["literal"].to_list()
    [3.0, 1.0]
    >>> compile_formula("__import__('os')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    territorial.errors.ValidationError: Formula "__import__('os')": unknown function ...
    """
    tree = _parse(text)
    return _compile(tree.body, text, fields).cast(pl.Float64)


def _parse(text: str) -> ast.Expression:
    try:
        return ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValidationError(
            f"Formula {text!r} does not parse: {err.msg}.",
            hint="Write e.g. '1 + number_of_employees / 1000'.",
        ) from err


def _fail(text: str, what: str, hint: str) -> ValidationError:
    return ValidationError(f"Formula {text!r}: {what}.", hint=hint)


def _compile(node: ast.expr, text: str, fields: Collection[str] | None) -> pl.Expr:
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return pl.lit(float(node.value))
    if isinstance(node, ast.Name):
        if fields is not None and node.id not in fields:
            raise _fail(text, f"unknown field {node.id!r}", "Use number fields of the catalog.")
        return pl.col(node.id).cast(pl.Float64).fill_null(0.0)
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _compile(node.left, text, fields), _compile(node.right, text, fields)
        return _BINARY[type(node.op)](left, right)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        inner = _compile(node.operand, text, fields)
        return -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
        _check_call(node.func.id, len(node.args), text)
        return _call(node.func.id, [_compile(a, text, fields) for a in node.args])
    raise _fail(
        text,
        f"{ast.unparse(node)!r} is not allowed",
        "Use numbers, fields, + - * / **, parentheses and min, max, sqrt, log, log1p, abs.",
    )


def _check_call(name: str, count: int, text: str) -> None:
    if name not in _UNARY and name not in ("min", "max"):
        raise _fail(text, f"unknown function {name!r}", "Use min, max, sqrt, log, log1p or abs.")
    if (name in _UNARY and count != 1) or count == 0:
        raise _fail(text, f"wrong number of arguments to {name}()", "Write sqrt(x) or min(a, b).")


def _call(name: str, args: list[pl.Expr]) -> pl.Expr:
    if name in ("min", "max"):
        return pl.min_horizontal(args) if name == "min" else pl.max_horizontal(args)
    return _UNARY[name](args[0])


__all__ = ["compile_formula", "formula_fields"]
