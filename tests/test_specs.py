"""Whole models written from data and read back: the path importers and the demo take."""

from __future__ import annotations

import dataclasses

import pytest

from territorial.core.model import (
    ModelSpec,
    Rule,
    RuleAssociation,
    RuleItem,
    Territory,
    TerritoryType,
    UserAssignment,
)
from territorial.errors import ValidationError
from territorial.services import hierarchy, models, specs
from territorial.services.workspace import Workspace


def sample_spec() -> ModelSpec:
    return ModelSpec(
        developer_name="FY27",
        name="FY27 plan",
        rule_combination="any",
        types=[TerritoryType("Region", 1), TerritoryType("Geo", 10, "Geography")],
        territories=[
            Territory("NA", "Region", "North America"),
            Territory("NA_West", "Geo", "West", parent="NA", account_access_level="Read"),
            Territory("NA_East", "Geo", "East", parent="NA", target=1.5e6),
        ],
        rules=[
            Rule("US", (RuleItem(1, "Account.BillingCountryCode", "equals", "US"),), name="US"),
            Rule(
                "West_States",
                (
                    RuleItem(1, "BillingStateCode", "equals", "CA, NV, OR"),
                    RuleItem(2, "BillingPostalCode", "startsWith", "97,98"),
                ),
                boolean_filter="1 or 2",
                name="West states",
            ),
            Rule("Dormant", (), active=False, name="Dormant"),
        ],
        associations=[
            RuleAssociation("US", "NA", inherited=True),
            RuleAssociation("West_States", "NA_West"),
        ],
        user_assignments=[UserAssignment("005A", "NA_West", "Territory Owner")],
    )


def strip_ids(spec: ModelSpec) -> ModelSpec:
    return dataclasses.replace(spec, rules=[dataclasses.replace(r, id=None) for r in spec.rules])


def test_spec_round_trips_through_the_store(org: Workspace) -> None:
    spec = sample_spec()
    info = specs.create_model_from_spec(org, spec)
    assert (info.territories, info.rules, info.state) == (3, 3, "planning")
    back = strip_ids(specs.read_spec(org, "FY27"))
    assert back.territories == spec.territories
    assert back.rules == spec.rules
    assert back.associations == spec.associations
    assert back.user_assignments == spec.user_assignments
    assert back.rule_combination == "any"
    assert {t.developer_name for t in back.types} == {"Region", "Geo"}


def test_existing_types_are_reused(org: Workspace) -> None:
    specs.create_model_from_spec(org, sample_spec())
    priorities = {t.developer_name: t.priority for t in hierarchy.list_types(org)}
    assert priorities == {"Geo": 10, "Overlay": 5, "Region": 1}  # 'Geo' kept from the org


def test_every_problem_is_listed_and_nothing_is_written(org: Workspace) -> None:
    spec = sample_spec()
    spec.territories.append(Territory("Orphan", "Geo", parent="Nowhere"))
    spec.territories.append(Territory("NA_West", "Planet"))
    spec.associations.append(RuleAssociation("Missing_Rule", "NA"))
    spec.user_assignments.append(UserAssignment("ghost@example.com", "NA", "AE"))
    with pytest.raises(ValidationError) as err:
        specs.create_model_from_spec(org, spec)
    text = str(err.value)
    for fragment in (
        "territory 'NA_West' appears more than once",
        "parent 'Nowhere' is not in the model",
        "rule 'Missing_Rule' is not in the model",
        "type 'Planet' is unknown",
        "user 'ghost@example.com' (on 'NA') is unknown",
        "Nothing was written",
    ):
        assert fragment in text
    assert [m.developer_name for m in models.list_models(org)] == ["Base"]


def test_cycles_in_a_spec_are_reported() -> None:
    spec = ModelSpec(
        "M",
        types=[TerritoryType("Geo", 1)],
        territories=[Territory("A", "Geo", parent="B"), Territory("B", "Geo", parent="A")],
    )
    assert "territory 'A': its parents form a cycle" in specs.spec_problems(spec)
