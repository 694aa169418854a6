"""``territorial carve``: balanced, compact territories written as a new planning model."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Annotated, Any

import typer
from matplotlib.figure import Figure

from territorial.cli._common import (
    OutputFormat,
    console,
    message,
    plural,
    progress,
    render,
    state,
    workspace,
)
from territorial.cli._help import choices
from territorial.core.carve.units import UNITS
from territorial.core.text import number, percent
from territorial.errors import ValidationError
from territorial.io import charts, maps
from territorial.io.outputs import Staged, check_output
from territorial.io.tabular import write_table
from territorial.services import carve as service


def _tolerance(text: str) -> float | dict[str, float]:
    """``0.05`` for every measure, or ``potential=0.05,accounts=0.1``."""
    try:
        if "=" not in text:
            return float(text)
        out: dict[str, float] = {}
        for part in (p for p in text.split(",") if p.strip()):
            measure, value = part.split("=", 1)
            if measure.strip() in out:
                raise ValidationError(
                    f"--tolerance gives {measure.strip()!r} twice ({text!r}).",
                    hint="Give each measure once: potential=0.05,accounts=0.1.",
                )
            out[measure.strip()] = float(value)
        return out
    except ValueError as err:
        raise ValidationError(
            f"Cannot read --tolerance {text!r}.",
            hint="Write 0.05 or potential=0.05,accounts=0.1.",
        ) from err


def carve(
    ctx: typer.Context,
    model: Annotated[str, typer.Argument(help="Base model to clone and carve.")],
    parent: Annotated[str, typer.Option(help="Territory whose accounts are carved.")],
    name: Annotated[str, typer.Option(help="Name of the new planning model.")],
    territories: Annotated[
        int | None, typer.Option(help="Number of territories (rebalance: at least the current).")
    ] = None,
    balance: Annotated[
        str, typer.Option(help="Measures to balance: potential, accounts, workload.")
    ] = "potential,accounts,workload",
    tolerance: Annotated[
        str,
        typer.Option(
            help="Relative tolerance above 0 and below 1: 0.05, or per balanced measure "
            "potential=0.05,accounts=0.1 (others 0.05)."
        ),
    ] = "0.05",
    units: Annotated[
        str,
        typer.Option(
            metavar=choices(UNITS),
            help="Carve accounts one by one, or postal units: the first 3 (zip3) or 5 (zip5) "
            "characters of the billing postal code.",
        ),
    ] = "account",
    potential: Annotated[
        str, typer.Option(help="Formula of an account's potential.")
    ] = service.DEFAULT_POTENTIAL,
    workload: Annotated[
        str, typer.Option(help="Formula of an account's workload.")
    ] = service.DEFAULT_WORKLOAD,
    rebalance: Annotated[
        bool, typer.Option("--rebalance", help="Keep the current territories; move few accounts.")
    ] = False,
    lock_named: Annotated[
        bool, typer.Option("--lock-named", help="Named (manually assigned) accounts stay put.")
    ] = False,
    keep: Annotated[
        float, typer.Option(help="Weight (0 or more) for keeping an account where it is.")
    ] = 1.0,
    max_distance: Annotated[
        float | None,
        typer.Option(help="Most km (above 0) from an account to its territory's centre."),
    ] = None,
    seed: Annotated[int | None, typer.Option(help="Same seed (0 or more), same plan.")] = 0,
    developer_name: Annotated[
        str | None, typer.Option(help="Developer name of the new model.")
    ] = None,
    reps: Annotated[
        Path | None,
        typer.Option(
            help="Carve one territory per rep listed in this CSV/Parquet file: user (id, "
            "email in any case, or name), optional home_latitude, home_longitude, capacity "
            "(else the user's); no other columns."
        ),
    ] = None,
    reps_from_users: Annotated[
        str | None,
        typer.Option(
            metavar="ROLE",
            help="Carve one territory per user holding ROLE on a territory under the parent "
            "(their stored home and capacity).",
        ),
    ] = None,
    chart: Annotated[
        Path | None, typer.Option(help="Write a balance chart (PNG or SVG) per measure.")
    ] = None,
    map_file: Annotated[
        Path | None, typer.Option("--map", help="Write a map of the plan (PNG or SVG).")
    ] = None,
    plan_file: Annotated[
        Path | None,
        typer.Option(
            "--plan",
            help="Write the plan per account (CSV or Parquet): account_id, latitude, "
            "longitude, territory, before.",
        ),
    ] = None,
) -> None:
    """Carve a territory's accounts into balanced, compact territories in a new planning
    model (a clone of MODEL), with a quality report: balance, compactness, contiguity and
    disruption. Then run, compare and activate the new model as usual.

    With --reps FILE and/or --reps-from-users ROLE (instead of --territories), one territory
    is carved per rep, centred on the rep's home and sized by the rep's capacity; the rep
    becomes its 'Territory Owner'. With --rebalance too, each current territory is sized by
    its owners' capacities and a listed rep who owns none gets a new territory at home.

    --format json prints one object: the territories, the quality report (fractions) and
    the warnings; --format csv prints the territories only (the summary goes to stderr).

    Example: territorial carve FY27 --parent NA_West --territories 8 --name "FY28 West" --seed 7
    """
    for image in (chart, map_file):  # before the model is written, not after
        if image is not None:
            charts.image_format(image)
    if plan_file is not None and plan_file.suffix.lower() not in (".csv", ".parquet"):
        raise ValidationError(
            f"Cannot write the plan as {plan_file.suffix or '(no extension)'!r} ({plan_file}).",
            hint="Name the plan file .csv or .parquet.",
        )
    measures = list(dict.fromkeys(b.strip() for b in balance.split(",") if b.strip()))
    _check_outputs(
        [("--chart", p) for p in (_chart_paths(chart, measures) if chart is not None else [])]
        + [("--map", map_file), ("--plan", plan_file)]
    )
    rep_list = service.read_reps(reps) if reps is not None else None
    ws = workspace(ctx)
    staged = Staged()

    def write_files(result: service.CarveResult) -> None:
        """The files, under temporary names, before the model commits; published after."""
        if chart is not None:
            for target, figure in _charts(result, chart):
                staged.write(target, "--chart", partial(charts.save, figure))
        if map_file is not None:
            title = result.model.name
            draw = partial(maps.save_map, result.plan, centres=result.centres, title=title)
            staged.write(map_file, "--map", draw)
        if plan_file is not None:
            staged.write(plan_file, "--plan", partial(write_table, result.plan.drop("region")))

    with progress() as bar, _discarding(staged):
        task = bar.add_task("Carving", total=len(service.STAGES))

        def on_stage(stage: str) -> None:
            bar.update(task, description=f"Carving: {stage}", completed=service.STAGES.index(stage))

        result = service.carve_model(
            ws, model, parent=parent, name=name, territories=territories,
            balance=measures,
            tolerance=_tolerance(tolerance), units=units, rebalance=rebalance,
            lock_named=lock_named, potential=potential, workload=workload, keep=keep,
            max_distance=max_distance, seed=seed, developer_name=developer_name,
            reps=rep_list, reps_role=reps_from_users, on_stage=on_stage,
            before_commit=write_files,
        )  # fmt: skip
    _print(ctx, result, rebalance=rebalance)
    for path in staged.publish():
        rows = f" ({result.plan.height:,} accounts)" if path == plan_file else ""
        message(f"Wrote {path}{rows}.")


@contextmanager
def _discarding(staged: Staged) -> Iterator[None]:
    """Remove the staged files when the carve fails or is interrupted (nothing committed)."""
    try:
        yield
    except BaseException:
        staged.discard()
        raise


def _print(ctx: typer.Context, result: service.CarveResult, *, rebalance: bool) -> None:
    """Table: the territories, the balance and a summary sentence. JSON: one object with
    the territories, the quality report and the warnings. CSV: the territories only (the
    quality figures are in the JSON form); the summary goes to stderr with the warnings."""
    carried = any(t.users_from for t in result.territories)
    owned = any(t.owner for t in result.territories)
    fmt = state(ctx).format
    machine = fmt is not OutputFormat.table  # ids to join on
    rows: list[dict[str, Any]] = [
        {"territory": t.developer_name, "new": "yes" if t.new else "", "accounts": t.accounts}
        | ({"owner": t.owner_name or t.owner or ""} if owned else {})
        | ({"owner id": t.owner or ""} if owned and machine else {})
        | ({"users from": t.users_from or ""} if carried else {})
        | {f"{m} Δ%": round(100 * d, 2) for m, d in t.deviations.items()}
        for t in result.territories
    ]
    q = result.quality
    if fmt is OutputFormat.json:
        document = {
            "model": result.model.developer_name,
            "territories": rows,
            "quality": _quality(q),
            "manual_assignments": result.manual_assignments,
            "named_locked": result.named_locked,
            "seconds": round(result.seconds, 3),
            "warnings": result.warnings,
        }
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        render(ctx, rows, title=f"Carved territories of {result.model.developer_name}")
    if fmt is OutputFormat.table:
        balance = [
            {"measure": m.name, "tolerance %": m.tolerance,
             "within tolerance %": m.within_tolerance, "max deviation %": m.max_deviation,
             "CV": m.cv, "±5 %": m.within[0], "±10 %": m.within[1], "±15 %": m.within[2],
             "Gini": m.gini}
            for m in q.balance.measures
        ]  # fmt: skip
        render(ctx, balance, title="Balance", formats=_BALANCE_FORMATS)
    for warning in result.warnings:
        message(f"[yellow]Warning:[/yellow] {warning}")
    contiguity = (
        "" if q.contiguity is None
        else f"; {q.contiguity.fragments} non-contiguous piece(s), "
        f"{q.contiguity.enclaves} enclave(s)"
    )  # fmt: skip
    sentence = (
        f"Wrote planning model {result.model.developer_name} in {result.seconds:.1f} s. "
        f"Compactness {q.compactness_km:.1f} km to the centre "
        f"({q.compactness_ratio:.2f}× unconstrained k-means){contiguity}. Disruption: "
        f"{q.disruption['accounts']:.1%} of accounts, {q.disruption['revenue']:.1%} of "
        f"revenue, {q.disruption['pipeline']:.1%} of open pipeline change territory. "
        f"{result.plan.height - result.manual_assignments:,} accounts are assigned by the "
        f"carved postal rules, {result.manual_assignments:,} by hand. "
        f"{_named(result.named_locked, rebalance=rebalance)}"
        f"Next: 'territorial run {result.model.developer_name}', then "
        f"'territorial compare {result.model.developer_name}'."
    )
    if fmt is OutputFormat.table:
        console.print(sentence, highlight=False, soft_wrap=True)
    else:
        message(sentence)


def _named(count: int, *, rebalance: bool) -> str:
    """What --lock-named did, as a sentence ('' when it kept nothing: a warning says so)."""
    if not count:
        return ""
    kept = "kept in place" if rebalance else "assigned by hand, outside the postal rules"
    return f"{plural(count, 'named account')} {kept} (--lock-named). "


def _share(fraction: float) -> str:
    return number(100 * fraction, 1)


_BALANCE_FORMATS: dict[str, Callable[[Any], str]] = {
    "tolerance %": partial(percent, symbol=False),  # the digits a tight tolerance needs
    "within tolerance %": _share,
    "max deviation %": _share,
    "CV": partial(number, decimals=3),
    "±5 %": _share,
    "±10 %": _share,
    "±15 %": _share,
    "Gini": partial(number, decimals=3),
}
"""The balance table's figures for people: percentages with one decimal, CV and Gini with
three (``--format json`` has the fractions)."""


def _quality(q: service.CarveQuality) -> dict[str, Any]:
    """The quality report for --format json: fractions, not percentages."""
    return {
        "balance": [
            {
                "measure": m.name,
                "target": m.target,
                "tolerance": m.tolerance,
                "within_tolerance": m.within_tolerance,
                "max_deviation": m.max_deviation,
                "cv": m.cv,
                "gini": m.gini,
                "within_5": m.within[0],
                "within_10": m.within[1],
                "within_15": m.within[2],
            }
            for m in q.balance.measures
        ],
        "compactness_km": round(q.compactness_km, 3),
        "kmeans_km": round(q.kmeans_km, 3),
        "compactness_ratio": round(q.compactness_ratio, 4),
        "fragments": None if q.contiguity is None else q.contiguity.fragments,
        "enclaves": None if q.contiguity is None else q.contiguity.enclaves,
        "disruption": {k: round(v, 6) for k, v in q.disruption.items()},
    }


def _chart_paths(path: Path, measures: list[str]) -> list[Path]:
    """Where the balance charts go: the first measure's at ``path``, the others' at
    PATH-measure (``chart.png``, ``chart-accounts.png``, ...)."""
    return [
        path if i == 0 else path.with_name(f"{path.stem}-{name}{path.suffix}")
        for i, name in enumerate(measures)
    ]


def _check_outputs(outputs: list[tuple[str, Path | None]]) -> None:
    """Every output file writable, and no two options writing the same file."""
    seen: dict[Path, str] = {}
    for option, path in outputs:
        if path is None:
            continue
        check_output(path, option)
        key = path.resolve()
        if key in seen:
            raise ValidationError(
                f"{seen[key]} and {option} would both write {path}.",
                hint="Give each output its own file name (--chart also writes "
                "CHART-measure files for the second and third measures).",
            )
        seen[key] = option


def _charts(result: service.CarveResult, path: Path) -> list[tuple[Path, Figure]]:
    """One balance chart per measure, at :func:`_chart_paths`."""
    written = []
    measures = result.quality.balance.measures
    targets = _chart_paths(path, [m.name for m in measures])
    for target, m in zip(targets, measures, strict=True):
        values = [t.measures[m.name] for t in result.territories]
        names = [t.developer_name for t in result.territories]
        fig = charts.balance_figure(
            names, values, title=f"{m.name} per territory, {result.model.name}", band=m.tolerance
        )
        written.append((target, fig))
    return written
