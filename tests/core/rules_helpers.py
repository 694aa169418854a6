"""Shared helpers for the rule and engine tests: a catalog and one-rule evaluation."""

from __future__ import annotations

from datetime import date
from typing import Any

import polars as pl

from territorial.core.engine.matcher import match
from territorial.core.fields import Field, FieldCatalog, FieldType
from territorial.core.model import Rule, RuleItem
from territorial.core.rules.compile import CompiledModel, ModelInput, TerritoryNode, compile_model
from territorial.core.rules.reference import evaluate

CUSTOM = (
    Field("Tier__c", FieldType.PICKLIST, custom=True),
    Field("Tags__c", FieldType.MULTIPICKLIST, custom=True),
    Field("Renewal__c", FieldType.DATE, custom=True),
    Field("Strategic__c", FieldType.BOOLEAN, custom=True),
    Field("Score__c", FieldType.NUMBER, custom=True),
)
CATALOG = FieldCatalog.standard("account", CUSTOM)

DTYPES = {
    FieldType.TEXT: pl.String,
    FieldType.PICKLIST: pl.String,
    FieldType.MULTIPICKLIST: pl.String,
    FieldType.NUMBER: pl.Float64,
    FieldType.DATE: pl.Date,
    FieldType.BOOLEAN: pl.Boolean,
}


def frame(accounts: list[dict[str, Any]]) -> pl.DataFrame:
    """Accounts as the store would load them: every catalog column, typed."""
    columns: dict[str, pl.Series] = {
        "pk": pl.Series("pk", [a["pk"] for a in accounts], dtype=pl.Int64)
    }
    for f in CATALOG:
        values = [a.get(f.name) for a in accounts]
        columns[f.name] = pl.Series(f.name, values, dtype=DTYPES[f.type])
    return pl.DataFrame(columns)


def one_rule_model(
    items: list[tuple[str, str, str]], boolean_filter: str | None = None, *, active: bool = True
) -> CompiledModel:
    rule = Rule(
        "R",
        tuple(RuleItem(i + 1, f, op, v) for i, (f, op, v) in enumerate(items)),
        boolean_filter=boolean_filter,
        active=active,
        id=1,
    )
    return compile_model(ModelInput([TerritoryNode(100)], [rule], [(1, 100, False)]), CATALOG)


def matches_both(compiled: CompiledModel, account: dict[str, Any]) -> bool:
    """Evaluate one account with the reference and the engine; they must agree."""
    account = {"pk": 1, **account}
    expected = evaluate([account], compiled)
    got = match(frame([account]), compiled)
    assert got.equals(expected), (got, expected)
    return got.height == 1


def rows(result: pl.DataFrame) -> list[tuple[int, int, int]]:
    return [(int(a), int(t), int(r)) for a, t, r in result.rows()]


__all__ = ["CATALOG", "date", "frame", "matches_both", "one_rule_model", "rows"]
