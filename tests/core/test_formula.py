"""The measure formula language: what compiles, and errors that say what and where."""

from __future__ import annotations

import polars as pl
import pytest

from territorial.core.fields import Field, FieldCatalog, FieldType
from territorial.core.formula import compile_formula, formula_columns
from territorial.errors import FormulaError

CATALOG = FieldCatalog.standard("account", [Field("Seats__c", FieldType.NUMBER, custom=True)])
ACCOUNTS = pl.DataFrame(
    {"annual_revenue": [100.0, None], "number_of_employees": [2000, 500], "Seats__c": [3.0, 1.0]}
)


@pytest.mark.parametrize(
    ("formula", "values"),
    [
        ("annual_revenue", [100.0, 0.0]),
        ("sqrt(AnnualRevenue)", [10.0, 0.0]),
        ("1 + min(number_of_employees, 1000) / 1000", [2.0, 1.5]),
        ("max(annual_revenue, seats__c * 10) - -1", [101.0, 11.0]),
        ("  NumberOfEmployees ** 0.5 / 10", [2000**0.5 / 10, 500**0.5 / 10]),
    ],
)
def test_formulas_read_fields_in_any_spelling(formula: str, values: list[float]) -> None:
    columns = formula_columns(formula, CATALOG)
    result = ACCOUNTS.select(compile_formula(formula, fields=columns)).to_series()
    assert result.to_list() == pytest.approx(values)


@pytest.mark.parametrize(
    ("formula", "message", "position"),
    [
        ("1 +* 2", "Formula '1 +* 2', at character 4 ('*'): invalid syntax.", 4),
        ("  1 +* 2", "at character 6 ('*'): invalid syntax.", 6),
        ("1 +", "Formula '1 +', at the end: invalid syntax.", 4),
        ("min(seats__c annual_revenue)", "at character 5 ('s'): invalid syntax. Perhaps", 5),
        ("sqrt(annual_revenue", "at character 5 ('('): '(' was never closed.", 5),
        ("", "Formula '': it is empty.", None),
        ("2 * industry", "at character 5 ('i'): field 'industry' is a picklist, not a number.", 5),
        ("revenu + seats", "at character 1 ('r'): unknown fields 'revenu', 'seats'.", 1),
        ("1 + annual_revenu", "unknown field 'annual_revenu'. Did you mean annual_revenue?", 5),
        ("Account.AnnualRevenue", "character 1 ('A'): 'Account.AnnualRevenue' is not allowed", 1),
        ("1 + (annual_revenue > 5)", "character 6 ('a'): 'annual_revenue > 5' is not allowed", 6),
        ("True + 1", "at character 1 ('T'): 'True' is not allowed", 1),
        ("'é' + 1", "at character 1 (\"'\"): \"'é'\" is not allowed", 1),
        ("é + foo(1)", "at character 5 ('f'): unknown function 'foo'", 5),  # é: 2 bytes
        ("sqrt(1, 2)", "at character 1 ('s'): wrong number of arguments to sqrt()", 1),
    ],
)  # fmt: skip
def test_errors_say_what_is_wrong_and_where(
    formula: str, message: str, position: int | None
) -> None:
    with pytest.raises(FormulaError) as caught:
        formula_columns(formula, CATALOG)
    assert message in str(caught.value)
    assert caught.value.position == position
    assert caught.value.to_dict()["formula"] == formula


def test_compiling_checks_names_only_when_told_which() -> None:
    assert isinstance(compile_formula("anything * 2"), pl.Expr)
    with pytest.raises(FormulaError, match="unknown field 'anything'"):
        compile_formula("anything * 2", fields={"annual_revenue"})
