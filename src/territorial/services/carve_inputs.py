"""Checks of a carve's inputs, made before anything is carved or written: the numeric
options (``check_options``), the tolerances (``tolerances``), the values the measure
formulas give (``check_measures``) and the accounts' coordinates (``check_locations``).

Each refusal names the option (as the command line spells it), the value, what is
allowed, and for account data how many accounts are wrong with one of them as an example.
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence

import polars as pl

from territorial.core.fields import FieldCatalog
from territorial.core.formula import formula_columns
from territorial.core.text import plural
from territorial.errors import FormulaError, ValidationError

DEFAULT_TOLERANCE = 0.05


def check_options(*, keep: float, max_distance: float | None, seed: int | None) -> None:
    """Refuse a numeric option outside its range, naming it, its value and the range."""
    if seed is not None and seed < 0:
        raise ValidationError(
            f"--seed must be a whole number of 0 or more, not {seed}.",
            hint="Pass --seed 0 (or any N ≥ 0); the same seed gives the same plan.",
        )
    if not (math.isfinite(keep) and keep >= 0):
        raise ValidationError(
            f"--keep must be 0 or more, not {keep:g}.",
            hint="0 moves accounts freely, 1 (the default) is one mean distance to a centre; "
            "raise it to move fewer accounts.",
        )
    if max_distance is not None and not (math.isfinite(max_distance) and max_distance > 0):
        raise ValidationError(
            f"--max-distance must be a number of kilometres above 0, not {max_distance:g}.",
            hint="Pass e.g. --max-distance 300, or leave it out for no limit.",
        )


def tolerances(
    tolerance: float | Mapping[str, float], wanted: Sequence[str], known: Sequence[str]
) -> dict[str, float]:
    """The tolerance of every balanced measure (``DEFAULT_TOLERANCE`` when not given).

    A tolerance for a measure that does not exist, or that is not balanced, is refused,
    as is one outside (0, 1).
    """
    if isinstance(tolerance, Mapping):
        unknown = [m for m in tolerance if m not in known]
        if unknown:
            close = difflib.get_close_matches(unknown[0], known, n=1)
            guess = f"Did you mean {close[0]!r}? " if close else ""
            raise ValidationError(
                f"--tolerance names unknown measure{'s' if len(unknown) > 1 else ''} "
                f"{', '.join(repr(m) for m in unknown)}.",
                hint=f"{guess}The measures are {', '.join(known)}.",
            )
        idle = [m for m in tolerance if m not in wanted]
        if idle:
            raise ValidationError(
                f"--tolerance gives a tolerance for {', '.join(repr(m) for m in idle)}, "
                f"which is not balanced (--balance {','.join(wanted)}).",
                hint=f"Add {', '.join(idle)} to --balance, or drop it from --tolerance.",
            )
        given = dict(tolerance)
    else:
        given = dict.fromkeys(wanted, tolerance)
    out = {m: float(given.get(m, DEFAULT_TOLERANCE)) for m in wanted}
    for m, t in out.items():
        if not 0 < t < 1:
            shown = f"{m}={t:g}" if isinstance(tolerance, Mapping) else f"{t:g}"
            raise ValidationError(
                f"--tolerance {shown} is out of range: a tolerance is above 0 and below 1.",
                hint="0.05 is ±5 % of each territory's target.",
            )
    return out


def check_measures(
    accounts: pl.DataFrame,
    formulas: Mapping[str, str],
    catalog: FieldCatalog,
    *,
    where: str,
) -> None:
    """Refuse a measure formula that gives an account a value that is not a finite
    number, or is negative: names the option, the formula, how many accounts, and one of
    them with the values of the fields the formula reads.

    ``accounts`` holds ``id``, ``name``, the formulas' fields and one column per measure
    named in ``formulas`` (measure → formula); ``where`` names the scope in messages.
    """
    total = accounts.height
    for measure, text in formulas.items():
        values = accounts[measure]
        finite = values.is_finite().fill_null(False)
        bad = ~finite
        if bad.any():
            problem = "a value that is not a finite number (infinite or undefined)"
            hint = (
                "Guard what can be 0 or overflow: a divisor or log's argument with max(), "
                "e.g. log(max(annual_revenue, 1)) or annual_revenue / max(number_of_employees, "
                "1), and large powers with min(); or keep such accounts out of the parent."
            )
        else:
            bad = values < 0
            if not bad.any():
                if math.isfinite(float(values.sum())):
                    continue
                raise FormulaError(
                    text,
                    f"the {measure} of the {plural(total, 'account')} under {where} adds up "
                    "to more than a number can hold",
                    option=f"--{measure}",
                    hint="Scale the formula down (divide it, or use sqrt() or log1p()).",
                )
            problem = "a negative value"
            hint = (
                "A measure must be 0 or more: guard the formula with max(), "
                f"e.g. max({text}, 0), or correct those accounts."
            )
        example = accounts.filter(bad).row(0, named=True)
        fields = formula_columns(text, catalog)
        inputs = ", ".join(f"{w} {_number(example.get(c))}" for w, c in fields.items())
        raise FormulaError(
            text,
            f"{int(bad.sum()):,} of the {plural(total, 'account')} under {where} get {problem}, "
            f"e.g. account {_account(example)} ({inputs + ' gives ' if inputs else ''}{measure} "
            f"{_number(example[measure])})",
            option=f"--{measure}",
            hint=hint,
        )


def check_locations(accounts: pl.DataFrame, *, where: str) -> int:
    """Refuse accounts whose coordinates are out of range, and accounts without
    coordinates that no located account in the same country shares the first 3 characters
    of the postal code with (the carve places an account without coordinates at the centre
    of its postal code's accounts, else of its 3-character postal area's).

    Returns how many accounts have no coordinates (placed by postal code).
    """
    lat, lon = pl.col("latitude"), pl.col("longitude")
    located = lat.is_not_null() & lon.is_not_null()
    wrong = accounts.filter(located & ~(lat.is_between(-90, 90) & lon.is_between(-180, 180)))
    if wrong.height:
        example = wrong.row(0, named=True)
        raise ValidationError(
            f"{plural(wrong.height, 'account')} under {where} "
            f"{'has' if wrong.height == 1 else 'have'} coordinates out of range, e.g. account "
            f"{_account(example)} at latitude {_number(example['latitude'])}, longitude "
            f"{_number(example['longitude'])}.",
            hint="Latitude is within ±90 and longitude within ±180 degrees: correct them "
            "('territorial account set ID BillingLatitude=LAT BillingLongitude=LON').",
        )
    area = (
        pl.col("billing_country_code").fill_null("")
        + ":"
        + pl.col("billing_postal_code").str.strip_chars().str.to_uppercase().str.slice(0, 3)
    )
    placed = accounts.with_columns(
        ok=located, area_located=area.is_not_null() & located.any().over(area)
    )
    lost = placed.filter(~pl.col("ok") & ~pl.col("area_located").fill_null(False))
    if lost.height:
        example = lost.row(0, named=True)
        postal = example.get("billing_postal_code") or "none"
        raise ValidationError(
            f"{plural(lost.height, 'account')} under {where} "
            f"{'has' if lost.height == 1 else 'have'} no coordinates and no account with "
            f"coordinates shares {'its' if lost.height == 1 else 'their'} postal area to "
            f"place {'it' if lost.height == 1 else 'them'} by, e.g. account "
            f"{_account(example)} (postal code {postal}).",
            hint="Set their coordinates ('territorial account set ID BillingLatitude=LAT "
            "BillingLongitude=LON'), or move them out of the parent.",
        )
    return int(placed.filter(~pl.col("ok")).height)


def _account(row: Mapping[str, object]) -> str:
    name = row.get("name")
    return f"{row['id']} {name!r}" if name else str(row["id"])


def _number(value: object) -> str:
    if value is None:
        return "empty (counts as 0)"
    if isinstance(value, float) and math.isnan(value):
        return "undefined (NaN)"
    if isinstance(value, float) and math.isinf(value):
        return "infinite" if value > 0 else "-infinite"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return f"{value:,.0f}"
    if isinstance(value, float):
        return f"{value:,.6g}"
    return str(value)


__all__ = ["DEFAULT_TOLERANCE", "check_locations", "check_measures", "check_options", "tolerances"]
