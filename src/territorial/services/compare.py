"""Compare two models: which accounts, users and open opportunities a change would affect.

Territories match across models by developer name. The opportunity territories of the
active model are the stored ones; those of any other model are what activating it would
set (its opportunity policy over its account assignments), so a plan that was never
activated still shows which opportunities would change hands.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session

from territorial.core.compare import Comparison, Side, compare_sides
from territorial.core.model import ModelState
from territorial.errors import ValidationError
from territorial.io.tabular import write_table
from territorial.services import lookup
from territorial.services.freshness import stale_run
from territorial.services.reports import (
    DEFAULT_MEASURE,
    ModelFrames,
    computed_opportunities,
    load_accounts,
    load_model,
)
from territorial.services.runs import require_run
from territorial.services.workspace import Workspace
from territorial.store.bulk import read_frame
from territorial.store.schema import TerritoryModelRow

TABLES = ("accounts", "territories", "users", "opportunities")
"""The detail tables of a comparison, in the order they are written and listed."""


@dataclass(frozen=True)
class ModelComparison:
    """A comparison with the models' names and the frames packets need."""

    before: str
    after: str
    result: Comparison
    before_frames: ModelFrames
    after_frames: ModelFrames
    users: pl.DataFrame
    """user_pk, user (id), name of every user."""
    seconds: float
    """Time spent computing, after loading."""
    warnings: tuple[str, ...] = ()
    """Models whose last run is older than later account or rule changes
    (:func:`territorial.services.freshness.stale_run`)."""

    @property
    def summary(self) -> dict[str, float | int]:
        return {"before": self.before, "after": self.after, **self.result.summary}  # type: ignore[dict-item]

    def tables(self, *, unchanged: bool = True) -> dict[str, pl.DataFrame]:
        """The detail tables as users read them (ids and developer names). With
        ``unchanged=False``, territories and users only where accounts are gained or lost."""
        named = self.users.select("user_pk", "user", "name")
        territories = self.result.territories
        users = (
            named.join(self.result.users, on="user_pk")
            .filter((pl.col("accounts_before") + pl.col("accounts_after")) > 0)
            .drop("user_pk")
            .sort("name")
        )
        if not unchanged:
            changed = (pl.col("gained") + pl.col("lost")) > 0
            moved = (pl.col("area_gained") + pl.col("area_lost")) > 0
            territories, users = territories.filter(changed | moved), users.filter(changed)
        return {
            "accounts": self.result.accounts.drop("account_pk"),
            "territories": territories,
            "users": users,
            "opportunities": self.result.opportunities.drop("opportunity_pk"),
        }


def _side(session: Session, row: TerritoryModelRow) -> tuple[ModelFrames, Side]:
    data = load_model(session, row)
    opps = data.opportunities
    if row.state != ModelState.ACTIVE:
        opps = computed_opportunities(row, data, opps)
        data = ModelFrames(data.model, data.state, data.territories, data.links, data.users, opps)
    side = Side(
        territories=data.territories,
        links=data.links,
        users=data.users.select("territory_pk", "user_pk", "role"),
        opportunities=opps.select("opportunity_pk", "territory_pk"),
    )
    return data, side


def compare_models(
    ws: Workspace, a: str, b: str | None = None, *, measure: str = DEFAULT_MEASURE
) -> ModelComparison:
    """Compare model ``a`` with ``b``; with ``b`` omitted, compare the active model with
    ``a`` (the plan). ``measure`` is the account field counted as potential."""
    with ws.session() as session:
        if b is None:
            before_row, after_row = lookup.active_model(session), lookup.model(session, a)
        else:
            before_row, after_row = lookup.model(session, a), lookup.model(session, b)
        if before_row.pk == after_row.pk:
            raise ValidationError(
                f"Both sides are model {before_row.developer_name!r}.",
                hint="Name two different models, or one plan to compare with the active model.",
            )
        for row in (before_row, after_row):
            require_run(
                session,
                row,
                why="the comparison would show their accounts as unassigned",
                then="compare again",
            )
        warnings = tuple(
            w for w in (stale_run(session, r) for r in (before_row, after_row)) if w is not None
        )
        before_frames, before = _side(session, before_row)
        after_frames, after = _side(session, after_row)
        accounts = load_accounts(session, measure)
        opportunities = before_frames.opportunities.drop("territory_pk")
        users = _all_users(session)
    started = time.perf_counter()
    result = compare_sides(before, after, accounts, opportunities)
    return ModelComparison(
        before=before_row.developer_name,
        after=after_row.developer_name,
        result=result,
        before_frames=before_frames,
        after_frames=after_frames,
        users=users,
        seconds=time.perf_counter() - started,
        warnings=warnings,
    )


def _all_users(session: Session) -> pl.DataFrame:
    return read_frame(
        session,
        "SELECT pk, id, name FROM sales_user ORDER BY pk",
        {"user_pk": pl.Int64(), "user": pl.String(), "name": pl.String()},
    )


def write_comparison(comparison: ModelComparison, folder: Path | str) -> list[Path]:
    """Write the detail tables (``accounts.csv``, ``territories.csv``, ``users.csv``,
    ``opportunities.csv``) and ``summary.csv`` into ``folder``."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    tables = {**comparison.tables(), "summary": pl.DataFrame([comparison.summary])}
    for name, frame in tables.items():
        path = out / f"{name}.csv"
        write_table(frame, path)
        written.append(path)
    return written


__all__ = ["TABLES", "ModelComparison", "compare_models", "write_comparison"]
