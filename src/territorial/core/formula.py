"""A small, safe formula language for account measures such as workload:
``1 + number_of_employees / 1000``. The carve's potential and workload and the reports'
``--measure`` are written in it.

Grammar: numbers, field names, ``+ - * /`` and ``**``, parentheses, unary minus, and the
functions ``min(a, b, ...)``, ``max(a, b, ...)``, ``sqrt``, ``log`` (natural), ``log1p``,
``abs``. A missing (null) field value counts as 0. Anything else — attribute access,
subscripts, comparisons, other names of functions, strings — is refused with a
``FormulaError`` naming it and the character where it starts. A formula compiles to a
Polars expression, so it is evaluated on whole columns at once.

Field names are checked against the field catalog with :func:`formula_columns`: every
spelling the catalog accepts (``AnnualRevenue``, ``annual_revenue``, ``Tier__c``) names a
field, which must be a number field.
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Callable, Collection, Mapping

import polars as pl

from territorial.core.fields import FieldCatalog, FieldType
from territorial.errors import FormulaError

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
_EXAMPLE = "Write e.g. '1 + number_of_employees / 1000' or 'sqrt(annual_revenue)'."
_ALLOWED = "Use numbers, fields, + - * / **, parentheses and min, max, sqrt, log, log1p, abs."
_FIELDS_HINT = "Use account number fields ('territorial field list')."


def formula_fields(text: str) -> set[str]:
    """The field names a formula reads, as written.

    >>> sorted(formula_fields("1 + number_of_employees / 1000 + max(annual_revenue, 0)"))
    ['annual_revenue', 'number_of_employees']
    """
    return set(_names(text, _parse(text)))


def formula_columns(text: str, catalog: FieldCatalog) -> dict[str, str]:
    """Each field name a formula reads, as written, mapped to its catalog name.

    Parameters
    ----------
    text
        The formula.
    catalog
        The field catalog the names are resolved in (any spelling it accepts).

    Raises
    ------
    FormulaError
        When the formula does not parse, holds something not allowed, names a field the
        catalog does not have (all of them, with the closest number field when one is
        near), or a field that is not a number.

    Examples
    --------
    >>> catalog = FieldCatalog.standard("account")
    >>> formula_columns("sqrt(AnnualRevenue) + number_of_employees / 1000", catalog)
    {'AnnualRevenue': 'annual_revenue', 'number_of_employees': 'number_of_employees'}
    >>> try:
    ...     formula_columns("1 + number_of_employes / 1000", catalog)
    ... except FormulaError as err:
    ...     print(err.position, err.message.split(": ")[1], err.hint.split("?")[0])
    5 unknown field 'number_of_employes'. Did you mean number_of_employees
    >>> formula_columns("industry", catalog)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    territorial.errors.FormulaError: Formula 'industry', at character 1 ('i'): field 'industry' ...
    """
    tree = _parse(text)
    _Compiler(text, None).expr(tree.body)  # what is not allowed, before the fields
    numbers = [f.name for f in catalog if f.type is FieldType.NUMBER]
    columns: dict[str, str] = {}
    unknown: list[tuple[str, int]] = []
    for name, position in _names(text, tree).items():
        found = catalog.resolve(name)
        if found is None:
            unknown.append((name, position))
        elif found.type is not FieldType.NUMBER:
            article = "an" if found.type.value[0] in "aeiou" else "a"
            raise FormulaError(
                text,
                f"field {name!r} is {article} {found.type.value}, not a number",
                position=position,
                hint=_FIELDS_HINT,
            )
        else:
            columns[name] = found.name
    if unknown:
        listed = ", ".join(repr(n) for n, _ in unknown)
        close = difflib.get_close_matches(unknown[0][0], numbers, n=1)
        guess = f"Did you mean {close[0]}? " if close and len(unknown) == 1 else ""
        raise FormulaError(
            text,
            f"unknown field{'s' if len(unknown) > 1 else ''} {listed}",
            position=unknown[0][1],
            hint=guess + _FIELDS_HINT,
        )
    return columns


def compile_formula(
    text: str, *, fields: Mapping[str, str] | Collection[str] | None = None
) -> pl.Expr:
    """A Polars expression computing ``text`` over a frame's columns (nulls count as 0).

    Parameters
    ----------
    text
        The formula, e.g. ``"1 + number_of_employees / 1000"``.
    fields
        The field names allowed (any when None); a mapping reads each name from the column
        it maps to (as :func:`formula_columns` returns).

    Examples
    --------
    >>> frame = pl.DataFrame({"number_of_employees": [2000.0, None]})
    >>> frame.select(compile_formula("1 + number_of_employees / 1000"))["literal"].to_list()
    [3.0, 1.0]
    >>> frame.select(compile_formula("NumberOfEmployees",
    ...     fields={"NumberOfEmployees": "number_of_employees"})).to_series().to_list()
    [2000.0, 0.0]
    >>> compile_formula("__import__('os')")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    territorial.errors.FormulaError: Formula "__import__('os')", at character 1 ('_'): unknown ...
    """
    tree = _parse(text)
    return _Compiler(text, fields).expr(tree.body).cast(pl.Float64)


def _parse(text: str) -> ast.Expression:
    stripped = text.strip()
    if not stripped:
        raise FormulaError(text, "it is empty", hint=_EXAMPLE)
    try:
        return ast.parse(stripped, mode="eval")
    except SyntaxError as err:
        message, _, more = err.msg.partition(". ")
        position = _position(text, err.lineno or 1, err.offset - 1) if err.offset else len(text) + 1
        hint = f"{more} {_EXAMPLE}" if more else _EXAMPLE
        raise FormulaError(text, message, position=position, hint=hint) from err


def _position(text: str, line: int, column: int) -> int:
    """The 1-based character of ``text`` (a formula as written) at a 1-based line and
    0-based character column of its stripped form."""
    lead = len(text) - len(text.lstrip())
    lines = text.strip().split("\n")
    return lead + sum(len(s) + 1 for s in lines[: line - 1]) + column + 1


def _at(text: str, node: ast.expr) -> int:
    """The 1-based character of ``text`` where ``node`` starts (ast counts UTF-8 bytes)."""
    line = text.strip().split("\n")[node.lineno - 1]
    column = len(line.encode()[: node.col_offset].decode(errors="ignore"))
    return _position(text, node.lineno, column)


def _names(text: str, tree: ast.Expression) -> dict[str, int]:
    """Field names in order of appearance, each with the character it first appears at."""
    calls = {id(n.func) for n in ast.walk(tree) if isinstance(n, ast.Call)}
    found = sorted(
        (_at(text, n), n.id)
        for n in ast.walk(tree)
        if isinstance(n, ast.Name) and id(n) not in calls
    )
    names: dict[str, int] = {}
    for position, name in found:
        names.setdefault(name, position)
    return names


class _Compiler:
    """Turns a parsed formula into a Polars expression, refusing what is not allowed."""

    def __init__(self, text: str, fields: Mapping[str, str] | Collection[str] | None) -> None:
        self.text = text
        self.fields = fields

    def fail(self, node: ast.expr, what: str, hint: str) -> FormulaError:
        return FormulaError(self.text, what, position=_at(self.text, node), hint=hint)

    def expr(self, node: ast.expr) -> pl.Expr:
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, int | float)
            and not isinstance(node.value, bool)
        ):
            return pl.lit(float(node.value))
        if isinstance(node, ast.Name):
            return self.column(node)
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](self.expr(node.left), self.expr(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            inner = self.expr(node.operand)
            return -inner if isinstance(node.op, ast.USub) else inner
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and not node.keywords:
            self.check_call(node, node.func.id)
            return _call(node.func.id, [self.expr(a) for a in node.args])
        raise self.fail(node, f"{ast.unparse(node)!r} is not allowed", _ALLOWED)

    def column(self, node: ast.Name) -> pl.Expr:
        name = node.id
        if self.fields is not None and name not in self.fields:
            raise self.fail(node, f"unknown field {name!r}", _FIELDS_HINT)
        column = self.fields[name] if isinstance(self.fields, Mapping) else name
        return pl.col(column).cast(pl.Float64).fill_null(0.0)

    def check_call(self, node: ast.Call, name: str) -> None:
        if name not in _UNARY and name not in ("min", "max"):
            raise self.fail(
                node, f"unknown function {name!r}", "Use min, max, sqrt, log, log1p or abs."
            )
        count = len(node.args)
        if (name in _UNARY and count != 1) or count == 0:
            raise self.fail(
                node, f"wrong number of arguments to {name}()", "Write sqrt(x) or min(a, b)."
            )


def _call(name: str, args: list[pl.Expr]) -> pl.Expr:
    if name in ("min", "max"):
        return pl.min_horizontal(args) if name == "min" else pl.max_horizontal(args)
    return _UNARY[name](args[0])


__all__ = ["compile_formula", "formula_columns", "formula_fields"]
