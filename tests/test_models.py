"""Model lifecycle: one active model, atomic activation, clone contents, roll back, delete."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from territorial.errors import Conflict, LifecycleError, NotFound, ValidationError
from territorial.services import assignments, audit, hierarchy, models
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    ExclusionRow,
    RuleAssociationRow,
    RuleItemRow,
    RuleRow,
    TerritoryModelRow,
    TerritoryRow,
)


def states(ws: Workspace) -> dict[str, str]:
    return {m.developer_name: m.state for m in models.list_models(ws)}


def test_create_derives_developer_name_and_starts_planning(ws: Workspace) -> None:
    info = models.create_model(ws, "FY27 Plan — West")
    assert (info.developer_name, info.state, info.rule_combination) == (
        "FY27_Plan_West",
        "planning",
        "all",
    )


def test_duplicate_model_name_is_refused(ws: Workspace) -> None:
    models.create_model(ws, "FY27")
    with pytest.raises(Conflict, match="already exists"):
        models.create_model(ws, "fy27")


def test_exactly_one_active_model_and_previous_is_archived(ws: Workspace) -> None:
    for name in ("A", "B", "C"):
        models.create_model(ws, name)
    models.activate_model(ws, "A")
    models.activate_model(ws, "B")
    assert states(ws) == {"B": "active", "A": "archived", "C": "planning"}
    models.activate_model(ws, "A")  # roll back to the archived model
    assert states(ws) == {"A": "active", "B": "archived", "C": "planning"}


def test_activation_is_atomic_when_a_step_fails(ws: Workspace) -> None:
    models.create_model(ws, "Old")
    models.create_model(ws, "New")
    models.activate_model(ws, "Old")

    def failing_step(*_args: object) -> None:
        raise RuntimeError("assignment job failed")

    models.ACTIVATION_STEPS.append(failing_step)
    try:
        with pytest.raises(RuntimeError):
            models.activate_model(ws, "New")
    finally:
        models.ACTIVATION_STEPS.remove(failing_step)
    assert states(ws) == {"Old": "active", "New": "planning"}


def test_cannot_activate_active_or_delete_active(ws: Workspace) -> None:
    models.create_model(ws, "A")
    models.activate_model(ws, "A")
    with pytest.raises(LifecycleError, match="already active"):
        models.activate_model(ws, "A")
    with pytest.raises(LifecycleError, match="active and cannot be deleted"):
        models.delete_model(ws, "A")


def test_archived_model_is_read_only_but_can_be_reactivated(org: Workspace) -> None:
    models.archive_model(org, "Base")
    with pytest.raises(LifecycleError, match="archived and cannot be changed"):
        hierarchy.add_territory(org, "Base", "South", type="Geo", parent="NA")
    models.activate_model(org, "Base")
    hierarchy.add_territory(org, "Base", "South", type="Geo", parent="NA")
    assert models.show_model(org, "Base").territories == 4


def test_delete_removes_model_and_its_contents(org: Workspace) -> None:
    assignments.assign_account(org, "Base", "001A", "West")
    models.delete_model(org, "Base")
    with org.session() as s:
        assert s.scalar(select(func.count()).select_from(TerritoryRow)) == 0
        assert s.scalar(select(func.count()).select_from(AccountAssignmentRow)) == 0
    with pytest.raises(NotFound):
        models.show_model(org, "Base")


def _add_rule(ws: Workspace, territory: str, *, inherited: bool) -> None:
    with ws.session() as s:
        model = s.scalar(
            select(TerritoryModelRow).where(TerritoryModelRow.developer_name == "Base")
        )
        assert model is not None
        terr = s.scalar(
            select(TerritoryRow).where(
                TerritoryRow.model_pk == model.pk, TerritoryRow.developer_name == territory
            )
        )
        assert terr is not None
        rule = RuleRow(
            model_pk=model.pk, developer_name=f"R_{territory}", name="r", boolean_filter="1 OR 2"
        )
        s.add(rule)
        s.flush()
        s.add_all(
            [
                RuleItemRow(
                    rule_pk=rule.pk,
                    number=1,
                    field="BillingStateCode",
                    operator="equals",
                    value="CA,NV",
                ),
                RuleItemRow(
                    rule_pk=rule.pk,
                    number=2,
                    field="BillingStateCode",
                    operator="equals",
                    value="OR",
                ),
                RuleAssociationRow(rule_pk=rule.pk, territory_pk=terr.pk, inherited=inherited),
            ]
        )
        s.add(
            AccountAssignmentRow(
                model_pk=model.pk, territory_pk=terr.pk, account_pk=3, cause="rule", rule_pk=rule.pk
            )
        )


def test_clone_copies_everything_design_lists_but_not_rule_assignments(org: Workspace) -> None:
    _add_rule(org, "West", inherited=True)
    assignments.assign_user(org, "Base", "ana@example.com", "West", role="Territory Owner")
    assignments.assign_account(org, "Base", "001A", "East")
    assignments.exclude_account(org, "Base", "001B", "West")

    info = models.clone_model(org, "Base", "Plan")

    assert (info.state, info.territories, info.rules, info.cloned_from) == (
        "planning",
        3,
        1,
        "Base",
    )
    tree = {n.developer_name: n.parent for n in hierarchy.tree(org, "Plan")}
    assert tree == {"NA": None, "West": "NA", "East": "NA"}
    assert [
        (u.user_id, u.territory, u.role) for u in assignments.user_territories(org, "Plan")
    ] == [("005A", "West", "Territory Owner")]
    with org.session() as s:
        plan = s.scalar(select(TerritoryModelRow).where(TerritoryModelRow.developer_name == "Plan"))
        assert plan is not None
        plan_territories = select(TerritoryRow.pk).where(TerritoryRow.model_pk == plan.pk)
        rows = s.execute(
            select(AccountAssignmentRow.cause, TerritoryRow.developer_name)
            .join(TerritoryRow, TerritoryRow.pk == AccountAssignmentRow.territory_pk)
            .where(AccountAssignmentRow.model_pk == plan.pk)
        ).all()
        assert rows == [("manual", "East")]  # the rule assignment is left to a run
        assert (
            s.scalar(
                select(func.count())
                .select_from(ExclusionRow)
                .where(ExclusionRow.territory_pk.in_(plan_territories))
            )
            == 1
        )
        rule = s.scalar(select(RuleRow).where(RuleRow.model_pk == plan.pk))
        assert rule is not None and rule.boolean_filter == "1 OR 2"
        items = s.scalars(select(RuleItemRow).where(RuleItemRow.rule_pk == rule.pk)).all()
        assert [(i.number, i.value) for i in sorted(items, key=lambda i: i.number)] == [
            (1, "CA,NV"),
            (2, "OR"),
        ]
        assoc = s.scalar(select(RuleAssociationRow).where(RuleAssociationRow.rule_pk == rule.pk))
        assert assoc is not None and assoc.inherited
        assert s.get(TerritoryRow, assoc.territory_pk).model_pk == plan.pk  # type: ignore[union-attr]


def test_cli_clone_says_a_run_comes_next(org: Workspace, db_url: str) -> None:
    from typer.testing import CliRunner

    from territorial.cli.app import app

    out = CliRunner().invoke(app, ["--database", db_url, "model", "clone", "Base", "FY28 Plan"])
    assert out.exit_code == 0, out.output
    status = " ".join(out.stderr.split())
    assert status.startswith("Cloned Base into planning model FY28_Plan: 3 territories, 0 rules.")
    assert "Next: 'territorial run FY28_Plan'" in status


def test_clone_leaves_source_untouched(org: Workspace) -> None:
    assignments.assign_account(org, "Base", "001A", "East")
    models.clone_model(org, "Base", "Plan")
    hierarchy.remove_territory(org, "Plan", "East")
    assert models.show_model(org, "Base").territories == 3
    assert models.show_model(org, "Base").assigned_accounts == 1


def test_rule_combination_setting(ws: Workspace) -> None:
    models.create_model(ws, "M")
    assert models.set_rule_combination(ws, "M", "any").rule_combination == "any"
    with pytest.raises(ValidationError, match="'all' or 'any'"):
        models.set_rule_combination(ws, "M", "most")  # type: ignore[arg-type]


def test_every_change_is_audited_with_actor(org: Workspace) -> None:
    models.clone_model(org, "Base", "Plan")
    models.activate_model(org, "Plan")
    with org.session() as s:
        log = [(e.actor, e.action, e.entity_key) for e in audit.entries(s, limit=3)]
    assert log == [
        ("tester", "model.activate", "Plan"),
        ("tester", "opportunities.assign", "Plan"),
        ("tester", "model.run", "1"),
    ]
