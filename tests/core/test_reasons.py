"""Which rules a report names for a rule assignment (core.reasons)."""

from __future__ import annotations

import polars as pl

from territorial.core.reasons import rule_reasons

# Top level: NA (1) and Gov (5). NA > West (2), East (3).
PARENTS = {1: None, 2: 1, 3: 1, 5: None}
EFFECTIVE = {2: (10, 11, 20), 3: (10, 11, 30), 5: (10, 50)}
NAMES = {10: "US", 11: "Commercial", 20: "West_Carve", 30: "East_Carve", 50: "Gov", 99: "Old"}


def reasons(
    rows: list[tuple[int, int, str, int | None]], satisfied: pl.DataFrame | None = None
) -> list[list[str]]:
    links = pl.DataFrame(
        rows,
        schema={"account_pk": pl.Int64, "territory_pk": pl.Int64, "cause": pl.String,
                "rule_pk": pl.Int64},
        orient="row",
    )  # fmt: skip
    found = rule_reasons(links, PARENTS, EFFECTIVE, NAMES, satisfied=satisfied)
    assert found.height == links.height  # one row per link, in order
    return found["rules"].to_list()


def test_all_rules_name_the_one_siblings_lack_else_every_rule() -> None:
    # The rules a run records (rules.deciding): the carve rules, and US for Gov.
    assert reasons([(7, 2, "rule", 20), (7, 3, "rule", 30), (7, 5, "rule", 10)]) == [
        ["West_Carve"],
        ["East_Carve"],
        ["Gov", "US"],  # NA, its sibling, has no rules: both set Gov apart
    ]


def test_a_rule_recorded_by_an_older_run_is_named_with_the_others() -> None:
    # Runs used to record the lowest pk (US): not the rule that sets West apart, so the
    # report does not name it alone; every rule matched is named until the next run.
    assert reasons([(7, 2, "rule", 10), (8, 2, "rule", 11)]) == [
        ["Commercial", "US", "West_Carve"],
        ["Commercial", "US", "West_Carve"],
    ]


def test_manual_stale_and_deleted_rules() -> None:
    rows = [
        (7, 2, "manual", None),  # by hand: no rule
        (7, 2, "rule", 20),  # the same territory by rule too
        (8, 2, "rule", 99),  # the run's rule is no longer attached: named as stored
        (9, 3, "rule", None),  # the rule was deleted since the run
    ]
    assert reasons(rows) == [[], ["West_Carve"], ["Old"], []]


def test_any_rule_names_among_the_rules_matched() -> None:
    satisfied = pl.DataFrame({"account_pk": [7, 7, 8, 8], "rule_pk": [10, 20, 10, 11]})
    # 7 matched US and West_Carve in West: West_Carve sets West apart. 8 matched only
    # rules East shares: both are named.
    assert reasons([(7, 2, "rule", 20), (8, 2, "rule", 10)], satisfied) == [
        ["West_Carve"],
        ["Commercial", "US"],
    ]
