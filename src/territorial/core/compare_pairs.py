"""Two sides of a comparison lined up: territories under shared keys, and each side's
(account, territory) pairs packed and diffed.

Models have their own territory keys, so territories are matched by developer name: ``tkey``
numbers the developer names of either side, and each side maps its ``territory_pk`` to it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import polars as pl

from territorial.core.reports import packed_pairs


@dataclass(frozen=True)
class Side:
    """One model's side of a comparison, as frames.

    ``territories``: ``territory_pk``, ``parent_pk``, ``territory`` (developer name),
    ``name``. ``links``: ``account_pk``, ``territory_pk``, ``cause``, ``rule`` (developer
    name or null). ``users``: ``territory_pk``, ``user_pk``, ``role``. ``opportunities``:
    ``opportunity_pk``, ``territory_pk`` (null: none).
    """

    territories: pl.DataFrame
    links: pl.DataFrame
    users: pl.DataFrame
    opportunities: pl.DataFrame


def _keys(before: Side, after: Side) -> tuple[pl.DataFrame, dict[int, int], dict[int, int]]:
    names = (
        pl.concat([before.territories["territory"], after.territories["territory"]]).unique().sort()
    )
    table = pl.DataFrame({"territory": names, "tkey": pl.int_range(names.len(), eager=True)})
    index = dict(zip(table["territory"].to_list(), table["tkey"].to_list(), strict=True))

    def mapping(side: Side) -> dict[int, int]:
        rows = side.territories.select("territory_pk", "territory").rows()
        return {pk: index[name] for pk, name in rows}

    return table.with_columns(pl.col("tkey").cast(pl.Int64)), mapping(before), mapping(after)


def tkey_column(mapping: dict[int, int]) -> pl.Expr:
    """``territory_pk`` mapped to the shared ``tkey`` (null for a territory not in ``mapping``)."""
    return (
        pl.col("territory_pk")
        .replace_strict(mapping, default=None, return_dtype=pl.Int64)
        .alias("tkey")
    )


@dataclass(frozen=True)
class _Pairs:
    """Distinct (account, territory key) pairs of one side, sorted by both."""

    frame: pl.DataFrame
    """``account_pk``, ``tkey``."""
    packed: npt.NDArray[np.int64] | None
    """The same pairs as sorted integers ``account_pk * 2**bits + tkey``, or None."""


def _pairs(side: Side, mapping: dict[int, int], size: int) -> _Pairs:
    """Links to territories outside the model are left out."""
    keyed = side.links.select("account_pk", key=tkey_column(mapping)).drop_nulls()
    packed = packed_pairs(keyed, size)
    if packed is None:
        frame = keyed.unique().sort("account_pk", "key").rename({"key": "tkey"})
        return _Pairs(frame, None)
    keys, bits = packed
    frame = pl.DataFrame({"account_pk": keys // (1 << bits), "tkey": keys % (1 << bits)})
    return _Pairs(frame, keys.to_numpy())


def _differences(before: _Pairs, after: _Pairs) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pairs added (in ``after`` only) and removed (in ``before`` only)."""
    b, a = before.packed, after.packed
    if b is None or a is None:
        on = ["account_pk", "tkey"]
        return (
            after.frame.join(before.frame, on=on, how="anti", maintain_order="left"),
            before.frame.join(after.frame, on=on, how="anti", maintain_order="left"),
        )
    if len(b) == 0 or len(a) == 0:
        return after.frame, before.frame
    # One binary search of the after pairs among the before pairs answers both ways.
    at = np.searchsorted(b, a).clip(0, len(b) - 1)
    found = b[at] == a
    kept = np.zeros(len(b), dtype=np.bool_)
    kept[at[found]] = True
    return after.frame.filter(pl.Series(~found)), before.frame.filter(pl.Series(~kept))


def with_names(frame: pl.DataFrame, keys: pl.DataFrame, column: str = "tkey") -> pl.DataFrame:
    """``frame`` with the developer name (``territory``) of its territory key ``column``."""
    return frame.join(keys, left_on=column, right_on="tkey", how="left")


@dataclass(frozen=True)
class PairChanges:
    """Both sides' (account, territory key) pairs and what differs between them."""

    keys: pl.DataFrame
    """``territory`` (developer name), ``tkey``: the territories of either side."""
    map_b: dict[int, int]
    """``territory_pk`` → ``tkey`` before."""
    map_a: dict[int, int]
    pairs_b: pl.DataFrame
    """``account_pk``, ``tkey`` before."""
    pairs_a: pl.DataFrame
    added: pl.DataFrame
    """Pairs after only."""
    removed: pl.DataFrame
    """Pairs before only."""
    changed: pl.DataFrame
    """``account_pk`` of the accounts in ``added`` or ``removed``, sorted."""
    moved_b: pl.DataFrame
    """The changed accounts' pairs before, with ``territory``."""
    moved_a: pl.DataFrame


def pair_changes(before: Side, after: Side) -> PairChanges:
    """Key both sides' territories, pack their (account, territory) pairs into sorted
    integers, and diff them.

    >>> t = pl.DataFrame({"territory_pk": [1, 2], "territory": ["West", "East"]})
    >>> def side(pairs):
    ...     links = pl.DataFrame(pairs, schema=["account_pk", "territory_pk"], orient="row")
    ...     return Side(t, links, pl.DataFrame(), pl.DataFrame())
    >>> c = pair_changes(side([(1, 1), (2, 1)]), side([(1, 1), (2, 2)]))
    >>> c.moved_b.rows(), c.moved_a.rows()
    ([(2, 1, 'West')], [(2, 0, 'East')])
    """
    keys, map_b, map_a = _keys(before, after)
    size = max(keys.height, 1)
    packed_b, packed_a = _pairs(before, map_b, size), _pairs(after, map_a, size)
    added, removed = _differences(packed_b, packed_a)
    pairs_b, pairs_a = packed_b.frame, packed_a.frame
    changed = pl.concat([added["account_pk"], removed["account_pk"]]).unique().sort().to_frame()
    of_changed = pl.col("account_pk").is_in(changed["account_pk"].implode())
    return PairChanges(
        keys=keys,
        map_b=map_b,
        map_a=map_a,
        pairs_b=pairs_b,
        pairs_a=pairs_a,
        added=added,
        removed=removed,
        changed=changed,
        moved_b=with_names(pairs_b.filter(of_changed), keys),
        moved_a=with_names(pairs_a.filter(of_changed), keys),
    )


__all__ = ["PairChanges", "Side", "pair_changes", "tkey_column", "with_names"]
