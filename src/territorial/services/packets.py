"""Change-impact packets: one page per manager, before a realignment goes live.

A manager is a user holding a manager-like role (default:
:data:`~territorial.core.compare_scope.MANAGER_ROLES`) on a territory, in either model; the
packet covers the subtrees of every territory they manage, in both models. Each packet is a
self-contained HTML page (inline CSS and SVG, nothing fetched) with a CSV of its account
changes beside it. Managers whose area has no change get no packet unless asked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import jinja2
import polars as pl

from territorial.core.compare_scope import ScopedImpact, is_manager_role, scoped, subtree_names
from territorial.io import charts
from territorial.io.tabular import write_table
from territorial.services.compare import ModelComparison, compare_models
from territorial.services.reports import DEFAULT_MEASURE, manager_pattern
from territorial.services.workspace import Workspace

MAX_HTML_ROWS = 300
"""Rows of a detail table shown in the HTML (the CSV has them all)."""


@dataclass(frozen=True)
class Packet:
    """One manager's packet, written to ``html`` and ``csv``."""

    manager: str
    name: str
    territories: list[str]
    summary: dict[str, float | int]
    html: Path
    csv: Path


@dataclass(frozen=True)
class Packets:
    """What :func:`write_packets` did: the packets written, and the managers (user ids)
    left without one because no account or open opportunity of their area changes."""

    written: list[Packet]
    unchanged: list[str]
    warnings: tuple[str, ...] = ()
    """The comparison's warnings (a plan run before later changes), also shown in each
    packet."""


def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("territorial", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        undefined=jinja2.StrictUndefined,
    )
    env.filters["num"] = _number
    return env


def _number(value: Any, digits: int = 0) -> str:
    if value is None:
        return ""
    if isinstance(value, int | float):
        return f"{value:,.{digits}f}"
    return str(value)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "manager"


def managers(comparison: ModelComparison, pattern: str) -> dict[int, tuple[set[str], set[str]]]:
    """Manager user pks and the developer names of the territories they cover before and
    after: the subtrees, in each model, of the territories they manage in either."""
    scopes: dict[int, tuple[set[str], set[str]]] = {}
    held: dict[int, set[str]] = {}
    for frames_ in (comparison.before_frames, comparison.after_frames):
        names = dict(
            zip(
                frames_.territories["territory_pk"].to_list(),
                frames_.territories["territory"].to_list(),
                strict=True,
            )
        )
        for territory_pk, user_pk, role in frames_.users.select(
            "territory_pk", "user_pk", "role"
        ).iter_rows():
            if is_manager_role(role, pattern):
                held.setdefault(user_pk, set()).add(names[territory_pk])
    for user_pk, roots in held.items():
        scopes[user_pk] = (
            subtree_names(comparison.before_frames.territories, roots),
            subtree_names(comparison.after_frames.territories, roots),
        )
    return scopes


def _reps(comparison: ModelComparison, impact: ScopedImpact, manager_pk: int) -> pl.DataFrame:
    held = (
        comparison.result.user_territories.filter(pl.col("user_pk") != manager_pk)
        .join(impact.users.select("user_pk"), on="user_pk", how="semi")
        .sort("territory")
        .group_by("user_pk")
        .agg(pl.col("territory").unique(maintain_order=True).str.join(", ").alias("territories"))
    )
    return (
        impact.users.join(held, on="user_pk")
        .join(comparison.users.select("user_pk", "name"), on="user_pk", how="left")
        .with_columns(
            net=pl.col("gained") - pl.col("lost"), moved=pl.col("gained") + pl.col("lost")
        )
        .sort(["moved", "name"], descending=[True, False])
    )


def _render(
    env: jinja2.Environment,
    comparison: ModelComparison,
    impact: ScopedImpact,
    reps: pl.DataFrame,
    *,
    name: str,
    territories: list[str],
    csv_name: str,
) -> str:
    changed = reps.filter((pl.col("gained") + pl.col("lost")) > 0)
    chart = None
    if changed.height:
        fig = charts.gains_losses_figure(
            changed["name"].to_list(),
            changed["gained"].to_list(),
            changed["lost"].to_list(),
            title="Accounts gained and lost per person",
        )
        chart = charts.svg_text(fig)
    columns = ["account", "name", "direction", "from", "to", "potential", "pipeline"]
    opp_columns = ["opportunity", "name", "account", "amount", "stage", "close_date"]
    return env.get_template("packet.html").render(
        manager=name,
        before=comparison.before,
        after=comparison.after,
        today=date.today().isoformat(),
        territories=territories,
        summary=impact.summary,
        reps=reps.to_dicts(),
        chart=chart,
        accounts=impact.accounts.select(columns).head(MAX_HTML_ROWS).to_dicts(),
        accounts_total=impact.accounts.height,
        opportunities=impact.opportunities.select(*opp_columns, "from", "to", "direction")
        .head(MAX_HTML_ROWS)
        .to_dicts(),
        opportunities_total=impact.opportunities.height,
        max_rows=MAX_HTML_ROWS,
        csv_name=csv_name,
        warnings=comparison.warnings,
    )


def _changes(impact: ScopedImpact) -> bool:
    """Whether anything changes in a manager's area: an account or open opportunity moves,
    or a person there gains or loses accounts (a territory changing hands)."""
    people = impact.users.filter((pl.col("gained") + pl.col("lost")) > 0)
    return not (
        impact.accounts.is_empty() and impact.opportunities.is_empty() and people.is_empty()
    )


def write_packets(
    ws: Workspace,
    a: str,
    b: str | None = None,
    *,
    folder: Path | str,
    manager_roles: list[str] | None = None,
    measure: str = DEFAULT_MEASURE,
    comparison: ModelComparison | None = None,
    unchanged: bool = False,
) -> Packets:
    """Write one HTML packet and one CSV per manager whose area changes into ``folder``.

    ``a``/``b`` as for :func:`territorial.services.compare.compare_models`;
    ``manager_roles`` replaces the default manager-like roles by exact role names
    (case-insensitive); ``unchanged`` writes a packet for managers whose area has no
    change too.
    """
    comparison = comparison or compare_models(ws, a, b, measure=measure)
    pattern = manager_pattern(manager_roles)
    if manager_roles:
        pattern = f"^({pattern})$"
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    env = _environment()
    people = dict(
        zip(comparison.users["user_pk"].to_list(), comparison.users.rows(named=True), strict=True)
    )
    packets: list[Packet] = []
    skipped: list[str] = []
    for user_pk, (scope, scope_after) in sorted(managers(comparison, pattern).items()):
        person = people[user_pk]
        impact = scoped(comparison.result, scope, scope_after)
        if not unchanged and not _changes(impact):
            skipped.append(person["user"])
            continue
        reps = _reps(comparison, impact, user_pk)
        stem = f"{_slug(person['name'])}-{_slug(person['user'])}"
        csv_path, html_path = out / f"{stem}.csv", out / f"{stem}.html"
        write_table(
            impact.accounts.select(
                "account",
                "name",
                "direction",
                "change",
                "from",
                "to",
                "from_detail",
                "to_detail",
                "potential",
                "pipeline",
            ),
            csv_path,
        )
        territories = sorted(scope | scope_after)
        html = _render(
            env,
            comparison,
            impact,
            reps,
            name=person["name"],
            territories=territories,
            csv_name=csv_path.name,
        )
        html_path.write_text(html, encoding="utf-8")
        packets.append(
            Packet(person["user"], person["name"], territories, impact.summary, html_path, csv_path)
        )
    return Packets(packets, skipped, comparison.warnings)


__all__ = ["MAX_HTML_ROWS", "Packet", "Packets", "managers", "write_packets"]
