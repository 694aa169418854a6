"""Importing opportunities, users, user-territory assignments and manual account assignments."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from data_helpers import make_model, write
from territorial.errors import InputFileError, NotFound, ValidationError
from territorial.services.assignments import assign_account, assign_user
from territorial.services.fields import list_fields
from territorial.services.imports import (
    import_accounts,
    import_opportunities,
    import_users,
)
from territorial.services.links import import_assignments, import_user_territories
from territorial.services.models import activate_model
from territorial.services.opportunities import assign_model_opportunities
from territorial.services.workspace import Workspace
from territorial.store.schema import (
    AccountAssignmentRow,
    Opportunity,
    OpportunityTerritoryRow,
    SalesUser,
    TerritoryRow,
    UserAssignmentRow,
)


@pytest.fixture
def seeded(ws: Workspace, tmp_path: Path) -> Workspace:
    import_accounts(ws, write(tmp_path, "a.csv", "id,name\nA1,Acme\nA2,Globex\n"))
    import_users(
        ws,
        write(tmp_path, "u.csv", "Id,Name,Email,Title\nU1,Ann,ann@example.com,AE\nU2,Bob,,SE\n"),
    )
    make_model(ws)
    return ws


def test_opportunities_reference_accounts_by_external_id(seeded: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "o.csv",
        "Id,AccountId,Name,Amount,CloseDate,IsClosed,IsWon,StageName,Account.Name,Territory2Id\n"
        "O1,A1,Big deal,5000,2026-01-31T00:00:00.000+0000,TRUE,0,Closed Won,Acme,0MI\n"
        "O2,A2,Small deal,,,,,,Globex,\n",
    )
    result = import_opportunities(seeded, path)
    assert (result.inserted, result.updated) == (2, 0)
    assert set(result.ignored_columns) == {"Account.Name", "Territory2Id"}
    with seeded.session() as session:
        rows = {o.id: o for o in session.scalars(select(Opportunity))}
        o1 = rows["O1"]
        assert (o1.close_date, o1.is_closed, o1.is_won, o1.stage) == (
            date(2026, 1, 31),
            True,
            False,
            "Closed Won",
        )
        assert rows["O2"].amount is None and rows["O2"].is_closed is False


def opportunity_territories(ws: Workspace) -> dict[str, str | None]:
    """Each opportunity's territory (developer name) in the active model FY27."""
    with ws.session() as session:
        rows = session.execute(
            select(Opportunity.id, TerritoryRow.developer_name)
            .outerjoin(
                OpportunityTerritoryRow, OpportunityTerritoryRow.opportunity_pk == Opportunity.pk
            )
            .outerjoin(TerritoryRow, TerritoryRow.pk == OpportunityTerritoryRow.territory_pk)
        )
        return {opportunity: territory for opportunity, territory in rows}


def test_imported_opportunities_get_their_territory_in_the_active_model(
    seeded: Workspace, tmp_path: Path
) -> None:
    assign_account(seeded, "FY27", "A1", "West")
    assign_account(seeded, "FY27", "A2", "East")
    activate_model(seeded, "FY27")
    text = (
        "Id,AccountId,Name,IsClosed,IsExcludedFromTerritory2Filter\n"
        "O1,A1,Open deal,false,false\nO2,A2,Closed deal,true,false\n"
        "O3,A1,Excluded deal,false,true\nO4,A2,Another,,\n"
    )
    result = import_opportunities(seeded, write(tmp_path, "o.csv", text))
    assert (result.assigned_in, result.assignments_added) == ("FY27", 2)
    assert "territories in FY27: 2 newly assigned, 0 moved, 0 unassigned" in result.summary()
    # Open ones at once; closed and excluded ones are left to 'opportunities assign'.
    assert opportunity_territories(seeded) == {"O1": "West", "O2": None, "O3": None, "O4": "East"}
    preview = assign_model_opportunities(seeded, "FY27", open_only=True, preview=True)
    assert preview.changed == 0

    moved = write(tmp_path, "o2.csv", text.replace("O1,A1", "O1,A2"))
    result = import_opportunities(seeded, moved)
    assert (result.updated, result.unchanged, result.assignments_moved) == (1, 3, 1)
    assert opportunity_territories(seeded)["O1"] == "East"

    new = write(tmp_path, "o3.csv", "Id,AccountId,Name\nO5,A1,Later\n")
    assert import_opportunities(seeded, new, assign=False).assigned_in is None
    assert opportunity_territories(seeded)["O5"] is None

    # An open opportunity of an account in no territory is said to have none.
    import_accounts(seeded, write(tmp_path, "a3.csv", "id,name\nA3,Initech\n"))
    orphan = import_opportunities(seeded, write(tmp_path, "o4.csv", "Id,AccountId,Name\nO6,A3,x\n"))
    assert orphan.without_territory == 1
    assert "1 open opportunity has no territory (their account is in none" in orphan.summary()


def test_unknown_account_reference_lists_rows(seeded: Workspace, tmp_path: Path) -> None:
    path = write(tmp_path, "o.csv", "id,account_id,name\nO1,A1,x\nO2,NOPE,y\nO3,GONE,z\n")
    with pytest.raises(InputFileError) as err:
        import_opportunities(seeded, path)
    text = str(err.value)
    for fragment in (
        "o.csv",
        "row 3",
        "row 4",
        "'account_id'",
        "'NOPE' not found",
        "import the account first",
    ):
        assert fragment in text
    with seeded.session() as session:
        assert session.scalars(select(Opportunity)).first() is None


def test_opportunity_requires_account_id(seeded: Workspace, tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="missing required column 'account_id'"):
        import_opportunities(seeded, write(tmp_path, "o.csv", "id,name\nO1,x\n"))


def test_users_upsert(seeded: Workspace, tmp_path: Path) -> None:
    result = import_users(
        seeded, write(tmp_path, "u2.csv", "id,name,capacity\nU2,Bob B,40\nU3,Cy,\n")
    )
    assert (result.inserted, result.updated) == (1, 1)
    with seeded.session() as session:
        bob = session.scalars(select(SalesUser).where(SalesUser.id == "U2")).one()
        assert (bob.name, bob.title, bob.capacity) == ("Bob B", "SE", 40)


def test_impossible_homes_and_capacities_are_refused(seeded: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "u9.csv",
        "id,name,home_latitude,home_longitude,capacity\n"
        "U8,Far,200,-100,1\nU9,Negative,40,-100,-1\nU10,Zero,40,-100,0\nU11,Half,40,-190,0.5\n",
    )
    with pytest.raises(InputFileError) as info:
        import_users(seeded, path)
    text = str(info.value)
    assert "row 2, column 'home_latitude': 200.0 is out of range" in text
    assert "row 3, column 'capacity': -1.0 is out of range" in text
    assert "row 4, column 'capacity': 0.0 is out of range" in text
    assert "row 5, column 'home_longitude': -190.0 is out of range" in text
    with seeded.session() as session:  # nothing written
        assert session.scalar(select(SalesUser).where(SalesUser.id == "U11")) is None


def test_salesforce_user_ids_and_codes_are_created_as_text(
    seeded: Workspace, tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        "User_extract.csv",
        "Id,Name,ProfileId,UserRoleId,Code__c,Quota__c\n"
        "U7,Di,00e000000000001,00E000000000001,007,1500.5\n"
        "U8,Ed,00e000000000002,001e00000000001,012,-20\n",
    )
    result = import_users(seeded, path, create_fields=True)
    types = {f.name: f.type.value for f in result.created_fields}
    assert types == {
        "ProfileId": "text",
        "UserRoleId": "text",
        "Code__c": "text",
        "Quota__c": "number",
    }
    with seeded.session() as session:
        custom = {
            u.id: u.custom
            for u in session.scalars(select(SalesUser).where(SalesUser.id.in_(["U7", "U8"])))
        }
    assert custom["U7"] == {
        "ProfileId": "00e000000000001",
        "UserRoleId": "00E000000000001",
        "Code__c": "007",
        "Quota__c": 1500.5,
    }
    assert custom["U8"] is not None and custom["U8"]["UserRoleId"] == "001e00000000001"


def test_ignore_unknown_skips_salesforce_standard_columns(
    seeded: Workspace, tmp_path: Path
) -> None:
    users = write(
        tmp_path,
        "User_extract.csv",
        "Id,Name,Email,IsActive,ProfileId,UserRoleId,CreatedDate\n"
        "U9,Flo,flo@example.com,true,00e000000000001,00E000000000001,2024-01-01\n",
    )
    result = import_users(seeded, users, ignore_unknown=True)
    assert (result.inserted, result.unknown_columns) == (1, ("IsActive", "ProfileId", "UserRoleId"))
    assert result.ignored_columns == ("CreatedDate",)
    [warning] = result.warnings
    assert "'IsActive', 'ProfileId', 'UserRoleId'" in warning and "User_extract.csv" in warning
    with seeded.session() as session:
        flo = session.scalars(select(SalesUser).where(SalesUser.id == "U9")).one()
    assert (flo.email, flo.custom) == ("flo@example.com", None)
    assert not [f for f in list_fields(seeded, "user") if f.custom]

    opportunities = write(
        tmp_path,
        "Opportunity_extract.csv",
        "Id,AccountId,Name,StageName,ForecastCategoryName,Type,LeadSource\n"
        "O9,A1,Renewal,Prospecting,Pipeline,Existing Business,Web\n",
    )
    result = import_opportunities(seeded, opportunities, ignore_unknown=True)
    assert result.inserted == 1
    assert result.unknown_columns == ("ForecastCategoryName", "Type", "LeadSource")


def test_ignore_unknown_and_create_fields_exclude_each_other(
    seeded: Workspace, tmp_path: Path
) -> None:
    path = write(tmp_path, "u.csv", "Id,Name,IsActive\nU9,Flo,true\n")
    with pytest.raises(ValidationError, match=r"--create-fields .* --ignore-unknown"):
        import_users(seeded, path, create_fields=True, ignore_unknown=True)


def user_links(ws: Workspace) -> set[tuple[str, str, str]]:
    with ws.session() as session:
        rows = session.execute(
            select(SalesUser.id, TerritoryRow.developer_name, UserAssignmentRow.role)
            .join(SalesUser, SalesUser.pk == UserAssignmentRow.user_pk)
            .join(TerritoryRow, TerritoryRow.pk == UserAssignmentRow.territory_pk)
        )
        return {(u, t, r) for u, t, r in rows}


def test_user_territories_with_salesforce_names(seeded: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "ut.csv",
        "Id,UserId,Territory2Id,RoleInTerritory2\n"
        "0R0,U1,West,Territory Owner\n0R1,ann@example.com,East Coast,AE\n",
    )
    result = import_user_territories(seeded, path, model="FY27")
    assert (result.inserted, result.updated) == (2, 0)
    assert user_links(seeded) == {("U1", "West", "Territory Owner"), ("U1", "East", "AE")}
    again = write(tmp_path, "ut2.csv", "user,territory,role\nU1,west,Manager\nU2,East,\n")
    result = import_user_territories(seeded, again, model="FY27")
    assert (result.inserted, result.updated) == (1, 1)
    assert ("U1", "West", "Manager") in user_links(seeded)
    assert ("U2", "East", "") in user_links(seeded)


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("user,territory,role\nU9,West,AE\n", ["row 2", "'user'", "'U9' not found"]),
        ("user,territory,role\nU1,Nowhere,AE\n", ["row 2", "'Nowhere' not found in the model"]),
        ("user,territory,role\nU1,West,AE\nU1,West,SE\n", ["appears more than once", "rows 2, 3"]),
        ("user,role\nU1,AE\n", ["missing required column 'territory'"]),
        ("user,territory,colour\nU1,West,red\n", ["'colour'", "unknown column"]),
        ("user,territory\n,West\n", ["row 2", "is empty"]),
    ],
)
def test_bad_user_territory_files(
    seeded: Workspace, tmp_path: Path, text: str, fragments: list[str]
) -> None:
    with pytest.raises(InputFileError) as err:
        import_user_territories(seeded, write(tmp_path, "ut.csv", text), model="FY27")
    for fragment in ["ut.csv", *fragments]:
        assert fragment in str(err.value)
    assert user_links(seeded) == set()


def test_unknown_model_is_not_found(seeded: Workspace, tmp_path: Path) -> None:
    with pytest.raises(NotFound):
        import_assignments(
            seeded, write(tmp_path, "m.csv", "account,territory\nA1,West\n"), model="FY99"
        )


def manual(ws: Workspace) -> set[tuple[int, int]]:
    with ws.session() as session:
        rows = session.execute(
            select(AccountAssignmentRow.account_pk, AccountAssignmentRow.territory_pk).where(
                AccountAssignmentRow.cause == "manual"
            )
        )
        return {(a, t) for a, t in rows}


def test_manual_assignments_skip_rule_rows(seeded: Workspace, tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "m.csv",
        "ObjectId,Territory2Id,AssociationCause,SobjectType\n"
        "A1,West,Territory2Manual,Account\nA2,East,Territory2AssignmentRule,Account\n"
        "A2,West Coast,,Account\n",
    )
    result = import_assignments(seeded, path, model="FY27")
    assert (result.rows, result.inserted, result.updated, result.skipped) == (3, 2, 0, 1)
    assert len(manual(seeded)) == 2
    again = import_assignments(seeded, path, model="FY27")
    assert (again.inserted, again.updated, again.unchanged, again.skipped) == (0, 0, 2, 1)
    assert len(manual(seeded)) == 2


@pytest.mark.parametrize(
    ("text", "fragments"),
    [
        ("account,territory\nA9,West\n", ["row 2", "'A9' not found"]),
        ("account,territory\nA1,Mars\n", ["row 2", "'Mars' not found"]),
        ("account,territory,cause\nA1,West,magic\n", ["row 2", "unknown cause 'magic'"]),
        ("territory\nWest\n", ["missing required column 'account'"]),
    ],
)
def test_bad_assignment_files(
    seeded: Workspace, tmp_path: Path, text: str, fragments: list[str]
) -> None:
    with pytest.raises(InputFileError) as err:
        import_assignments(seeded, write(tmp_path, "m.csv", text), model="FY27")
    for fragment in ["m.csv", *fragments]:
        assert fragment in str(err.value)
    assert manual(seeded) == set()


@pytest.mark.parametrize(
    ("key", "user"),
    [("U1", "U1"), ("ANN@Example.COM", "U1"), (" ann@example.com ", "U1"), ("Bob", "U2"),
     ("u1", None), ("bob", None)],
)  # fmt: skip
def test_user_territories_find_users_as_user_assign_does(
    seeded: Workspace, tmp_path: Path, key: str, user: str | None
) -> None:
    """A user is found by id, email in any case or exact name, in a file as on the command
    line ('territorial user assign'); an id or a name in another case is not theirs."""
    path = write(tmp_path, "ut.csv", f"user,territory,role\n{key},West,AE\n")
    if user is None:
        with pytest.raises(InputFileError, match=f"row 2, column 'user': user '{key}' not found"):
            import_user_territories(seeded, path, model="FY27")
        with pytest.raises(NotFound):
            assign_user(seeded, "FY27", key, "East", role="AE")
        return
    import_user_territories(seeded, path, model="FY27")
    assign_user(seeded, "FY27", key, "East", role="SE")
    assert user_links(seeded) == {(user, "West", "AE"), (user, "East", "SE")}
