"""Opportunity territory assignment for a model, with no custom code.

Excluded opportunities (``excluded_from_territory_filter``) are skipped; the scope can be
limited to open opportunities or to a close-date range; an opportunity already on the
right territory is left untouched; only changes are written.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.engine.opportunities import (
    POLICIES,
    OpportunityPolicy,
    assign_opportunities,
)
from territorial.core.tree import depths
from territorial.errors import ValidationError
from territorial.services import audit, lookup, runs
from territorial.services.workspace import Workspace
from territorial.store import bulk, frames
from territorial.store.schema import TerritoryModelRow, TerritoryRow, TerritoryTypeRow


@dataclass(frozen=True)
class OpportunityResult:
    """What an opportunity assignment did (or would do, for a preview)."""

    model: str
    policy: str
    preview: bool
    in_scope: int
    skipped_excluded: int
    unchanged: int
    newly_assigned: int
    moved: int
    unassigned: int
    duration_ms: int
    changes: pl.DataFrame
    """opportunity (id), from_territory, to_territory (developer names; null: none)."""

    @property
    def changed(self) -> int:
        return self.newly_assigned + self.moved + self.unassigned


def _territories(session: Session, model_pk: int) -> tuple[pl.DataFrame, dict[int, str]]:
    rows = list(
        session.execute(
            select(
                TerritoryRow.pk,
                TerritoryRow.parent_pk,
                TerritoryRow.developer_name,
                TerritoryTypeRow.priority,
            )
            .join(TerritoryTypeRow, TerritoryTypeRow.pk == TerritoryRow.type_pk)
            .where(TerritoryRow.model_pk == model_pk)
        )
    )
    depth = depths({pk: parent for pk, parent, _, _ in rows})
    frame = pl.DataFrame(
        {
            "territory_pk": [r[0] for r in rows],
            "priority": [r[3] for r in rows],
            "depth": [depth[r[0]] for r in rows],
        },
        schema={"territory_pk": pl.Int64, "priority": pl.Int64, "depth": pl.Int64},
    )
    return frame, {pk: name for pk, _, name, _ in rows}


def _opportunities(session: Session, model_pk: int) -> pl.DataFrame:
    sql = (
        "SELECT o.pk, o.id, o.account_pk, ot.territory_pk, o.excluded_from_territory_filter, "
        "o.is_closed, o.close_date FROM opportunity o LEFT JOIN opportunity_territory ot "
        f"ON ot.opportunity_pk = o.pk AND ot.model_pk = {int(model_pk)} ORDER BY o.pk"
    )
    schema: dict[str, pl.DataType] = {
        "opportunity_pk": pl.Int64(),
        "id": pl.String(),
        "account_pk": pl.Int64(),
        "current_territory_pk": pl.Int64(),
        "excluded": pl.Boolean(),
        "is_closed": pl.Boolean(),
        "close_date": pl.Date(),
    }
    return bulk.read_frame(session, sql, schema)


def assign_model_opportunities(
    ws: Workspace,
    model: str,
    *,
    policy: OpportunityPolicy = "priority",
    open_only: bool = False,
    close_from: date | None = None,
    close_to: date | None = None,
    preview: bool = False,
) -> OpportunityResult:
    """Set each in-scope opportunity's territory in ``model`` by ``policy``."""
    with ws.session() as session:
        model_row = lookup.model(session, model)
        if not preview:
            runs.require_assignable(model_row)
        result = execute(
            session,
            model_row,
            actor=ws.actor,
            policy=policy,
            open_only=open_only,
            close_from=close_from,
            close_to=close_to,
            preview=preview,
        )
        if preview:
            session.rollback()
        return result


def execute(
    session: Session,
    model_row: TerritoryModelRow,
    *,
    actor: str,
    policy: OpportunityPolicy = "priority",
    open_only: bool = False,
    close_from: date | None = None,
    close_to: date | None = None,
    preview: bool = False,
) -> OpportunityResult:
    """Opportunity assignment inside the caller's transaction (also used by activation)."""
    if policy not in POLICIES:
        raise ValidationError(
            f"Unknown policy {policy!r}.", hint=f"Use one of: {', '.join(POLICIES)}."
        )
    if close_from and close_to and close_from > close_to:
        raise ValidationError(
            f"The close-date range is empty: {close_from} is after {close_to}.",
            hint="Give --close-from before --close-to.",
        )
    started = time.perf_counter()
    territories, names = _territories(session, model_row.pk)
    opps = _opportunities(session, model_row.pk)
    excluded = opps.filter(pl.col("excluded").fill_null(False))
    scope = opps.filter(~pl.col("excluded").fill_null(False))
    if open_only:
        scope = scope.filter(~pl.col("is_closed").fill_null(False))
    if close_from:
        scope = scope.filter(pl.col("close_date") >= close_from)
    if close_to:
        scope = scope.filter(pl.col("close_date") <= close_to)
    links = frames.load_assignments(session, model_row.pk).select("account_pk", "territory_pk")
    wanted = assign_opportunities(scope, links, territories, policy=policy)
    compared = scope.select("opportunity_pk", "id", "current_territory_pk").join(
        wanted, on="opportunity_pk", maintain_order="left"
    )
    before, after = pl.col("current_territory_pk"), pl.col("territory_pk")
    changed = compared.filter(before.ne_missing(after))
    if not preview and changed.height:
        bulk.upsert(
            session,
            "opportunity_territory",
            changed.select(
                pl.lit(model_row.pk, pl.Int64).alias("model_pk"), "opportunity_pk", "territory_pk"
            ),
            key=["model_pk", "opportunity_pk"],
            update=["territory_pk"],
        )
    result = OpportunityResult(
        model=model_row.developer_name,
        policy=policy,
        preview=preview,
        in_scope=scope.height,
        skipped_excluded=excluded.height,
        unchanged=compared.height - changed.height,
        newly_assigned=changed.filter(before.is_null()).height,
        moved=changed.filter(before.is_not_null() & after.is_not_null()).height,
        unassigned=changed.filter(after.is_null()).height,
        duration_ms=int((time.perf_counter() - started) * 1000),
        changes=changed.select(
            pl.col("id").alias("opportunity"),
            before.replace_strict(names, default=None, return_dtype=pl.String).alias(
                "from_territory"
            ),
            after.replace_strict(names, default=None, return_dtype=pl.String).alias("to_territory"),
        ),
    )
    if not preview:
        audit.record(
            session,
            actor=actor,
            action="opportunities.assign",
            entity="model",
            key=model_row.developer_name,
            model_pk=model_row.pk,
            after={
                "policy": policy,
                "in_scope": result.in_scope,
                "changed": result.changed,
                "open_only": open_only,
                "close_from": close_from.isoformat() if close_from else None,
                "close_to": close_to.isoformat() if close_to else None,
            },
        )
    return result


__all__ = ["OpportunityResult", "assign_model_opportunities", "execute"]
