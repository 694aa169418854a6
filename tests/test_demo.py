"""The demo organisation generator: shape, determinism, realism and a coherent starter model."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from typing import Any

import polars as pl
import pytest
import zipcodes

from territorial.core.fields import STANDARD_FIELDS, FieldCatalog, FieldType
from territorial.core.model import Territory
from territorial.core.rules.compile import validate_rules
from territorial.demo import REFERENCE_DATE, DemoOrg, generate
from territorial.demo.assign import rule_assignments

OPERATORS = {
    "equals", "notEqual", "lessThan", "greaterThan", "lessOrEqual", "greaterOrEqual",
    "contains", "notContain", "startsWith", "includes", "excludes", "within",
}  # fmt: skip
DTYPES = {
    FieldType.TEXT: pl.String,
    FieldType.PICKLIST: pl.String,
    FieldType.NUMBER: pl.Float64,
    FieldType.DATE: pl.Date,
    FieldType.BOOLEAN: pl.Boolean,
}
API_NAME = re.compile(r"[A-Za-z](?:[A-Za-z0-9]|_(?!_))*(?<!_)")
SIZE = 3_000
matching: Callable[[str], list[dict[str, Any]]] = zipcodes.matching


@pytest.fixture(scope="module")
def org() -> DemoOrg:
    return generate(SIZE, seed=3)


def test_same_seed_gives_identical_frames(org: DemoOrg) -> None:
    again = generate(SIZE, seed=3)
    assert again.accounts.equals(org.accounts)
    assert again.opportunities.equals(org.opportunities)
    assert again.users.equals(org.users)
    assert again.manual_assignments.equals(org.manual_assignments)
    assert again.model == org.model


def test_other_seeds_differ(org: DemoOrg) -> None:
    assert not generate(SIZE, seed=4).accounts.equals(org.accounts)
    assert not generate(200, seed=None).accounts.equals(generate(200, seed=None).accounts)


@pytest.mark.parametrize("size", [0, 1, 150, SIZE])
def test_size_is_honoured(size: int) -> None:
    assert generate(size, seed=0).accounts.height == size


@pytest.mark.parametrize("kind", ["account", "opportunity", "user"])
def test_frames_have_the_standard_columns_and_types(org: DemoOrg, kind: str) -> None:
    frame = {"account": org.accounts, "opportunity": org.opportunities, "user": org.users}[kind]
    expected = {f.name: DTYPES[f.type] for f in STANDARD_FIELDS[kind]}
    assert dict(frame.schema) == expected


@pytest.mark.parametrize(
    ("frame", "prefix"), [("accounts", "001"), ("opportunities", "006"), ("users", "005")]
)
def test_ids_are_unique_salesforce_ids(org: DemoOrg, frame: str, prefix: str) -> None:
    ids = getattr(org, frame)["id"]
    assert ids.n_unique() == ids.len()
    assert ids.str.contains(f"^{prefix}[0-9A-Za-z]{{15}}$").all()


def test_references_point_to_existing_records(org: DemoOrg) -> None:
    accounts, users = org.accounts["id"].implode(), org.users["id"].implode()
    assert org.opportunities["account_id"].is_in(accounts).all()
    assert org.accounts["owner_id"].is_in(users).all()
    assert org.opportunities["owner_id"].is_in(users).all()
    assert org.manual_assignments["account_id"].is_in(accounts).all()


def test_about_two_thirds_of_accounts_are_in_the_us(org: DemoOrg) -> None:
    share = org.accounts.select((pl.col("billing_country_code") == "US").mean()).item()
    assert 0.62 < share < 0.72


def test_coordinates_are_plausible(org: DemoOrg) -> None:
    a = org.accounts
    assert a["latitude"].is_between(-60, 72).all()
    assert a["longitude"].is_between(-180, 180).all()
    us = a.filter(pl.col("billing_country_code") == "US")
    assert us["latitude"].is_between(18, 72).all()
    assert us["longitude"].is_between(-180, -65).all()


def test_us_accounts_sit_at_their_zip_code(org: DemoOrg) -> None:
    us = org.accounts.filter(pl.col("billing_country_code") == "US").head(150)
    for row in us.iter_rows(named=True):
        (place,) = matching(row["billing_postal_code"])
        assert (float(place["lat"]), float(place["long"])) == (row["latitude"], row["longitude"])
        assert (place["state"], place["city"]) == (row["billing_state_code"], row["billing_city"])


def test_revenue_is_heavy_tailed_and_employees_follow_it(org: DemoOrg) -> None:
    revenue = org.accounts["annual_revenue"].drop_nulls().sort(descending=True)
    top_share = revenue.head(len(revenue) // 100).to_numpy().sum() / revenue.to_numpy().sum()
    assert top_share > 0.15
    both = org.accounts.drop_nulls(["annual_revenue", "number_of_employees"])
    assert (
        both.select(
            pl.corr(pl.col("annual_revenue").log(), pl.col("number_of_employees").log())
        ).item()
        > 0.6
    )


def test_a_few_accounts_are_excluded_from_realignment() -> None:
    accounts = generate(20_000, seed=1).accounts
    share = accounts.select(pl.col("excluded_from_realign").mean()).item()
    assert 0.002 < share < 0.01


def test_opportunities_are_consistent(org: DemoOrg) -> None:
    o = org.opportunities
    assert 0.05 * SIZE < o.height < 0.3 * SIZE
    assert (o["is_closed"] == o["stage"].is_in(["Closed Won", "Closed Lost"])).all()
    assert (o["is_won"] == (o["stage"] == "Closed Won")).all()
    assert o.filter(pl.col("stage") == "Closed Won")["probability"].eq(100).all()
    assert o["close_date"].is_between(date(2025, 10, 31), date(2027, 11, 2)).all()
    assert o.filter(pl.col("close_date") > REFERENCE_DATE)["is_closed"].sum() == 0
    assert (o["amount"] > 0).all()


def test_users_are_about_sixty_sales_people(org: DemoOrg) -> None:
    users = org.users
    assert 55 <= users.height <= 70
    assert set(users["title"]) >= {
        "Account Executive",
        "Sales Engineer",
        "Customer Success Manager",
    }
    assert users["email"].n_unique() == users.height
    assert (users["capacity"] > 0).all()


# --- the starter model ---------------------------------------------------------------------


def test_developer_names_are_unique_and_valid(org: DemoOrg) -> None:
    model = org.model
    for names in (
        [t.developer_name for t in model.territories],
        [r.developer_name for r in model.rules],
        [t.developer_name for t in model.types],
    ):
        assert len(names) == len(set(names))
        assert all(API_NAME.fullmatch(name) for name in names), names


def test_references_inside_the_model_resolve(org: DemoOrg) -> None:
    model = org.model
    territories = {t.developer_name for t in model.territories}
    types = {t.developer_name for t in model.types}
    rules = {r.developer_name for r in model.rules}
    user_ids = set(org.users["id"])
    assert all(t.parent is None or t.parent in territories for t in model.territories)
    assert all(t.type in types for t in model.territories)
    assert all(a.rule in rules and a.territory in territories for a in model.associations)
    assert all(u.user in user_ids and u.territory in territories for u in model.user_assignments)
    assert set(org.manual_assignments["territory"]) <= territories
    priorities = [t.priority for t in model.types]
    assert len(priorities) > len(set(priorities))  # a duplicate priority, as real orgs have


def test_rule_items_use_known_fields_and_operators(org: DemoOrg) -> None:
    catalog = FieldCatalog.standard("account", org.custom_fields)
    for rule in org.model.rules:
        assert rule.items
        assert [i.number for i in rule.items] == list(range(1, len(rule.items) + 1))
        for item in rule.items:
            assert catalog.resolve(item.field) is not None, item
            assert item.operator in OPERATORS


def test_rules_compile_with_the_product_rule_compiler(org: DemoOrg) -> None:
    report = validate_rules(org.model.rules, FieldCatalog.standard("account", org.custom_fields))
    assert not report.errors
    assert not report.warnings


def test_negative_sizes_are_refused() -> None:
    with pytest.raises(ValueError, match="zero or more"):
        generate(-1)


# --- where the product engine puts the accounts ---------------------------------------------


@pytest.fixture(scope="module")
def assigned(org: DemoOrg) -> pl.DataFrame:
    """The model's rule assignments by the product engine, with each territory's type."""
    types = {t.developer_name: t.type for t in org.model.territories}
    found = rule_assignments(org.accounts, org.model, custom_fields=org.custom_fields)
    return found.with_columns(type=pl.col("territory").replace_strict(types))


def _leaves(org: DemoOrg) -> set[str]:
    parents = {t.parent for t in org.model.territories}
    return {t.developer_name for t in org.model.territories} - parents


def _geo_leaves(org: DemoOrg) -> list[Territory]:
    return [t for t in org.model.territories if t.type == "Geo"]


def _attached(org: DemoOrg, territory: str) -> list[str]:
    return [a.rule for a in org.model.associations if a.territory == territory]


def test_the_model_has_no_inherited_associations(org: DemoOrg) -> None:
    assert not [a for a in org.model.associations if a.inherited]


def test_every_association_targets_a_leaf_and_every_rule_is_attached(org: DemoOrg) -> None:
    leaves = _leaves(org)
    assert {a.territory for a in org.model.associations} <= leaves
    assert {a.rule for a in org.model.associations} == {r.developer_name for r in org.model.rules}
    ruled = {t.developer_name for t in org.model.territories if t.type in ("Geo", "Overlay")}
    assert {a.territory for a in org.model.associations} == ruled & leaves


def test_shared_rules_are_attached_to_many_leaves(org: DemoOrg) -> None:
    parents = {t.developer_name: t.parent for t in org.model.territories}
    for leaf in _geo_leaves(org):
        segment = str(leaf.parent)
        if parents[segment] in ("NA_West", "NA_Central", "NA_East"):
            revenue = segment.rsplit("_", 1)[1]  # Enterprise or Commercial
            expected = ["US_Accounts", f"{revenue}_Revenue", f"{leaf.developer_name}_Rule"]
            assert _attached(org, leaf.developer_name) == expected
    uses = pl.Series([a.rule for a in org.model.associations]).value_counts()
    assert dict(uses.filter(pl.col("count") > 1).iter_rows()) == {
        "US_Accounts": 25,  # and US Public Sector
        "Commercial_Revenue": 18,
        "Enterprise_Revenue": 6,
        "Canada_Accounts": 2,
        "Financial_Industries": 2,
    }


def test_geo_leaves_are_the_leaves_of_the_regions(org: DemoOrg) -> None:
    geo = {t.developer_name for t in _geo_leaves(org)}
    assert geo and geo <= _leaves(org)
    assert all(_attached(org, name) for name in geo)


def test_no_territory_above_the_leaves_gets_rule_assignments(
    org: DemoOrg, assigned: pl.DataFrame
) -> None:
    above = set(assigned["territory"]) - _leaves(org)
    assert not above, f"regions, areas or segments with rule assignments: {sorted(above)}"


def test_nearly_every_account_lands_in_exactly_one_geo_leaf(assigned: pl.DataFrame) -> None:
    per_account = assigned.filter(pl.col("type") == "Geo").group_by("row").len()
    assert per_account["len"].max() == 1
    assert per_account.height / SIZE >= 0.97


def test_overlays_catch_some_accounts_and_none_twice(org: DemoOrg, assigned: pl.DataFrame) -> None:
    overlay = assigned.filter(pl.col("type") == "Overlay")
    assert overlay.group_by("row").len()["len"].max() == 1
    counts = dict(overlay.group_by("territory").len().iter_rows())
    for territory in (t for t in org.model.territories if t.type == "Overlay" and t.parent):
        assert 0 < counts.get(territory.developer_name, 0) < SIZE * 0.2, territory


def test_accounts_are_owned_by_their_geo_leaf(org: DemoOrg, assigned: pl.DataFrame) -> None:
    owners = {
        u.territory: u.user for u in org.model.user_assignments if u.role == "Territory Owner"
    }
    geo = assigned.filter(pl.col("type") == "Geo", pl.col("territory").is_in(list(owners)))
    expected = geo["territory"].replace_strict(owners)
    actual = org.accounts["owner_id"].gather(geo["row"])
    assert (expected == actual).sum() > 0.9 * geo.height


def test_named_accounts_are_big_and_owned_by_the_named_rep(org: DemoOrg) -> None:
    named = org.manual_assignments.join(org.accounts, left_on="account_id", right_on="id")
    assert named.height >= 6
    threshold = org.accounts["annual_revenue"].quantile(0.99)
    assert threshold is not None
    assert (named["annual_revenue"] >= threshold).all()
    owners = {
        (u.territory, u.user) for u in org.model.user_assignments if u.role == "Territory Owner"
    }
    assert all((t, o) in owners for t, o in named.select("territory", "owner_id").iter_rows())


def test_every_geo_leaf_but_the_vacant_ones_has_an_owner(org: DemoOrg) -> None:
    owned = {u.territory for u in org.model.user_assignments if u.role == "Territory Owner"}
    vacant = [t.developer_name for t in _geo_leaves(org) if t.developer_name not in owned]
    assert 0 < len(vacant) <= 3


def test_output_is_pinned_for_a_fixed_seed() -> None:
    first = generate(5, seed=0).accounts.row(1, named=True)
    assert (first["id"], first["name"], first["billing_city"], first["billing_postal_code"]) == (
        "0015g002on5FQ58AAG",
        "Pioneer Labs Corp.",
        "Los Angeles",
        "90014",
    )


def test_rule_assignments_are_pinned_for_a_fixed_seed(org: DemoOrg, assigned: pl.DataFrame) -> None:
    counts = dict(assigned.group_by("territory").len().iter_rows())
    pinned = ("CA_Bay_Area", "West_Ent_Pacific", "Canada_East", "UK_London", "Japan_East")
    assert {name: counts[name] for name in pinned} == {
        "CA_Bay_Area": 21,
        "West_Ent_Pacific": 7,
        "Canada_East": 95,
        "UK_London": 83,
        "Japan_East": 37,
    }
    assert (counts["Financial_Services_NA"], counts["Healthcare_Life_Sciences"]) == (320, 120)
    assert assigned.height == 3669
