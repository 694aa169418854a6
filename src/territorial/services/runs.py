"""Runs: evaluate a model's rules over a scope and replace the rule assignments in it.

A run's scope is the whole model, one territory subtree ("run rules from the hierarchy"),
a set of accounts, or both. Only rule assignments inside the scope change; manual
assignments are never touched; exclusions and ``excluded_from_realign`` win over rules.
Only the difference is written: assignments that stay are left alone, so re-running an
unchanged model writes nothing. A preview computes the same result and writes nothing.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from territorial.core import tree
from territorial.core.engine.matcher import match
from territorial.core.model import ModelState, Rule, RuleItem
from territorial.core.rules.compile import (
    CompiledModel,
    ModelInput,
    TerritoryNode,
    compile_model,
    required_fields,
)
from territorial.core.text import plural
from territorial.errors import Conflict, LifecycleError, ValidationError
from territorial.services import audit, fields, lookup
from territorial.services.workspace import Workspace
from territorial.store import bulk, frames
from territorial.store.schema import (
    Account,
    AccountAssignmentRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    RunRow,
    TerritoryModelRow,
    TerritoryRow,
    TerritoryTypeRow,
)

Step = Callable[[str], None]
"""Told the name of each stage as a run reaches it (for progress displays)."""

STAGES = ("compile", "load accounts", "match", "compare", "write")


@dataclass(frozen=True)
class RunResult:
    """What a run did (or, for a preview, would do)."""

    model: str
    preview: bool
    scope: dict[str, Any]
    accounts_evaluated: int
    rule_assignments: int
    added: int
    removed: int
    duration_ms: int
    run_id: int | None = None
    warnings: list[str] = field(default_factory=list)
    assignments: pl.DataFrame | None = None
    """The rule assignments computed for the scope (account_pk, territory_pk, rule_pk)."""
    moved_accounts: pl.Series | None = None
    """With ``track_moves``: the pks of the accounts whose territories changed."""


def model_input(session: Session, model: TerritoryModelRow) -> ModelInput:
    """What the engine needs of a stored model."""
    priorities: dict[int, int] = {
        pk: priority
        for pk, priority in session.execute(select(TerritoryTypeRow.pk, TerritoryTypeRow.priority))
    }
    territories = [
        TerritoryNode(pk, parent_pk, priorities.get(type_pk, 0))
        for pk, parent_pk, type_pk in session.execute(
            select(TerritoryRow.pk, TerritoryRow.parent_pk, TerritoryRow.type_pk).where(
                TerritoryRow.model_pk == model.pk
            )
        )
    ]
    rule_rows = list(session.scalars(select(RuleRow).where(RuleRow.model_pk == model.pk)))
    items: dict[int, list[RuleItem]] = {}
    for i in session.scalars(
        select(RuleItemRow)
        .join(RuleRow, RuleRow.pk == RuleItemRow.rule_pk)
        .where(RuleRow.model_pk == model.pk)
        .order_by(RuleItemRow.rule_pk, RuleItemRow.number)
    ):
        items.setdefault(i.rule_pk, []).append(RuleItem(i.number, i.field, i.operator, i.value))
    rules = [
        Rule(
            r.developer_name,
            tuple(items.get(r.pk, ())),
            r.boolean_filter,
            r.active,
            r.name,
            id=r.pk,
        )
        for r in rule_rows
    ]
    associations = [
        (rule_pk, territory_pk, inherited)
        for rule_pk, territory_pk, inherited in session.execute(
            select(
                RuleAssociationRow.rule_pk,
                RuleAssociationRow.territory_pk,
                RuleAssociationRow.inherited,
            )
            .join(RuleRow, RuleRow.pk == RuleAssociationRow.rule_pk)
            .where(RuleRow.model_pk == model.pk)
        )
    ]
    return ModelInput(territories, rules, associations, model.rule_combination)  # type: ignore[arg-type]


def compile_stored(session: Session, model: TerritoryModelRow) -> CompiledModel:
    """Compile a stored model against the account field catalog (raises RuleError)."""
    return compile_model(model_input(session, model), fields.catalog(session, "account"))


def subtree_pks(compiled: CompiledModel, root_pk: int) -> set[int]:
    """The pks of ``root_pk`` and every territory below it."""
    return tree.subtree({n.pk: n.parent_pk for n in compiled.territories.values()}, root_pk)


def _account_scope(session: Session, account_ids: Sequence[str] | None) -> str | None:
    if account_ids is None:
        return None
    if not account_ids:
        raise ValidationError("The account list is empty.", hint="Name at least one account id.")
    table = frames.id_table(session, pl.Series(list(account_ids), dtype=pl.String))
    missing = list(
        session.scalars(
            text(
                f"SELECT id FROM {table} WHERE id NOT IN (SELECT id FROM account) "
                "ORDER BY id LIMIT 10"
            )
        )
    )
    if missing:
        raise ValidationError(
            f"Account {'id' if len(missing) == 1 else 'ids'} not found: {', '.join(missing)}.",
            hint="Use ids as imported ('territorial export accounts' lists them).",
        )
    return f"account.id IN (SELECT id FROM {table})"


def require_assignable(model_row: TerritoryModelRow, *, hint: str | None = None) -> None:
    """Refuse to change the assignments of an archived (or transitional) model; ``hint``
    replaces the default advice (preview, or activate the model first)."""
    if model_row.state not in (ModelState.PLANNING, ModelState.ACTIVE):
        raise LifecycleError(
            f"Model {model_row.developer_name!r} is {model_row.state}; its assignments are frozen.",
            hint=hint or "Preview instead (--preview), or activate the model first.",
        )


def require_run(session: Session, row: TerritoryModelRow, *, why: str, then: str) -> None:
    """Refuse a model whose rules were never run: none of its accounts are assigned by rule
    yet (a clone or a carve copies only manual assignments), so ``why`` (what would go
    wrong: "the comparison would show their accounts as unassigned") and the hint says to
    run it, ``then`` ("compare again"). A model without active rules attached to a
    territory (manual assignments only) needs no run."""
    has_rules = session.scalar(
        select(RuleAssociationRow.pk)
        .join(RuleRow, RuleRow.pk == RuleAssociationRow.rule_pk)
        .where(RuleRow.model_pk == row.pk, RuleRow.active)
        .limit(1)
    )
    ran = session.scalar(select(RunRow.pk).where(RunRow.model_pk == row.pk).limit(1))
    if has_rules is not None and ran is None:
        raise Conflict(
            f"Model {row.developer_name!r} has never been run: its rules have assigned no "
            f"account yet, so {why}.",
            hint=f"Run it first: 'territorial run {row.developer_name}', then {then}.",
        )


def run_rules(
    ws: Workspace,
    model: str,
    *,
    territory: str | None = None,
    account_ids: Sequence[str] | None = None,
    preview: bool = False,
    on_stage: Step | None = None,
) -> RunResult:
    """Evaluate ``model``'s rules over a scope; unless ``preview``, write the difference.

    Parameters
    ----------
    territory
        Limit the run to this territory and its descendants.
    account_ids
        Limit the run to these accounts (external ids).
    preview
        Compute and report without writing anything.
    on_stage
        Called with each stage's name, for progress displays.
    """
    with ws.session() as session:
        model_row = lookup.model(session, model)
        if not preview:
            require_assignable(model_row)
        result = execute_run(
            session,
            model_row,
            actor=ws.actor,
            territory=territory,
            account_ids=account_ids,
            preview=preview,
            on_stage=on_stage,
        )
        if preview:
            session.rollback()
        return result


def execute_run(
    session: Session,
    model_row: TerritoryModelRow,
    *,
    actor: str,
    territory: str | None = None,
    account_ids: Sequence[str] | None = None,
    preview: bool = False,
    on_stage: Step | None = None,
    track_moves: bool = False,
) -> RunResult:
    """A run inside the caller's transaction (also used by model activation and imports).

    ``track_moves`` fills :attr:`RunResult.moved_accounts` (see :func:`moved_accounts`).
    """
    stage = on_stage or (lambda _name: None)
    started = time.perf_counter()
    began = audit.now()
    stage("compile")
    compiled = compile_stored(session, model_row)
    scope: dict[str, Any] = {"model": model_row.developer_name}
    territory_pks: list[int] | None = None
    if territory is not None:
        root = lookup.territory(session, model_row, territory)
        keep = subtree_pks(compiled, root.pk)
        compiled = dataclasses.replace(
            compiled, effective={k: v for k, v in compiled.effective.items() if k in keep}
        )
        territory_pks = sorted(keep)
        scope["territory"] = root.developer_name
    account_where = _account_scope(session, account_ids)
    if account_ids is not None:
        scope["accounts"] = len(account_ids)

    stage("load accounts")
    catalog = fields.catalog(session, "account")
    accounts = frames.load_accounts(
        session, catalog, required_fields(compiled), where=account_where
    )
    exclusions = frames.load_exclusions(session, model_row.pk)

    stage("match")
    computed = match(accounts, compiled, exclusions=exclusions)

    stage("compare")
    existing = frames.load_assignments(
        session,
        model_row.pk,
        cause="rule",
        territory_pks=territory_pks,
        account_where=account_where,
    )
    run_id: int | None = None
    moved = (
        moved_accounts(session, model_row.pk, computed, existing, account_where)
        if track_moves
        else None
    )
    if preview:
        added, removed = difference(computed, existing)
        n_added, n_removed = added.height, removed.height
    else:
        stage("write")
        run = RunRow(model_pk=model_row.pk, actor=actor, started_at=began, scope=scope)
        session.add(run)
        session.flush()
        run_id = run.pk
        n_added, n_removed = write_difference(
            session, model_row.pk, computed, existing, run_pk=run.pk
        )
        run.finished_at = audit.now()
        run.status = "succeeded"
        run.accounts_evaluated = accounts.height
        run.assignments_written = n_added
        run.assignments_removed = n_removed
        run.duration_ms = int((time.perf_counter() - started) * 1000)
        audit.record(
            session,
            actor=actor,
            action="model.run",
            entity="run",
            key=str(run.pk),
            model_pk=model_row.pk,
            after={**scope, "added": n_added, "removed": n_removed},
        )
    return RunResult(
        model=model_row.developer_name,
        preview=preview,
        scope=scope,
        accounts_evaluated=accounts.height,
        rule_assignments=computed.height,
        added=n_added,
        removed=n_removed,
        duration_ms=int((time.perf_counter() - started) * 1000),
        run_id=run_id,
        warnings=[str(w) for w in compiled.warnings]
        + _same_type_overlaps(session, model_row.pk, computed, account_where),
        assignments=computed,
        moved_accounts=moved,
    )


def _same_type_overlaps(
    session: Session, model_pk: int, computed: pl.DataFrame, account_where: str | None
) -> list[str]:
    """A warning when the run leaves accounts in two unrelated territories (neither an
    ancestor of the other) of the same type, by rule or by hand: allowed, but usually
    overlapping rules."""
    rows = session.execute(
        select(TerritoryRow.pk, TerritoryRow.parent_pk, TerritoryRow.type_pk).where(
            TerritoryRow.model_pk == model_pk
        )
    ).all()
    parents = {pk: parent for pk, parent, _ in rows}
    types = pl.DataFrame(
        [(pk, type_pk) for pk, _, type_pk in rows],
        schema={"territory_pk": pl.Int64, "type_pk": pl.Int64},
        orient="row",
    )
    manual = frames.load_assignments(session, model_pk, cause="manual", account_where=account_where)
    held = pl.concat(
        [computed.select("account_pk", "territory_pk"), manual.select("account_pk", "territory_pk")]
    ).unique()
    typed = held.join(types, on="territory_pk")
    shared = typed.filter(pl.len().over("account_pk", "type_pk") > 1)
    lineage = pl.DataFrame(
        [(pk, a) for pk in parents for a in tree.ancestors(parents, pk)],
        schema={"below": pl.Int64, "territory_pk": pl.Int64},
        orient="row",
    )
    # Drop every territory that is an ancestor of another the account holds of its type.
    above = shared.join(
        shared.select("account_pk", "type_pk", below="territory_pk"), on=["account_pk", "type_pk"]
    ).join(lineage, on=["below", "territory_pk"], how="semi")
    deepest = shared.join(above, on=["account_pk", "type_pk", "territory_pk"], how="anti")
    clashes = (
        deepest.group_by("account_pk", "type_pk")
        .agg(pl.col("territory_pk").sort())
        .filter(pl.col("territory_pk").list.len() > 1)
        .sort("account_pk")
    )
    if clashes.is_empty():
        return []
    account_pk, pks = clashes.select("account_pk", "territory_pk").row(0)
    names = dict(
        session.execute(
            select(TerritoryRow.pk, TerritoryRow.developer_name).where(TerritoryRow.pk.in_(pks))
        ).all()
    )
    account = session.scalar(select(Account.id).where(Account.pk == account_pk))
    return [
        f"{plural(clashes['account_pk'].n_unique(), 'account')} "
        f"{'is' if clashes['account_pk'].n_unique() == 1 else 'are'} in more than one territory of "
        "the same type "
        f"(e.g. {account} in {', '.join(names[t] for t in pks)}): usually rules that "
        "overlap. List them with 'territorial report multi'."
    ]


KEYS = ["account_pk", "territory_pk", "rule_pk"]


def difference(computed: pl.DataFrame, existing: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(to add, to remove): computed rows not stored, stored rows (with ``pk``) not computed."""
    removed = existing.join(computed, on=KEYS, how="anti", nulls_equal=True)
    added = computed.join(existing.select(KEYS), on=KEYS, how="anti", nulls_equal=True)
    return added, removed


def moved_accounts(
    session: Session,
    model_pk: int,
    computed: pl.DataFrame,
    existing: pl.DataFrame,
    account_where: str | None,
) -> pl.Series:
    """The pks of the accounts whose set of territories changes when the rule assignments
    ``existing`` (of the scope ``account_where``) become ``computed``.

    Only territories count: another recorded rule for the same territory is no move, nor is
    a rule assignment added or removed where the account is also assigned by hand.
    """
    pairs = ["account_pk", "territory_pk"]
    before, after = existing.select(pairs).unique(), computed.select(pairs).unique()
    changed = pl.concat(
        [before.join(after, on=pairs, how="anti"), after.join(before, on=pairs, how="anti")]
    )
    if not changed.is_empty():
        manual = frames.load_assignments(
            session, model_pk, cause="manual", account_where=account_where
        )
        changed = changed.join(manual.select(pairs), on=pairs, how="anti")
    return changed["account_pk"].unique().sort()


def write_difference(
    session: Session,
    model_pk: int,
    computed: pl.DataFrame,
    existing: pl.DataFrame,
    *,
    run_pk: int | None,
) -> tuple[int, int]:
    """Make the stored rule assignments in a scope equal ``computed``; (added, removed).

    ``existing`` is what is stored for that scope (from ``frames.load_assignments``).
    """
    added, removed = difference(computed, existing)
    _delete_by_pk(session, removed["pk"])
    # Changed rows were deleted above, so every added row is new: a plain bulk insert.
    bulk.insert(
        session,
        "account_assignment",
        added.with_columns(
            model_pk=pl.lit(model_pk, pl.Int64),
            cause=pl.lit("rule"),
            run_pk=pl.lit(run_pk, pl.Int64),
        ).select("model_pk", "territory_pk", "account_pk", "cause", "rule_pk", "run_pk"),
    )
    return added.height, removed.height


def _delete_by_pk(session: Session, pks: pl.Series) -> None:
    if pks.is_empty():
        return
    for start in range(0, pks.len(), 20_000):
        chunk = pks.slice(start, 20_000).to_list()
        session.execute(delete(AccountAssignmentRow).where(AccountAssignmentRow.pk.in_(chunk)))


__all__ = [
    "STAGES",
    "RunResult",
    "compile_stored",
    "difference",
    "execute_run",
    "model_input",
    "moved_accounts",
    "require_assignable",
    "require_run",
    "run_rules",
    "subtree_pks",
    "write_difference",
]
