"""Property tests: the engine and the online index agree exactly with the reference.

The variants exercise the engine's other paths on the same random models: territories
whose ``all`` rules are intersected rule by rule (``plan.MAX_PRODUCT``), composite keys
looked up by binary search instead of a dense array (``execute.DENSE_KEYS``), one thread
instead of several, accounts not in pk order, and plans reused from the model's cache.
"""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

import numpy as np
import polars as pl
from hypothesis import given, settings
from rules_helpers import CATALOG, frame
from rules_strategies import accounts, exclusions, models

from territorial.core.engine import columns, execute, matcher
from territorial.core.engine import plan as planning
from territorial.core.engine.index import OnlineIndex
from territorial.core.engine.matcher import match
from territorial.core.model import Rule
from territorial.core.rules.compile import ModelInput, compile_model, validate_rules
from territorial.core.rules.reference import assign_account, evaluate


@settings(max_examples=120, deadline=None)
@given(model=models(), rows=accounts(), excluded=exclusions())
def test_match_equals_reference(
    model: ModelInput, rows: list[dict[str, Any]], excluded: pl.DataFrame
) -> None:
    compiled = compile_model(model, CATALOG)
    expected = evaluate(rows, compiled, exclusions=excluded)
    got = match(frame(rows), compiled, exclusions=excluded)
    assert got.equals(expected), (got, expected)
    assert match(frame(rows), compiled, exclusions=excluded).equals(expected)  # cached plan


@settings(max_examples=120, deadline=None)
@given(model=models(), rows=accounts(), excluded=exclusions())
def test_match_other_paths_equal_reference(
    model: ModelInput, rows: list[dict[str, Any]], excluded: pl.DataFrame
) -> None:
    compiled = compile_model(model, CATALOG)
    expected = evaluate(rows, compiled, exclusions=excluded)
    with (
        patch.object(planning, "MAX_PRODUCT", 1),
        patch.object(execute, "DENSE_KEYS", 0),
        patch.object(pl, "thread_pool_size", lambda: 1),
    ):
        got = match(frame(rows[::-1]), compiled, exclusions=excluded)
        index = OnlineIndex.build(compiled)
    assert got.equals(expected), (got, expected)
    for row in rows:
        assert index.assign(row) == assign_account(row, compiled)


@settings(max_examples=50, deadline=None)
@given(model=models())
def test_generated_rules_are_valid(model: ModelInput) -> None:
    report = validate_rules(model.rules, CATALOG)
    assert report.ok, report.errors
    assert all(isinstance(r, Rule) for r in model.rules)


@settings(max_examples=120, deadline=None)
@given(model=models(), rows=accounts())
def test_online_index_equals_reference(model: ModelInput, rows: list[dict[str, Any]]) -> None:
    compiled = compile_model(model, CATALOG)
    index = OnlineIndex.build(compiled)
    for row in rows:
        assert index.assign(row) == assign_account(row, compiled)


def _layout(rng: np.random.Generator, repeats: bool = True) -> matcher.Layout:
    """10 territories (pks 10..19), each with rules 100..107 in an order of its own."""
    orders = [rng.permutation(np.arange(100, 108)) for _ in range(10)]
    empty = execute.Csr.build([], [], 0)
    starts = np.arange(0, 80, 8)
    return matcher.Layout(
        np.arange(10, 20), np.concatenate(orders), starts, 7, 4, np.zeros(0, np.int64), empty,
        repeats,
    )  # fmt: skip


def _packed(territory: np.ndarray, rank: np.ndarray | int) -> np.ndarray:
    """The packed assignment of the ``rank``-th rule of territory rank ``territory``."""
    return territory << 7 | (8 * territory + rank)


def test_wide_keys_sort_by_columns_the_same() -> None:
    rng = np.random.default_rng(3)
    layout = _layout(rng)
    order = rng.integers(0, 50, 400)
    assigned = _packed(rng.integers(0, 10, 400), rng.integers(0, 8, 400))
    pks = np.arange(1000, 1050)
    packed = matcher._sorted_result(layout, pks, order, assigned)
    by_columns = matcher._sorted_result_by_columns(layout, pks, order, assigned)
    assert packed.equals(by_columns)
    assert packed.select("account_pk", "territory_pk").is_unique().all()


def test_sorted_result_with_gaps_in_pks_and_without_repeats() -> None:
    rng = np.random.default_rng(5)
    order = rng.integers(0, 50, 400)
    assigned = _packed(rng.integers(0, 10, 400), rng.integers(0, 8, 400))
    for repeats in (True, False):
        layout = _layout(rng, repeats)
        pairs = np.unique(order << 4 | assigned >> 7)  # one rule per (account, territory)
        if not repeats:
            order, assigned = pairs >> 4, _packed(pairs & 15, 5)
        for pks in (np.arange(1000, 1050), np.arange(1000, 1050) * 3 - 7):
            packed = matcher._sorted_result(layout, pks, order.copy(), assigned.copy())
            by_columns = matcher._sorted_result_by_columns(layout, pks, order, assigned)
            assert packed.equals(by_columns)


def test_each_territory_keeps_the_first_rule_of_its_order() -> None:
    rng = np.random.default_rng(7)
    layout = _layout(rng)
    # Account rank 0 gets every rule of territory rank 2, and rules 3 and 5 of rank 4.
    order = np.zeros(10, np.int64)
    assigned = np.concatenate([_packed(np.full(8, 2), np.arange(8)[::-1]),
                               _packed(np.array([4, 4]), np.array([5, 3]))])  # fmt: skip
    result = matcher._sorted_result(layout, np.array([1000]), order, assigned)
    assert result.rows() == [(1000, 12, int(layout.rule_pks[16])),
                             (1000, 14, int(layout.rule_pks[35]))]  # fmt: skip


def test_cell_finder_equals_binary_search() -> None:
    rng = np.random.default_rng(9)
    tricky = np.array(
        [0.0, -0.0, 1.0, -1.0, 5e-324, -5e-324, 1e-300, -1e-300, np.inf, -np.inf, 1e8,
         np.nextafter(1e8, 0), np.nextafter(1e8, np.inf), 1.7976931348623157e308, -2.5]
    )  # fmt: skip
    for _ in range(200):
        parts = [rng.choice(tricky, rng.integers(0, 8)), rng.normal(0, 1e6, rng.integers(0, 5))]
        bounds = np.unique(np.concatenate(parts))
        with np.errstate(over="ignore"):
            near = np.nextafter(bounds, np.inf)
        values = np.concatenate([tricky, rng.normal(0, 1e6, 100), bounds, near])
        finder = columns.CellFinder.build(bounds)
        assert (finder.cells(values) == columns.cell_bounds(bounds, values)).all()
