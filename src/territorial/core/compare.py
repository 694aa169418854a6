"""Differences between two sets of assignments (two models, or a model before and after).

Models have their own territory keys, so assignments are compared by what users see: the
record's external id and the territory's developer name.
"""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl


def assignment_delta(
    before: pl.DataFrame,
    after: pl.DataFrame,
    *,
    keys: Sequence[str] = ("account", "territory"),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows to insert and rows to delete to turn ``before`` into ``after``.

    Parameters
    ----------
    before, after
        Assignments with at least the ``keys`` columns (other columns are carried along
        from the side they come from).
    keys
        Columns that identify one assignment.

    Returns
    -------
    tuple of polars.DataFrame
        ``(inserts, deletes)``: rows of ``after`` missing from ``before``, and rows of
        ``before`` missing from ``after``; each unique on ``keys`` and sorted by them.

    Examples
    --------
    >>> old = pl.DataFrame({"account": ["a", "b"], "territory": ["West", "West"]})
    >>> new = pl.DataFrame({"account": ["a", "b"], "territory": ["West", "East"]})
    >>> inserts, deletes = assignment_delta(old, new)
    >>> inserts.rows(), deletes.rows()
    ([('b', 'East')], [('b', 'West')])
    """
    key_list = list(keys)
    before = before.unique(subset=key_list, maintain_order=True)
    after = after.unique(subset=key_list, maintain_order=True)
    inserts = after.join(before.select(key_list), on=key_list, how="anti", nulls_equal=True)
    deletes = before.join(after.select(key_list), on=key_list, how="anti", nulls_equal=True)
    return inserts.sort(key_list), deletes.sort(key_list)


__all__ = ["assignment_delta"]
