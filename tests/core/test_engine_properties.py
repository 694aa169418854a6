"""Property tests: the engine agrees exactly with the reference evaluator."""

from __future__ import annotations

from typing import Any

import polars as pl
from hypothesis import given, settings
from rules_helpers import CATALOG, frame
from rules_strategies import accounts, exclusions, models

from territorial.core.engine.matcher import match
from territorial.core.model import Rule
from territorial.core.rules.compile import ModelInput, compile_model, validate_rules
from territorial.core.rules.reference import evaluate


@settings(max_examples=200, deadline=None)
@given(model=models(), rows=accounts(), excluded=exclusions())
def test_match_equals_reference(
    model: ModelInput, rows: list[dict[str, Any]], excluded: pl.DataFrame
) -> None:
    compiled = compile_model(model, CATALOG)
    expected = evaluate(rows, compiled, exclusions=excluded)
    got = match(frame(rows), compiled, exclusions=excluded)
    assert got.equals(expected), (got, expected)


@settings(max_examples=100, deadline=None)
@given(model=models())
def test_generated_rules_are_valid(model: ModelInput) -> None:
    report = validate_rules(model.rules, CATALOG)
    assert report.ok, report.errors
    assert all(isinstance(r, Rule) for r in model.rules)


@settings(max_examples=200, deadline=None)
@given(model=models(), rows=accounts())
def test_online_index_equals_reference(model: ModelInput, rows: list[dict[str, Any]]) -> None:
    from territorial.core.engine.index import OnlineIndex
    from territorial.core.rules.reference import assign_account

    compiled = compile_model(model, CATALOG)
    index = OnlineIndex.build(compiled)
    for row in rows:
        assert index.assign(row) == assign_account(row, compiled)
