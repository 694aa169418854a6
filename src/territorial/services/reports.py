"""Territory reports of one model (default: the active one): load the frames, compute in core.

Every report returns Polars frames identified by developer names and external ids; the CLI
renders them as tables, CSV or JSON, or writes them to CSV/Parquet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Literal

import polars as pl
from sqlalchemy.orm import Session

from territorial.core import metrics
from territorial.core import reports as compute
from territorial.core.compare_scope import MANAGER_ROLES, is_manager_role
from territorial.core.engine.matcher import satisfied_rules
from territorial.core.engine.opportunities import assign_opportunities
from territorial.core.fields import FieldCatalog
from territorial.core.formula import compile_formula, formula_columns
from territorial.core.reasons import rule_reasons
from territorial.core.rules.compile import compile_model, effective_rules, required_fields
from territorial.core.tree import depths
from territorial.errors import ValidationError
from territorial.services import fields, lookup
from territorial.services.runs import model_input
from territorial.services.workspace import Workspace
from territorial.store import frames
from territorial.store.bulk import read_frame
from territorial.store.schema import TerritoryModelRow

Level = Literal["siblings", "leaves", "users"]
LEVELS: tuple[Level, ...] = ("siblings", "leaves", "users")
SPECIAL_MEASURES = ("accounts", "pipeline", "weighted", "won_12m")
MEASURE_LABELS = {
    "accounts": "accounts",
    "pipeline": "open pipeline",
    "weighted": "weighted pipeline",
    "won_12m": "closed-won in 12 months",
}
TOP_LEVEL = "(top level)"
"""The scope of a balance report without a parent territory."""
DEFAULT_MEASURE = "annual_revenue"


@dataclass(frozen=True)
class ModelFrames:
    """What reports and comparisons read of one model, as frames (see core.reports)."""

    model: str
    state: str
    territories: pl.DataFrame
    """territory_pk, parent_pk, territory, name, priority."""
    links: pl.DataFrame
    """account_pk, territory_pk, cause, rule."""
    users: pl.DataFrame
    """territory_pk, user_pk, user (name), user_id, role."""
    opportunities: pl.DataFrame = field(repr=False)
    """Every opportunity with this model's territory_pk (null: none); closed ones without a
    stored territory are attributed by the model's policy (:func:`with_closed_history`)."""


def _territories(session: Session, model_pk: int) -> pl.DataFrame:
    sql = (
        "SELECT t.pk, t.parent_pk, t.developer_name, t.name, tt.priority FROM territory t "
        f"JOIN territory_type tt ON tt.pk = t.type_pk WHERE t.model_pk = {int(model_pk)} "
        "ORDER BY t.pk"
    )
    schema: dict[str, pl.DataType] = {
        "territory_pk": pl.Int64(),
        "parent_pk": pl.Int64(),
        "territory": pl.String(),
        "name": pl.String(),
        "priority": pl.Int64(),
    }
    return read_frame(session, sql, schema)


def _rules(session: Session, model_pk: int) -> dict[int, str]:
    sql = f"SELECT pk, developer_name FROM assignment_rule WHERE model_pk = {int(model_pk)}"
    frame = read_frame(session, sql, {"pk": pl.Int64(), "rule": pl.String()})
    return dict(zip(frame["pk"].to_list(), frame["rule"].to_list(), strict=True))


def _users(session: Session, model_pk: int) -> pl.DataFrame:
    sql = (
        "SELECT ua.territory_pk, u.pk, u.name, u.id, ua.role FROM user_assignment ua "
        "JOIN sales_user u ON u.pk = ua.user_pk JOIN territory t ON t.pk = ua.territory_pk "
        f"WHERE t.model_pk = {int(model_pk)}"
    )
    schema: dict[str, pl.DataType] = {
        "territory_pk": pl.Int64(),
        "user_pk": pl.Int64(),
        "user": pl.String(),
        "user_id": pl.String(),
        "role": pl.String(),
    }
    return read_frame(session, sql, schema)


def load_opportunities(session: Session, model_pk: int) -> pl.DataFrame:
    """Every opportunity with its stored territory in one model (null: none)."""
    sql = (
        "SELECT o.pk, o.id, o.name, o.account_pk, ot.territory_pk, o.amount, o.probability, "
        "o.stage, o.close_date, o.is_closed, o.is_won, o.excluded_from_territory_filter "
        "FROM opportunity o LEFT JOIN opportunity_territory ot "
        f"ON ot.opportunity_pk = o.pk AND ot.model_pk = {int(model_pk)} ORDER BY o.pk"
    )
    schema: dict[str, pl.DataType] = {
        "opportunity_pk": pl.Int64(),
        "opportunity": pl.String(),
        "name": pl.String(),
        "account_pk": pl.Int64(),
        "territory_pk": pl.Int64(),
        "amount": pl.Float64(),
        "probability": pl.Float64(),
        "stage": pl.String(),
        "close_date": pl.Date(),
        "is_closed": pl.Boolean(),
        "is_won": pl.Boolean(),
        "excluded": pl.Boolean(),
    }
    return read_frame(session, sql, schema)


def _policy_territories(
    model_row: TerritoryModelRow, frames_: ModelFrames, scope: pl.DataFrame
) -> pl.DataFrame:
    """``opportunity_pk``, ``territory_pk``: what the model's opportunity policy picks for
    the opportunities of ``scope`` from their accounts' territories in the model."""
    policy = (model_row.settings or {}).get("opportunity_policy", "priority")
    territories = frames_.territories
    depth = depths(
        dict(
            zip(
                territories["territory_pk"].to_list(),
                territories["parent_pk"].to_list(),
                strict=True,
            )
        )
    )
    terr = territories.select(
        "territory_pk",
        "priority",
        depth=pl.col("territory_pk").replace_strict(depth, return_dtype=pl.Int64),
    )
    return assign_opportunities(
        scope.select("opportunity_pk", "account_pk", current_territory_pk="territory_pk"),
        frames_.links,
        terr,
        policy=policy if policy in ("priority", "deepest", "keep") else "priority",
    )


def _fill(opportunities: pl.DataFrame, wanted: pl.DataFrame, mask: pl.Series) -> pl.DataFrame:
    """``opportunities`` with ``territory_pk`` taken from ``wanted`` where ``mask`` is true."""
    new = opportunities.select("opportunity_pk").join(
        wanted, on="opportunity_pk", how="left", maintain_order="left"
    )["territory_pk"]
    stored = opportunities["territory_pk"]
    return opportunities.with_columns(territory_pk=new.zip_with(mask, stored))


def computed_opportunities(
    model_row: TerritoryModelRow, frames_: ModelFrames, opportunities: pl.DataFrame
) -> pl.DataFrame:
    """Opportunity territories as activating the model would set them (its policy);
    excluded opportunities keep their stored territory."""
    excluded = opportunities["excluded"].fill_null(False)
    wanted = _policy_territories(model_row, frames_, opportunities.filter(~excluded))
    return _fill(opportunities, wanted, ~excluded)


def with_closed_history(
    model_row: TerritoryModelRow, frames_: ModelFrames, opportunities: pl.DataFrame
) -> pl.DataFrame:
    """Closed opportunities that have no territory in the model are attributed to the one
    its opportunity policy picks from their account's territories in it; the others keep
    their stored territory. Nothing is written.

    Activation assigns open opportunities only (a closed deal keeps the territory it was
    won in, in the model active then), so without this the new active model, and every
    plan, would show no closed-won history at all. Excluded opportunities stay as stored.
    """
    gap = (
        opportunities["is_closed"].fill_null(False)
        & opportunities["territory_pk"].is_null()
        & ~opportunities["excluded"].fill_null(False)
    )
    if not gap.any():
        return opportunities
    wanted = _policy_territories(model_row, frames_, opportunities.filter(gap))
    return _fill(opportunities, wanted, gap)


def load_model(session: Session, model_row: TerritoryModelRow) -> ModelFrames:
    """The territories, assignments and user assignments of a model, and its opportunity
    territories: the stored ones, and for closed opportunities without one the territory
    the model's policy gives them (:func:`with_closed_history`)."""
    rules = _rules(session, model_row.pk)
    links = frames.load_assignments(session, model_row.pk).select(
        "account_pk",
        "territory_pk",
        "cause",
        rule=pl.col("rule_pk").replace_strict(rules, default=None, return_dtype=pl.String),
    )
    data = ModelFrames(
        model=model_row.developer_name,
        state=model_row.state,
        territories=_territories(session, model_row.pk),
        links=links,
        users=_users(session, model_row.pk),
        opportunities=load_opportunities(session, model_row.pk),
    )
    return replace(data, opportunities=with_closed_history(model_row, data, data.opportunities))


def measure_formula(catalog: FieldCatalog, measure: str) -> tuple[str, dict[str, str]]:
    """A measure as a formula (``territorial.core.formula``, as carve's potential and
    workload) and the account columns it reads: each field name as written → its catalog
    name. A field name that is no formula (``Account.AnnualRevenue``) is that field.

    Raises FormulaError for a formula that is wrong or reads a field that is not a number.
    """
    found = catalog.resolve(measure)
    text = found.name if found is not None and not measure.strip().isidentifier() else measure
    return text, formula_columns(text, catalog)


def load_accounts(session: Session, measure: str, extra: tuple[str, ...] = ()) -> pl.DataFrame:
    """``account_pk``, ``account`` (id), ``name``, ``potential`` (the measure: a number
    field, or a formula of number fields in which null values count as 0), extras."""
    catalog = fields.catalog(session, "account")
    formula, columns = measure_formula(catalog, measure)
    frame = frames.load_accounts(session, catalog, {"id", "name", *columns.values(), *extra})
    # A field alone keeps its nulls (an unknown revenue is not 0 in a listing); sums count
    # them as 0 either way.
    bare = columns.get(formula.strip())
    value = pl.col(bare).cast(pl.Float64) if bare else compile_formula(formula, fields=columns)
    return frame.rename({"pk": "account_pk", "id": "account"}).with_columns(potential=value)


def _model(session: Session, model: str | None) -> TerritoryModelRow:
    return lookup.model_or_active(session, model)


def territory_summary(
    ws: Workspace,
    model: str | None = None,
    *,
    measure: str = DEFAULT_MEASURE,
    as_of: date | None = None,
) -> pl.DataFrame:
    """Per territory, own and rolled up: accounts, potential (``measure``), open and weighted
    pipeline, closed-won in the 12 months to ``as_of`` (default today), users and roles."""
    with ws.session() as session:
        row = _model(session, model)
        data = load_model(session, row)
        accounts = load_accounts(session, measure)
    return compute.summary(
        data.territories,
        data.links,
        accounts,
        data.opportunities,
        data.users,
        as_of=as_of or date.today(),
    )


def unassigned_accounts(
    ws: Workspace, model: str | None = None, *, measure: str = DEFAULT_MEASURE
) -> pl.DataFrame:
    """Accounts in no territory of the model, biggest ``measure`` first."""
    with ws.session() as session:
        row = _model(session, model)
        links = frames.load_assignments(session, row.pk).select("account_pk")
        extra = ("billing_country_code", "billing_state_code", "owner_id")
        accounts = load_accounts(session, measure, extra)
    return (
        accounts.join(links.unique(), on="account_pk", how="anti")
        .sort(["potential", "account"], descending=[True, False], nulls_last=True)
        .select("account", "name", *extra, "potential")
    )


def multi_territory_accounts(ws: Workspace, model: str | None = None) -> pl.DataFrame:
    """Accounts in several territories: how many, which, and why: ``manual``, or the rule
    the run recorded, which sets the territory apart from its siblings, or every rule the
    account satisfied when no single one does (``core.reasons``)."""
    with ws.session() as session:
        row = _model(session, model)
        territories = _territories(session, row.pk)
        links = frames.load_assignments(session, row.pk)
        multi = links.filter(pl.col("territory_pk").n_unique().over("account_pk") > 1)
        where = (
            frames.in_list("account.pk", multi["account_pk"].unique().to_list())
            if multi.height < 10_000
            else None
        )
        catalog = fields.catalog(session, "account")
        ids = frames.load_accounts(session, catalog, {"id", "name"}, where=where)
        multi = _with_rule_reasons(session, row, multi, where)
    names = dict(
        zip(territories["territory_pk"].to_list(), territories["territory"].to_list(), strict=True)
    )
    named = multi.join(ids.rename({"pk": "account_pk", "id": "account"}), on="account_pk")
    named = named.with_columns(
        territory=pl.col("territory_pk").replace_strict(names, return_dtype=pl.String)
    )
    result = compute.multi_territory(named)
    return result.join(
        named.select("account", "name").unique("account"), on="account", how="left"
    ).select("account", "name", "territories", "detail")


def _with_rule_reasons(
    session: Session, row: TerritoryModelRow, links: pl.DataFrame, where: str | None
) -> pl.DataFrame:
    """``links`` with ``rules``: the rules to name for each rule assignment. In a model
    whose territories need any of their rules, the accounts are evaluated to know which
    rules they match; when they need all of them, every effective rule matched."""
    given = model_input(session, row)
    parents = {t.pk: t.parent_pk for t in given.territories}
    names = {r.id: r.developer_name for r in given.rules if r.id is not None}
    if given.combination != "any":
        active = {r.id for r in given.rules if r.active and r.id is not None}
        nodes = {t.pk: t for t in given.territories}
        effective = effective_rules(nodes, given.associations, active)
        return rule_reasons(links, parents, effective, names)
    catalog = fields.catalog(session, "account")
    compiled = compile_model(given, catalog)
    accounts = frames.load_accounts(session, catalog, required_fields(compiled), where=where)
    accounts = accounts.filter(pl.col("pk").is_in(links["account_pk"].unique().implode()))
    involved = links.filter(pl.col("cause") == "rule")["territory_pk"].unique().to_list()
    wanted = {r for t in involved for r in compiled.effective.get(t, ())}
    satisfied = satisfied_rules(accounts, compiled, wanted)
    return rule_reasons(links, parents, compiled.effective, names, satisfied=satisfied)


def users_report(ws: Workspace, model: str | None = None) -> pl.DataFrame:
    """Users by territory with their roles, then users who hold no territory (null
    territory)."""
    with ws.session() as session:
        row = _model(session, model)
        data = load_model(session, row)
        everyone = read_frame(
            session,
            "SELECT pk, id, name, title FROM sales_user ORDER BY pk",
            {
                "user_pk": pl.Int64(),
                "user_id": pl.String(),
                "user": pl.String(),
                "title": pl.String(),
            },
        )
    order = compute.tree_order(data.territories)
    held = (
        data.users.join(data.territories, on="territory_pk")
        .join(order, on="territory_pk")
        .join(everyone.select("user_pk", "title"), on="user_pk", how="left")
        .sort("order", "role", "user")
        .select(
            "territory",
            territory_name="name",
            user="user_id",
            name="user",
            title="title",
            role="role",
        )
    )
    idle = (
        everyone.join(data.users, on="user_pk", how="anti")
        .sort("user")
        .select(
            territory=pl.lit(None, pl.String),
            territory_name=pl.lit(None, pl.String),
            user="user_id",
            name="user",
            title="title",
            role=pl.lit(None, pl.String),
        )
    )
    return pl.concat([held, idle])


def empty_territories(ws: Workspace, model: str | None = None) -> pl.DataFrame:
    """Territories with no user of their own, with their accounts and users below them."""
    summary = territory_summary(ws, model)
    return summary.filter(pl.col("users") == 0).select(
        "territory", "name", "parent", "accounts", "accounts_subtree", "users_subtree"
    )


def revenue_report(ws: Workspace, model: str | None = None) -> pl.DataFrame:
    """Expected revenue (open pipeline × probability) per territory and close quarter."""
    with ws.session() as session:
        row = _model(session, model)
        data = load_model(session, row)
    return compute.expected_revenue(data.territories, data.opportunities)


@dataclass(frozen=True)
class BalanceReport:
    """Balance of one measure across sibling territories, leaf territories or users."""

    model: str
    measure: str
    level: str
    scope: str
    units: pl.DataFrame
    """unit, name, value, share, deviation, within_10."""
    stats: metrics.BalanceStats
    lorenz: pl.DataFrame

    @property
    def title(self) -> str:
        """What was measured over what, for people: ``accounts per user under NA
        (FY2027)``."""
        measure = MEASURE_LABELS.get(self.measure, self.measure)
        if any(sign in measure for sign in "+-*/"):  # a formula: (1 + employees / 1000) per...
            measure = f"({measure})"
        if self.level == "siblings":
            units = "top-level territory" if self.scope == TOP_LEVEL else f"child of {self.scope}"
        else:
            units = "user" if self.level == "users" else "leaf territory"
            units += "" if self.scope == TOP_LEVEL else f" under {self.scope}"
        return f"{measure} per {units} ({self.model})"

    @property
    def labels(self) -> list[str]:
        """A label per unit: territories by developer name, users by name (and id when
        two users share a name)."""
        if self.level != "users":
            return list(self.units["unit"].to_list())
        names = self.units["name"].to_list()
        ids = self.units["unit"].to_list()
        return [n if names.count(n) == 1 else f"{n} ({i})" for n, i in zip(names, ids, strict=True)]


def _user_values(
    data: ModelFrames,
    accounts: pl.DataFrame,
    roles: str | None,
    as_of: date,
    within: set[int] | None,
) -> pl.DataFrame:
    """Per user: distinct accounts (and their potential) and opportunities under the
    territories they hold, for users whose role matches ``roles`` (a regular expression;
    None: every role that is not manager-like)."""
    if roles is None:
        roles_held = data.users["role"].drop_nulls().unique().to_list()
        managers = [r for r in roles_held if is_manager_role(r)]
        users = data.users.filter(~pl.col("role").is_in(managers))
    else:
        users = data.users.filter(pl.col("role").str.contains("(?i)" + roles))
    if within is not None:
        users = users.filter(pl.col("territory_pk").is_in(list(within)))
    down = compute.closure(data.territories).rename(
        {"ancestor_pk": "held_pk", "territory_pk": "below_pk"}
    )
    reach = (
        users.select("user_pk", held_pk="territory_pk")
        .join(down, on="held_pk")
        .select("user_pk", territory_pk="below_pk")
        .unique()
    )
    pairs = (
        reach.join(data.links.select("account_pk", "territory_pk"), on="territory_pk")
        .select("user_pk", "account_pk")
        .unique()
        .join(accounts.select("account_pk", "potential"), on="account_pk", how="left")
    )
    money = compute.opportunity_figures(
        data.opportunities.filter(pl.col("territory_pk").is_not_null()), as_of=as_of
    )
    opp = (
        reach.join(money, on="territory_pk")
        .group_by("user_pk")
        .agg(pl.col(m).sum() for m in compute.MONEY)
    )
    acc = pairs.group_by("user_pk").agg(
        accounts=pl.len(), potential=pl.col("potential").fill_null(0.0).sum()
    )
    names = users.select("user_pk", "user_id", "user").unique("user_pk")
    return (
        names.join(acc, on="user_pk", how="left")
        .join(opp, on="user_pk", how="left")
        .with_columns(pl.exclude("user_pk", "user_id", "user").fill_null(0))
        .sort("user")
    )


def balance_report(
    ws: Workspace,
    model: str | None = None,
    *,
    measure: str = DEFAULT_MEASURE,
    level: Level = "siblings",
    parent: str | None = None,
    roles: str | None = None,
    as_of: date | None = None,
) -> BalanceReport:
    """How evenly ``measure`` (a numeric account field, ``accounts``, ``pipeline``,
    ``weighted`` or ``won_12m``) is spread.

    ``siblings``: the children of ``parent`` (default: the top-level territories), each
    with its subtree. ``leaves``: every territory without children (under ``parent`` if
    given). ``users``: each user holding a territory (under ``parent``), with everything
    below the territories they hold; ``roles`` is a case-insensitive regular expression of
    the roles to include (default: every role that is not manager-like).
    """
    if level not in LEVELS:
        raise ValidationError(f"Unknown level {level!r}.", hint=f"Use one of: {', '.join(LEVELS)}.")
    day = as_of or date.today()
    with ws.session() as session:
        row = _model(session, model)
        data = load_model(session, row)
        potential = DEFAULT_MEASURE if measure in SPECIAL_MEASURES else measure
        accounts = load_accounts(session, potential)
        parent_pk = lookup.territory(session, row, parent).pk if parent else None
    column = "potential" if measure not in SPECIAL_MEASURES else measure
    territories = data.territories
    below: set[int] | None = None
    if parent_pk is not None:
        up = compute.closure(territories)
        below = set(up.filter(pl.col("ancestor_pk") == parent_pk)["territory_pk"].to_list())
    if level == "users":
        values = _user_values(data, accounts, roles, day, below)
        units = values.select(unit="user_id", name="user", value=pl.col(column).cast(pl.Float64))
    else:
        summary = compute.summary(
            territories, data.links, accounts, data.opportunities, data.users, as_of=day
        )
        summary = summary.join(
            territories.select("territory", "territory_pk"), on="territory", maintain_order="left"
        )
        if level == "siblings":
            chosen = territories.filter(
                pl.col("parent_pk") == parent_pk
                if parent_pk is not None
                else pl.col("parent_pk").is_null()
            )
        else:
            has_children = territories["parent_pk"].drop_nulls().unique().implode()
            chosen = territories.filter(~pl.col("territory_pk").is_in(has_children))
            if below is not None:
                chosen = chosen.filter(pl.col("territory_pk").is_in(list(below)))
        picked = summary.join(
            chosen.select("territory_pk"), on="territory_pk", how="semi", maintain_order="left"
        )
        units = picked.select(
            unit="territory",
            name="name",
            value=pl.col(f"{column}_subtree").cast(pl.Float64),
        )
    table = metrics.balance_table(units["unit"], units["value"])
    return BalanceReport(
        model=row.developer_name,
        measure=measure,
        level=level,
        scope=parent or TOP_LEVEL,
        units=units.select("unit", "name").hstack(table.drop("unit")),
        stats=metrics.balance_stats(units["value"]),
        lorenz=metrics.lorenz_curve(units["value"]),
    )


def manager_pattern(roles: list[str] | None) -> str:
    """A regular expression of manager-like roles: the default, or the given names."""
    if not roles:
        return MANAGER_ROLES
    return "|".join(re.escape(r) for r in roles)


__all__ = [
    "DEFAULT_MEASURE",
    "LEVELS",
    "BalanceReport",
    "Level",
    "ModelFrames",
    "balance_report",
    "computed_opportunities",
    "empty_territories",
    "load_accounts",
    "load_model",
    "load_opportunities",
    "manager_pattern",
    "measure_formula",
    "multi_territory_accounts",
    "revenue_report",
    "territory_summary",
    "unassigned_accounts",
    "users_report",
    "with_closed_history",
]
