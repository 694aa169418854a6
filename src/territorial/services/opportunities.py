"""Opportunity territory assignment for a model, with no custom code.

Excluded opportunities (``excluded_from_territory_filter``) are skipped; the scope can be
limited to open opportunities, to a close-date range or to given opportunities (an
import assigns just the ones it inserted or changed); an opportunity already on the
right territory is left untouched; only changes are written.

:func:`territory_delta` says which opportunities change territory from one model to
another (activation reports it; the Data Loader delta writes it): open ones unless closed
ones are asked for, excluded ones never, as :func:`execute` scopes activation.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from territorial.core.engine.opportunities import (
    POLICIES,
    OpportunityPolicy,
    assign_opportunities,
    territory_changes,
)
from territorial.core.model import ModelState
from territorial.core.text import plural
from territorial.core.tree import depths
from territorial.errors import ValidationError
from territorial.services import audit, lookup, runs
from territorial.services.workspace import Workspace
from territorial.store import bulk, frames
from territorial.store.schema import Account, TerritoryModelRow, TerritoryRow, TerritoryTypeRow

_FEW = 10_000
"""Up to this many accounts, only their opportunities and links are read (by pk, in the
SQL); more, every row is read and filtered in Polars, which keeps the SQL short."""


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
    without_territory: int = 0
    """In scope and without a territory afterwards (changed or not): their account is in
    no territory, or the policy found none."""
    against: str | None = None
    """The model whose stored opportunity territories the changes are counted from (the
    active one, for a preview of a model that is not active: what activating it would
    change); None: ``model``'s own."""
    tied: int = 0
    """Of ``without_territory``, those whose account is in several territories that the
    policy cannot choose between (a tie on type priority, or on depth)."""
    tie_example: str | None = None
    """One of them, for people: ``opportunity 006… (account 001… in Southwest, Desert)``."""

    @property
    def changed(self) -> int:
        return self.newly_assigned + self.moved + self.unassigned

    def tie_warning(self) -> str | None:
        """Why ``tied`` opportunities get no territory and how to fix it, or None."""
        if not self.tied:
            return None
        return tie_warning(self.tied, self.tie_example, self.policy, preview=self.preview)


def tie_warning(tied: int, example: str | None, policy: str, *, preview: bool = True) -> str:
    """``N opportunities would be left without a territory: ... tie ...`` with the fix."""
    what = "type priority" if policy == "priority" else "depth"
    eg = f" (e.g. {example})" if example else ""
    return (
        f"{plural(tied, 'opportunity', 'opportunities')} {'would be' if preview else 'are'} "
        "left without a territory: "
        f"their account's top territories tie on {what}{eg}. Fix: give those territories "
        "types of different priorities ('territorial type add NAME --priority N', then the "
        "territory's --type), make their rules not overlap, or assign with --policy deepest "
        "or --policy keep where that breaks the tie."
    )


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


def _opportunities(
    session: Session, model_pk: int, *, account_pks: Sequence[int] | None = None
) -> pl.DataFrame:
    """Every opportunity (or those of ``account_pks``) with its territory in the model;
    ``stored`` is false where the model holds no row for it (it never assigned it)."""
    where = "" if account_pks is None else f"WHERE {frames.in_list('o.account_pk', account_pks)} "
    sql = (
        "SELECT o.pk, o.id, o.account_pk, ot.territory_pk, ot.model_pk, "
        "o.excluded_from_territory_filter, o.is_closed, o.close_date FROM opportunity o "
        "LEFT JOIN opportunity_territory ot "
        f"ON ot.opportunity_pk = o.pk AND ot.model_pk = {int(model_pk)} {where}ORDER BY o.pk"
    )
    schema: dict[str, pl.DataType] = {
        "opportunity_pk": pl.Int64(),
        "id": pl.String(),
        "account_pk": pl.Int64(),
        "current_territory_pk": pl.Int64(),
        "stored": pl.Int64(),
        "excluded": pl.Boolean(),
        "is_closed": pl.Boolean(),
        "close_date": pl.Date(),
    }
    frame = bulk.read_frame(session, sql, schema)
    return frame.with_columns(pl.col("stored").is_not_null())


def model_links(
    session: Session, model_pk: int, *, account_pks: Sequence[int] | None = None
) -> pl.DataFrame:
    """``account_pk``, ``territory_pk``: the model's account assignments (any cause; of
    ``account_pks`` only if given), the candidates of its opportunities."""
    sql = (
        f"SELECT account_pk, territory_pk FROM account_assignment WHERE model_pk = {int(model_pk)}"
    )
    if account_pks is not None:
        sql += f" AND {frames.in_list('account_pk', account_pks)}"
    return bulk.read_frame(session, sql, {"account_pk": pl.Int64(), "territory_pk": pl.Int64()})


def _scope(
    opps: pl.DataFrame,
    *,
    open_only: bool,
    close_from: date | None = None,
    close_to: date | None = None,
) -> pl.DataFrame:
    """The opportunities a filter run touches: not excluded, open ones only if asked,
    closing in the range if given."""
    scope = opps.filter(~pl.col("excluded").fill_null(False))
    if open_only:
        scope = scope.filter(~pl.col("is_closed").fill_null(False))
    if close_from:
        scope = scope.filter(pl.col("close_date") >= close_from)
    if close_to:
        scope = scope.filter(pl.col("close_date") <= close_to)
    return scope


def opportunity_policy(row: TerritoryModelRow) -> OpportunityPolicy:
    """The model's opportunity assignment policy (``priority`` unless set)."""
    policy = (row.settings or {}).get("opportunity_policy", "priority")
    return policy if policy in POLICIES else "priority"


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
    """Set each in-scope opportunity's territory in ``model`` by ``policy``.

    A preview of a model that is not the active one counts its changes from the active
    model's opportunity territories (matched by territory developer name), which is what
    activating it would change.
    """
    with ws.session() as session:
        model_row = lookup.model(session, model)
        against = None
        if not preview:
            runs.require_assignable(model_row)
        elif model_row.state != ModelState.ACTIVE:
            against = session.scalar(
                select(TerritoryModelRow).where(TerritoryModelRow.state == ModelState.ACTIVE)
            )
        result = execute(
            session,
            model_row,
            actor=ws.actor,
            policy=policy,
            open_only=open_only,
            close_from=close_from,
            close_to=close_to,
            preview=preview,
            against=against,
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
    opportunity_ids: Sequence[str] | pl.Series | None = None,
    account_pks: Sequence[int] | None = None,
    preview: bool = False,
    links: pl.DataFrame | None = None,
    against: TerritoryModelRow | None = None,
) -> OpportunityResult:
    """Opportunity assignment inside the caller's transaction (also used by activation,
    which passes the model's ``links`` when it has read them: see :func:`model_links`, by
    imports of opportunities, which limit it to ``opportunity_ids``: external ids, and by
    :func:`follow_accounts`, which limits it to the opportunities of ``account_pks``).

    ``against`` (previews only): count changes from that model's stored opportunity
    territories, by territory developer name, instead of ``model_row``'s own."""
    if against is not None and not preview:
        raise ValueError("'against' is for previews only")
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
    few = list(account_pks) if account_pks is not None and len(account_pks) <= _FEW else None
    opps = _opportunities(session, model_row.pk, account_pks=few)
    excluded = opps.filter(pl.col("excluded").fill_null(False))
    scope = _scope(opps, open_only=open_only, close_from=close_from, close_to=close_to)
    chosen = []
    if opportunity_ids is not None:
        chosen.append(pl.col("id").is_in(pl.Series(opportunity_ids, dtype=pl.String).implode()))
    if account_pks is not None:
        chosen.append(pl.col("account_pk").is_in(pl.Series(account_pks, dtype=pl.Int64).implode()))
    if chosen:
        keep = pl.all_horizontal(chosen)
        scope, excluded = scope.filter(keep), excluded.filter(keep)
    if links is None:
        links = model_links(session, model_row.pk, account_pks=few)
    wanted = assign_opportunities(scope, links, territories, policy=policy)
    compared = scope.select("opportunity_pk", "id", "current_territory_pk", "account_pk").join(
        wanted, on="opportunity_pk", maintain_order="left"
    )
    compared = compared.with_columns(
        pl.col("current_territory_pk")
        .replace_strict(names, default=None, return_dtype=pl.String)
        .alias("from_territory"),
        pl.col("territory_pk")
        .replace_strict(names, default=None, return_dtype=pl.String)
        .alias("to_territory"),
    )
    if against is not None:
        held = stored_territories(session, against).rename(
            {"opportunity": "id", "territory": "from_territory"}
        )
        compared = compared.drop("from_territory").join(
            held, on="id", how="left", maintain_order="left"
        )
    before, after = pl.col("from_territory"), pl.col("to_territory")
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
        without_territory=compared.filter(after.is_null()).height,
        duration_ms=int((time.perf_counter() - started) * 1000),
        changes=changed.select(pl.col("id").alias("opportunity"), before, after),
        against=against.developer_name if against is not None else None,
        **_ties(session, compared.filter(after.is_null()), links, territories, names, policy),
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
                **({"opportunities": len(opportunity_ids)} if opportunity_ids is not None else {}),
                **({"accounts": len(account_pks)} if account_pks is not None else {}),
            },
        )
    return result


def _ties(
    session: Session,
    unplaced: pl.DataFrame,
    links: pl.DataFrame,
    territories: pl.DataFrame,
    names: dict[int, str],
    policy: OpportunityPolicy,
) -> dict[str, Any]:
    """``tied`` and ``tie_example`` of :class:`OpportunityResult`: of the opportunities left
    without a territory (``unplaced``), those whose account's best candidates tie."""
    if unplaced.is_empty():
        return {"tied": 0, "tie_example": None}
    keys = ["depth", "priority"] if policy == "deepest" else ["priority"]
    candidates = links.unique().join(territories, on="territory_pk", how="left")
    top = candidates.fill_null(0).filter(
        pl.all_horizontal(pl.col(k) == pl.col(k).max().over("account_pk") for k in keys)
    )
    per_account = top.group_by("account_pk").agg(
        pl.col("territory_pk").sort().alias("tied_pks"), n=pl.len()
    )
    tied = unplaced.join(per_account.filter(pl.col("n") > 1), on="account_pk", how="inner")
    if tied.is_empty():
        return {"tied": 0, "tie_example": None}
    first = tied.sort("id").row(0, named=True)
    account = session.scalar(select(Account.id).where(Account.pk == first["account_pk"]))
    where = ", ".join(names[pk] for pk in first["tied_pks"])
    return {
        "tied": tied.height,
        "tie_example": f"opportunity {first['id']}, account {account} in {where}",
    }


def follow_accounts(
    session: Session, model_row: TerritoryModelRow, account_pks: pl.Series, *, actor: str
) -> OpportunityResult | None:
    """Give the open opportunities of accounts whose territories changed (``account_pks``)
    their territory again by the model's policy, in the caller's transaction; None when no
    account moved.

    Imports of accounts and ``save_account`` call it for the active model. Closed
    opportunities keep the territory they were won or lost in; excluded ones are skipped;
    those already on the right territory are left as they are.
    """
    if account_pks.is_empty():
        return None
    return execute(
        session,
        model_row,
        actor=actor,
        policy=opportunity_policy(model_row),
        open_only=True,
        account_pks=account_pks.to_list(),
    )


# ---------------------------------------------------------------------------------------------
# What changes from one model to another


@dataclass(frozen=True)
class OpportunityDelta:
    """The opportunities whose territory changes from model ``against`` to ``model``.

    In scope: opportunities not excluded from the territory filter, open ones only unless
    ``include_closed``, exactly as activation assigns them. Each gets the territory
    ``model`` gives it (see :func:`territory_delta`).
    """

    model: str
    against: str | None
    include_closed: bool
    in_scope: int
    closed_skipped: int
    excluded_skipped: int
    without_territory: int
    """In scope, and ``model`` gives them no territory (they keep none, or lose theirs)."""
    ties: int
    """Of those, how many because their account's top territories tie on type priority."""
    changes: pl.DataFrame = field(repr=False)
    """opportunity (id), territory (the new one; null: none), from_territory, change
    (``assigned``, ``moved``, ``cleared``), reason (why a territory is null: ``tie``,
    ``account in no territory``, ``not assigned``), sorted by opportunity."""

    def count(self, change: str) -> int:
        return int((self.changes["change"] == change).sum())

    @property
    def assigned(self) -> int:
        return self.count("assigned")

    @property
    def moved(self) -> int:
        return self.count("moved")

    @property
    def cleared(self) -> int:
        """Opportunities that lose their territory (a Data Loader row with a blank one)."""
        return self.count("cleared")

    @property
    def cleared_by_tie(self) -> int:
        return int(
            ((self.changes["change"] == "cleared") & (self.changes["reason"] == "tie")).sum()
        )

    @property
    def changed(self) -> int:
        return self.changes.height

    def counts(self) -> dict[str, int]:
        """The numbers, keyed as reports show them."""
        return {
            "opportunities_in_scope": self.in_scope,
            "opportunities_changed": self.changed,
            "opportunities_assigned": self.assigned,
            "opportunities_moved": self.moved,
            "opportunities_cleared": self.cleared,
            "opportunities_cleared_by_tie": self.cleared_by_tie,
            "opportunities_without_territory": self.without_territory,
            "opportunities_tied": self.ties,
            "closed_opportunities_skipped": self.closed_skipped,
            "excluded_opportunities_skipped": self.excluded_skipped,
        }

    def summary(self) -> str:
        """``12 open opportunities change territory (...)``: one sentence for people."""
        kind = "opportunity" if self.include_closed else "open opportunity"
        verb = "changes" if self.changed == 1 else "change"
        text = (
            f"{self.changed:,} of {plural(self.in_scope, kind, kind[:-1] + 'ies')} {verb} "
            "territory"
            + (f" from {self.against}" if self.against else "")
            + f" ({self.assigned:,} assigned, {self.moved:,} moved, {self.cleared:,} left "
            f"without one"
        )
        if self.cleared:
            text += f", {self.cleared_by_tie:,} of them by a priority tie"
        text += ")"
        skipped = []
        if self.closed_skipped:
            skipped.append(f"{self.closed_skipped:,} closed")
        if self.excluded_skipped:
            skipped.append(f"{self.excluded_skipped:,} excluded from the territory filter")
        if skipped:
            alone = self.closed_skipped + self.excluded_skipped == 1
            text += (
                "; " + " and ".join(skipped) + (" left as it is" if alone else " left as they are")
            )
        return text


def given_territories(
    session: Session,
    model_row: TerritoryModelRow,
    *,
    include_closed: bool = False,
    links: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, int, int]:
    """The territory ``model_row`` gives each opportunity in scope (see
    :class:`OpportunityDelta`).

    The active model gives the territory it stores, that is the one activation set (an
    opportunity it never assigned, such as one imported since, gets what its policy gives);
    any other model gives what activating it would set: its ``opportunity_policy`` over
    its account assignments. Returns ``opportunity`` (id), ``territory`` (developer name,
    null: none), ``reason`` (why none), and the numbers of closed and excluded
    opportunities left out.
    """
    territories, names = _territories(session, model_row.pk)
    opps = _opportunities(session, model_row.pk)
    scope = _scope(opps, open_only=not include_closed)
    if links is None:
        links = model_links(session, model_row.pk)
    wanted = assign_opportunities(scope, links, territories, policy=opportunity_policy(model_row))
    scope = scope.join(wanted, on="opportunity_pk", how="left", maintain_order="left")
    if model_row.state == ModelState.ACTIVE:
        stored = pl.when(pl.col("stored")).then(pl.col("current_territory_pk"))
        scope = scope.with_columns(territory_pk=stored.otherwise(pl.col("territory_pk")))
    candidates = links.unique().group_by("account_pk").agg(candidates=pl.len())
    given = scope.join(candidates, on="account_pk", how="left", maintain_order="left").select(
        pl.col("id").alias("opportunity"),
        pl.col("territory_pk")
        .replace_strict(names, default=None, return_dtype=pl.String)
        .alias("territory"),
        reason=pl.when(pl.col("territory_pk").is_not_null())
        .then(None)
        .when(pl.col("candidates").fill_null(0) == 0)
        .then(pl.lit("account in no territory"))
        .when(pl.col("candidates") > 1)
        .then(pl.lit("tie"))
        .otherwise(pl.lit("not assigned")),
    )
    not_excluded = opps.filter(~pl.col("excluded").fill_null(False))
    return given, not_excluded.height - scope.height, opps.height - not_excluded.height


def stored_territories(session: Session, model_row: TerritoryModelRow) -> pl.DataFrame:
    """``opportunity`` (id), ``territory`` (developer name): what the model stores."""
    names = _territories(session, model_row.pk)[1]
    opps = _opportunities(session, model_row.pk).filter(pl.col("stored"))
    return opps.select(
        pl.col("id").alias("opportunity"),
        pl.col("current_territory_pk")
        .replace_strict(names, default=None, return_dtype=pl.String)
        .alias("territory"),
    )


def territory_delta(
    session: Session,
    model_row: TerritoryModelRow,
    against: TerritoryModelRow | None,
    *,
    include_closed: bool = False,
    links: pl.DataFrame | None = None,
) -> OpportunityDelta:
    """Which opportunities change territory when ``model_row`` replaces ``against``.

    ``against`` gives what its rows store (what it set while it was live); ``None``: no
    opportunity has a territory yet. Territories match by developer name. ``links``:
    ``model_row``'s account assignments, when the caller has read them.
    """
    given, closed, excluded = given_territories(
        session, model_row, include_closed=include_closed, links=links
    )
    before = (
        stored_territories(session, against)
        if against is not None
        else given.clear().select("opportunity", "territory")
    )
    return OpportunityDelta(
        model=model_row.developer_name,
        against=against.developer_name if against is not None else None,
        include_closed=include_closed,
        in_scope=given.height,
        closed_skipped=closed,
        excluded_skipped=excluded,
        without_territory=int(given["territory"].is_null().sum()),
        ties=int((given["reason"] == "tie").sum()),
        changes=territory_changes(before, given),
    )


__all__ = [
    "OpportunityDelta",
    "OpportunityResult",
    "assign_model_opportunities",
    "execute",
    "follow_accounts",
    "given_territories",
    "model_links",
    "opportunity_policy",
    "stored_territories",
    "territory_delta",
]
