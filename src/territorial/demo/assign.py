"""Where the product's rule engine puts demo accounts, before anything is stored.

The generator needs each account's geo leaf to give it a plausible owner, and tests need
the whole model's rule assignments. Both come from the product engine
(``core.rules.compile`` and ``core.engine.matcher``): the territories and rules of the
``ModelSpec`` get temporary integer ids, territory ``i`` and rule ``i`` of the spec's lists
being pk ``i + 1``.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import replace

import numpy as np
import polars as pl

from territorial.core.engine.matcher import match
from territorial.core.fields import Field, FieldCatalog
from territorial.core.model import ModelSpec
from territorial.core.rules.compile import (
    ALWAYS_LOADED,
    ModelInput,
    TerritoryNode,
    compile_model,
    required_fields,
)


def model_input(spec: ModelSpec) -> ModelInput:
    """The spec as the engine sees it, with temporary pks (list position + 1)."""
    territory_pk = {t.developer_name: pk for pk, t in enumerate(spec.territories, 1)}
    rule_pk = {r.developer_name: pk for pk, r in enumerate(spec.rules, 1)}
    return ModelInput(
        territories=[
            TerritoryNode(pk, None if t.parent is None else territory_pk[t.parent])
            for pk, t in enumerate(spec.territories, 1)
        ],
        rules=[replace(r, id=rule_pk[r.developer_name]) for r in spec.rules],
        associations=[
            (rule_pk[a.rule], territory_pk[a.territory], a.inherited) for a in spec.associations
        ],
        combination=spec.rule_combination,
    )


def _match(
    accounts: pl.DataFrame,
    spec: ModelSpec,
    territories: Collection[str] | None,
    custom_fields: Collection[Field] = (),
) -> pl.DataFrame:
    """The engine's ``account_pk``/``territory_pk`` pairs, the account pk being the row."""
    compiled = compile_model(model_input(spec), FieldCatalog.standard("account", custom_fields))
    if territories is not None:
        wanted = {pk for pk, t in enumerate(spec.territories, 1) if t.developer_name in territories}
        compiled.effective = {pk: r for pk, r in compiled.effective.items() if pk in wanted}
    columns = sorted(required_fields(compiled) - {ALWAYS_LOADED})
    present = [c for c in columns if c in accounts.columns]  # the engine: missing = empty
    frame = accounts.select(pl.int_range(accounts.height, dtype=pl.Int64).alias("pk"), *present)
    return match(frame, compiled)


def rule_assignments(
    accounts: pl.DataFrame,
    spec: ModelSpec,
    territories: Collection[str] | None = None,
    custom_fields: Collection[Field] = (),
) -> pl.DataFrame:
    """Every (account row, territory) pair the spec's rules produce, by the product engine.

    Only ``territories`` are evaluated when given (their effective rules still include
    rules inherited from ancestors). ``excluded_from_realign`` is ignored: this is where
    the rules put an account, not what a run would store.

    Returns
    -------
    polars.DataFrame
        ``row`` (Int64, the account's position in ``accounts``) and ``territory``
        (developer name), sorted by row then by the territory's position in the spec.
    """
    found = _match(accounts, spec, territories, custom_fields)
    names = pl.Series([t.developer_name for t in spec.territories])
    return pl.DataFrame(
        {"row": found["account_pk"], "territory": names.gather(found["territory_pk"] - 1)}
    )


def first_territory(accounts: pl.DataFrame, spec: ModelSpec, territories: list[str]) -> pl.Series:
    """Lowest position in ``territories`` of those each account lands in (null: none)."""
    found = _match(accounts, spec, territories)
    position = {name: i for i, name in enumerate(territories)}
    unmatched = len(territories)
    # spec pk -> position in ``territories`` (pk 0 is unused)
    lookup = np.array(
        [unmatched, *(position.get(t.developer_name, unmatched) for t in spec.territories)],
        dtype=np.int32,
    )
    result = np.full(accounts.height, unmatched, dtype=np.int32)
    np.minimum.at(result, found["account_pk"].to_numpy(), lookup[found["territory_pk"].to_numpy()])
    return pl.Series("territory", result).set(pl.Series(result == unmatched), None)


__all__ = ["first_territory", "model_input", "rule_assignments"]
