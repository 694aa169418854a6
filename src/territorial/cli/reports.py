"""``territorial report``: where a model stands, territory by territory."""

from __future__ import annotations

import json
import sys
from datetime import date
from functools import partial
from pathlib import Path
from typing import Annotated, cast

import polars as pl
import typer

from territorial.cli._common import OutputFormat, message, plural, render, state, workspace
from territorial.cli._help import choices
from territorial.core.text import amount_decimals, number
from territorial.io import charts
from territorial.io.tabular import write_table
from territorial.services import reports
from territorial.services.reports import Level

app = typer.Typer(
    help="Reports on a model (default: the active one): summary with roll-up, unassigned and "
    "multi-territory accounts, users, empty territories, expected revenue, balance.",
    no_args_is_help=True,
)

ModelOpt = Annotated[
    str | None, typer.Option("--model", "-m", help="Model (default: the active one).")
]
OutputOpt = Annotated[
    Path | None, typer.Option("--output", "-o", help="Write the report to a .csv or .parquet file.")
]
MeasureOpt = Annotated[
    str,
    typer.Option(
        "--measure",
        help="Potential: a numeric account field, or a formula of numeric fields like "
        "carve's --potential (e.g. 'sqrt(annual_revenue)').",
    ),
]


WITHIN_10 = "within ±10 %"
"""The balance table's column saying whether a unit is within ±10 % of the mean."""

SUMMARY_TITLE = "Territory summary: subtree totals; own_accounts is the territory's own"


def _emit(ctx: typer.Context, frame: pl.DataFrame, output: Path | None, title: str) -> None:
    if output is not None:
        write_table(frame, output)
        message(f"Wrote {plural(frame.height, 'row')} to {output}.")
    else:
        render(ctx, frame, title=title)


@app.command("summary")
def summary(
    ctx: typer.Context,
    model: ModelOpt = None,
    measure: MeasureOpt = reports.DEFAULT_MEASURE,
    as_of: Annotated[
        str | None,
        typer.Option("--as-of", help="Day ending the 12-month closed-won window (default today)."),
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Per territory, own and rolled up through the hierarchy: accounts, potential, open and
    weighted pipeline, closed-won in the last 12 months, users and roles. The table shows
    the subtree figures and each territory's own accounts; --format csv/json and --output
    have every column.

    Example: territorial report summary --model FY2027_Territories --as-of 2026-06-30
    """
    day = date.fromisoformat(as_of) if as_of else None
    frame = reports.territory_summary(workspace(ctx), model, measure=measure, as_of=day)
    if output is None and state(ctx).format is OutputFormat.table:
        frame = _compact(frame)
    _emit(ctx, frame, output, SUMMARY_TITLE)


def _compact(frame: pl.DataFrame) -> pl.DataFrame:
    """The summary narrow enough for a terminal: the tree indented, every figure the
    subtree's (money rounded) but ``own_accounts``."""
    money = ["potential_subtree", "pipeline_subtree", "weighted_subtree", "won_12m_subtree"]
    return frame.select(
        territory=pl.lit("  ").repeat_by(pl.col("depth")).list.join("") + pl.col("territory"),
        accounts="accounts_subtree",
        own_accounts="accounts",
        **{c.removesuffix("_subtree"): pl.col(c).round(0).cast(pl.Int64) for c in money},
        users="users_subtree",
    )


@app.command("unassigned")
def unassigned(
    ctx: typer.Context,
    model: ModelOpt = None,
    measure: MeasureOpt = reports.DEFAULT_MEASURE,
    output: OutputOpt = None,
) -> None:
    """Accounts in no territory of the model, biggest first.

    Example: territorial report unassigned -o unassigned.csv
    """
    frame = reports.unassigned_accounts(workspace(ctx), model, measure=measure)
    _emit(ctx, frame, output, f"Unassigned accounts ({frame.height:,})")


@app.command("multi")
def multi(ctx: typer.Context, model: ModelOpt = None, output: OutputOpt = None) -> None:
    """Accounts in several territories: which, and why each territory has them: 'manual'
    (assigned by hand), or the rule the run recorded, which sets the territory apart from
    its siblings (a carved territory's postal rule, not the rules all carved territories
    share); when no one rule does, every rule the account matched ('rules A + B').

    Example: territorial report multi --model FY2028_Plan
    """
    frame = reports.multi_territory_accounts(workspace(ctx), model)
    _emit(ctx, frame, output, f"Accounts in several territories ({frame.height:,})")


@app.command("users")
def users(ctx: typer.Context, model: ModelOpt = None, output: OutputOpt = None) -> None:
    """Users by territory with their roles, then users who hold no territory.

    Example: territorial report users --format csv
    """
    frame = reports.users_report(workspace(ctx), model)
    idle = frame.filter(pl.col("territory").is_null()).height
    _emit(ctx, frame, output, "Users by territory")
    message(
        f"{plural(idle, 'user')} {'holds' if idle == 1 else 'hold'} no territory in this model."
    )


@app.command("empty")
def empty(ctx: typer.Context, model: ModelOpt = None, output: OutputOpt = None) -> None:
    """Territories with no user of their own (with the accounts and users below them).

    Example: territorial report empty
    """
    frame = reports.empty_territories(workspace(ctx), model)
    _emit(ctx, frame, output, f"Territories without users ({frame.height:,})")


@app.command("revenue")
def revenue(ctx: typer.Context, model: ModelOpt = None, output: OutputOpt = None) -> None:
    """Expected revenue per territory: open pipeline × probability, by close quarter.

    Example: territorial report revenue -o revenue.parquet
    """
    frame = reports.revenue_report(workspace(ctx), model)
    _emit(ctx, frame, output, "Expected revenue by close quarter")


@app.command("balance")
def balance(
    ctx: typer.Context,
    model: ModelOpt = None,
    measure: Annotated[
        str,
        typer.Option(
            "--measure",
            help="accounts, pipeline, weighted, won_12m, a numeric account field, or a "
            "formula of numeric fields like carve's --workload "
            "(e.g. '1 + number_of_employees / 1000').",
        ),
    ] = reports.DEFAULT_MEASURE,
    level: Annotated[
        str,
        typer.Option(
            "--level",
            metavar=choices(reports.LEVELS),
            help="siblings (children of --parent, default the top level), leaves, or users.",
        ),
    ] = "siblings",
    parent: Annotated[
        str | None, typer.Option("--parent", help="Territory whose children or subtree to use.")
    ] = None,
    role: Annotated[
        str | None,
        typer.Option(
            "--role",
            help="Users level: regular expression of roles to include (default: every role "
            "that is not manager-like).",
        ),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option("--chart", help="Bar chart with the ±10 % band (.png/.svg).")
    ] = None,
    lorenz: Annotated[
        Path | None, typer.Option("--lorenz", help="Lorenz curve (.png/.svg).")
    ] = None,
    output: OutputOpt = None,
) -> None:
    """Balance of a measure across sibling territories, leaf territories or users: mean,
    coefficient of variation, max deviation, shares within ±5/±10/±15 % of the mean, Gini
    and the Lorenz curve.

    Example: territorial report balance --measure annual_revenue --level users --chart reps.png

    Workload per leaf, as carve measures it: territorial report balance --level leaves
    --parent NA_West --measure "1 + number_of_employees / 1000"
    """
    result = reports.balance_report(
        workspace(ctx),
        model,
        measure=measure,
        level=cast(Level, level),  # checked by the service
        parent=parent,
        roles=role,
    )
    stats = result.stats
    title = result.title
    if chart is not None:
        fig = charts.balance_figure(
            result.labels, result.units["value"].to_list(), title=title, ylabel=result.measure
        )
        message(f"Wrote {charts.save(fig, chart)}.")
    if lorenz is not None:
        fig = charts.lorenz_figure(result.lorenz, title=result.measure, gini=stats.gini)
        message(f"Wrote {charts.save(fig, lorenz)}.")
    if output is not None:
        write_table(result.units, output)
        message(f"Wrote {plural(result.units.height, 'row')} to {output}.")
    elif state(ctx).format is OutputFormat.json:
        payload = {
            "model": result.model,
            "measure": result.measure,
            "level": result.level,
            "scope": result.scope,
            "stats": stats.as_dict(),
            "units": result.units.to_dicts(),
            "lorenz": result.lorenz.to_dicts(),
        }
        sys.stdout.write(json.dumps(payload, indent=2) + "\n")
        return
    else:
        _balance_table(ctx, result.units, title)
    decimals = amount_decimals(result.units["value"].to_list())
    message(
        f"{plural(stats.n, 'unit')}, mean {number(stats.mean, decimals)}, CV {stats.cv:.3f}, "
        "max deviation "
        f"{stats.max_deviation:.1%}, within ±5/±10/±15 %: {stats.within_5:.0%} / "
        f"{stats.within_10:.0%} / {stats.within_15:.0%}, Gini {stats.gini:.3f}."
    )


def _balance_table(ctx: typer.Context, units: pl.DataFrame, title: str) -> None:
    """The balance per unit: shares and deviations as percentages, counts and large amounts
    as whole numbers, yes/no within ±10 % in the table; csv and json keep fractions and
    raw numbers (``units`` as it is)."""
    if state(ctx).format is not OutputFormat.table:
        render(ctx, units, title=title)
        return
    rows = units.select(
        "unit",
        "name",
        "value",
        (pl.col("share") * 100).alias("share %"),
        (pl.col("deviation") * 100).alias("deviation %"),
        pl.when(pl.col("within_10")).then(pl.lit("yes")).otherwise(pl.lit("no")).alias(WITHIN_10),
    )
    decimals = amount_decimals(units["value"].to_list())
    formats = {
        "value": partial(number, decimals=decimals),
        "share %": partial(number, decimals=1),
        "deviation %": partial(number, decimals=1, sign=True),
    }
    render(ctx, rows, title=title, formats=formats)
