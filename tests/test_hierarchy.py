"""The territory hierarchy: moves, cycles, removal, types, access levels, users, accounts."""

from __future__ import annotations

import pytest

from territorial.errors import Conflict, NotFound, ValidationError
from territorial.services import assignments, hierarchy, models
from territorial.services.workspace import Workspace


def parents(ws: Workspace, model: str = "Base") -> dict[str, str | None]:
    return {n.developer_name: n.parent for n in hierarchy.tree(ws, model)}


def test_tree_is_depth_first_with_depths(org: Workspace) -> None:
    assert [(n.developer_name, n.depth) for n in hierarchy.tree(org, "Base")] == [
        ("NA", 0),
        ("East", 1),
        ("West", 1),
    ]


def test_move_reparents_subtree(org: Workspace) -> None:
    hierarchy.add_territory(org, "Base", "Bay Area", type="Geo", parent="West")
    hierarchy.move_territory(org, "Base", "West", "East")
    assert parents(org) == {"NA": None, "East": "NA", "West": "East", "Bay_Area": "West"}
    hierarchy.move_territory(org, "Base", "West", None)
    assert parents(org)["West"] is None


@pytest.mark.parametrize(
    ("territory", "new_parent"),
    [("NA", "NA"), ("NA", "West"), ("West", "Bay_Area")],
    ids=["itself", "child", "grandchild"],
)
def test_move_that_makes_a_cycle_is_refused(
    org: Workspace, territory: str, new_parent: str
) -> None:
    hierarchy.add_territory(org, "Base", "Bay Area", type="Geo", parent="West")
    before = parents(org)
    with pytest.raises(Conflict, match="would make a cycle"):
        hierarchy.move_territory(org, "Base", territory, new_parent)
    assert parents(org) == before


def test_move_across_models_is_refused(org: Workspace) -> None:
    models.clone_model(org, "Base", "Other")
    with org.session() as s:
        from territorial.services import lookup

        base, other = lookup.model(s, "Base"), lookup.model(s, "Other")
        west = lookup.territory(s, base, "West")
        other_na = lookup.territory(s, other, "NA")
        with pytest.raises(Conflict, match="different models"):
            hierarchy.reparent(s, west, other_na)


def test_remove_refuses_parent_unless_subtree(org: Workspace) -> None:
    assignments.assign_account(org, "Base", "001A", "West")
    assignments.assign_account(org, "Base", "001B", "NA")
    with pytest.raises(Conflict, match="has 2 child territories"):
        hierarchy.remove_territory(org, "Base", "NA")
    assert hierarchy.remove_territory(org, "Base", "NA", subtree=True) == 3
    assert hierarchy.tree(org, "Base") == []
    assert models.show_model(org, "Base").assigned_accounts == 0  # assignments went too


def test_removing_a_territory_keeps_other_assignments(org: Workspace) -> None:
    assignments.assign_account(org, "Base", "001A", "West")
    assignments.assign_account(org, "Base", "001B", "East")
    hierarchy.remove_territory(org, "Base", "West")
    assert models.show_model(org, "Base").assigned_accounts == 1


def test_rename_keeps_developer_name_unless_asked(org: Workspace) -> None:
    hierarchy.rename_territory(org, "Base", "West", "Pacific")
    assert {n.developer_name: n.name for n in hierarchy.tree(org, "Base")}["West"] == "Pacific"
    hierarchy.rename_territory(org, "Base", "West", "Pacific", developer_name="Pacific")
    assert "Pacific" in parents(org)


def test_lookups_accept_label_or_developer_name_any_case(org: Workspace) -> None:
    hierarchy.add_territory(org, "base", "Bay Area", type="geo", parent="north america")
    assert parents(org)["Bay_Area"] == "NA"


def test_unknown_names_say_what_is_missing(org: Workspace) -> None:
    with pytest.raises(NotFound, match="territory 'Mars' not found"):
        hierarchy.add_territory(org, "Base", "X", type="Geo", parent="Mars")
    with pytest.raises(NotFound, match="type 'Planet' not found"):
        hierarchy.add_territory(org, "Base", "X", type="Planet")


def test_duplicate_type_priorities_are_allowed(ws: Workspace) -> None:
    hierarchy.add_type(ws, "Geo", priority=10)
    hierarchy.add_type(ws, "Named", priority=10)
    assert [(t.developer_name, t.priority) for t in hierarchy.list_types(ws)] == [
        ("Geo", 10),
        ("Named", 10),
    ]


def test_access_levels_are_validated(org: Workspace) -> None:
    with pytest.raises(ValidationError, match="Unknown access level 'Write'"):
        hierarchy.add_territory(org, "Base", "X", type="Geo", access_levels={"account": "Write"})


def test_user_roles_differ_by_territory_and_team_selling(org: Workspace) -> None:
    assignments.assign_user(org, "Base", "005A", "West", role="Territory Owner")
    assignments.assign_user(org, "Base", "ana@example.com", "East", role="Sales Engineer")
    assignments.assign_user(org, "Base", "Bo Chen", "West", role="Customer Success Manager")
    assignments.assign_account(org, "Base", "001A", "West")
    assignments.assign_account(org, "Base", "001A", "East")
    team = assignments.account_team(org, "001A", model="Base")
    assert [(m.territory, m.user_id, m.role) for m in team] == [
        ("East", "005A", "Sales Engineer"),
        ("West", "005B", "Customer Success Manager"),
        ("West", "005A", "Territory Owner"),
    ]
    assignments.assign_user(org, "Base", "005A", "West", role="Manager")  # change the role
    roles = {(u.user_id, u.territory): u.role for u in assignments.user_territories(org, "Base")}
    assert roles[("005A", "West")] == "Manager"


def test_manual_assignment_and_exclusion_round_trip(org: Workspace) -> None:
    assignments.assign_account(org, "Base", "001A", "West")
    with pytest.raises(Conflict, match="already assigned"):
        assignments.assign_account(org, "Base", "001A", "West")
    assignments.unassign_account(org, "Base", "001A", "West")
    with pytest.raises(NotFound, match="manual assignment"):
        assignments.unassign_account(org, "Base", "001A", "West")
    assignments.exclude_account(org, "Base", "001A", "West")
    with pytest.raises(Conflict, match="already excluded"):
        assignments.exclude_account(org, "Base", "001A", "West")
    assignments.include_account(org, "Base", "001A", "West")


@pytest.mark.parametrize(
    ("territories", "expected"),
    [
        (["West"], "No users: 001A is in West, which has no users assigned"),
        (["East", "West"], "No users: 001A is in East, West, which have no users assigned"),
        ([], "No users: 001A is in no territory of Base ('territorial explain 001A'"),
    ],
)
def test_account_team_says_why_nobody_works_the_account(
    org: Workspace, db_url: str, territories: list[str], expected: str
) -> None:
    from typer.testing import CliRunner

    from territorial.cli.app import app

    for territory in territories:
        assignments.assign_account(org, "Base", "001A", territory)
    args = ["--database", db_url, "account", "team", "Acme", "--model", "Base"]
    out = CliRunner().invoke(app, args)
    assert out.exit_code == 0, out.output
    assert out.stdout == "" and " ".join(out.stderr.split()).startswith(expected)
    out = CliRunner().invoke(app, ["--database", db_url, "--format", "csv", *args[2:]])
    assert out.stdout == "user_id,user_name,role,territory,territory_name\n"
