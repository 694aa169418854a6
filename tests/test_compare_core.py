"""compare_sides on frames: a user who changes territory gains and loses accounts that
themselves stay put, with their potential and pipeline."""

from __future__ import annotations

import polars as pl
import pytest

from territorial.core.compare import Side, compare_sides
from territorial.core.compare_scope import is_manager_role

TERRITORIES = pl.DataFrame(
    {"territory_pk": [1, 2], "parent_pk": [None, None], "territory": ["West", "East"],
     "name": ["West", "East"]},
    schema={"territory_pk": pl.Int64, "parent_pk": pl.Int64, "territory": pl.String,
            "name": pl.String},
)  # fmt: skip
ACCOUNTS = pl.DataFrame(
    {"account_pk": [1, 2, 3], "account": ["001A", "001B", "001C"], "name": ["A", "B", "C"],
     "potential": [10.0, 20.0, 5.0]}
)  # fmt: skip
OPPORTUNITIES = pl.DataFrame(
    {"opportunity_pk": [1], "opportunity": ["006A"], "name": ["A deal"], "account_pk": [1],
     "amount": [300.0], "stage": ["Prospecting"], "close_date": [None], "is_closed": [False]},
    schema_overrides={"close_date": pl.Date},
)  # fmt: skip


def side(pairs: list[tuple[int, int]], users: list[tuple[int, int]]) -> Side:
    links = pl.DataFrame(pairs, schema=["account_pk", "territory_pk"], orient="row")
    held = pl.DataFrame(users, schema=["territory_pk", "user_pk"], orient="row")
    opps = pl.DataFrame({"opportunity_pk": [1], "territory_pk": [pairs[0][1]]})
    return Side(
        TERRITORIES,
        links.with_columns(cause=pl.lit("rule"), rule=pl.lit("R")),
        held.with_columns(role=pl.lit("Account Executive")),
        opps,
    )


def test_user_moving_to_another_territory_gains_its_accounts_with_their_value() -> None:
    # 001A and 001C in West, 001B in East, unchanged; user 7 moves West -> East, user 8
    # stays on West; 001C also moves to East.
    before = side([(1, 1), (3, 1), (2, 2)], [(1, 7), (1, 8)])
    after = side([(1, 1), (3, 2), (2, 2)], [(2, 7), (1, 8)])
    result = compare_sides(before, after, ACCOUNTS, OPPORTUNITIES)
    users = {r["user_pk"]: r for r in result.users.to_dicts()}
    seven, eight = users[7], users[8]
    assert (seven["accounts_before"], seven["accounts_after"]) == (2, 2)
    assert (seven["gained"], seven["potential_gained"]) == (1, 20.0)  # 001B (001C stays his)
    assert (seven["lost"], seven["potential_lost"], seven["pipeline_lost"]) == (1, 10.0, 300.0)
    assert (eight["accounts_before"], eight["accounts_after"]) == (2, 1)
    assert (eight["gained"], eight["lost"], eight["potential_lost"]) == (0, 1, 5.0)
    assert result.summary["users_affected"] == 2
    assert result.accounts["account"].to_list() == ["001C"]


@pytest.mark.parametrize(
    ("role", "manager"),
    [
        ("Manager", True),
        ("Area Manager", True),
        ("Regional Sales Manager", True),
        ("Regional VP", True),
        ("SVP, Sales", True),
        ("Vice President EMEA", True),
        ("Sales Director", True),
        ("Head of Sales", True),
        ("Chief Revenue Officer", True),
        ("Director of Customer Success", True),
        ("Customer Success Manager", False),
        ("Account Manager", False),
        ("Key Account Manager", False),
        ("Partner Manager", False),
        ("Account Executive", False),
        ("Territory Owner", False),
        ("Sales Engineer", False),
        ("Headquarters Rep", False),
    ],
)
def test_manager_roles_are_people_managers_not_titles_ending_in_manager(
    role: str, manager: bool
) -> None:
    assert is_manager_role(role) is manager
    assert is_manager_role(role.upper()) is manager
