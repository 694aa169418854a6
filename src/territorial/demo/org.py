"""Demo accounts and opportunities: vectorised, heavy-tailed, seeded."""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt
import polars as pl

from territorial.demo.geo import sample_locations
from territorial.demo.ids import random_serials, salesforce_ids

REFERENCE_DATE = date(2026, 11, 1)
_EPOCH_DAYS = (REFERENCE_DATE - date(1970, 1, 1)).days

INDUSTRIES: dict[str, float] = {
    "Technology": 14, "Manufacturing": 12, "Healthcare": 9, "Financial Services": 8,
    "Retail": 8, "Consulting": 5, "Banking": 4, "Insurance": 4, "Energy": 4, "Education": 4,
    "Transportation": 4, "Construction": 4, "Biotechnology": 3, "Government": 3, "Media": 3,
    "Telecommunications": 3, "Hospitality": 3, "Food & Beverage": 3, "Utilities": 2,
    "Not For Profit": 2, "Other": 2,
}  # fmt: skip
ACCOUNT_TYPES = {"Prospect": 0.62, "Customer": 0.30, "Partner": 0.08}
STAGES = {  # stage -> probability (%)
    "Prospecting": 10.0, "Qualification": 20.0, "Needs Analysis": 30.0, "Proposal": 60.0,
    "Negotiation": 80.0, "Closed Won": 100.0, "Closed Lost": 0.0,
}  # fmt: skip
OPEN_STAGES = ("Prospecting", "Qualification", "Needs Analysis", "Proposal", "Negotiation")
DEAL_KINDS = ("New Business", "Expansion", "Renewal", "Upsell", "Pilot", "Platform Upgrade")

NAME_WORDS = (
    "Acme", "Apex", "Atlas", "Aurora", "Beacon", "Blue Ridge", "Bright", "Cedar", "Cobalt",
    "Crescent", "Delta", "Evergreen", "Falcon", "Granite", "Harbor", "Horizon", "Hudson",
    "Ironwood", "Juniper", "Keystone", "Liberty", "Lumen", "Meridian", "Northwind", "Nova",
    "Oakmont", "Pinnacle", "Pioneer", "Quantum", "Redwood", "Silverline", "Sterling", "Summit",
    "Titan", "Vertex", "Vista", "Willow", "Zenith", "Orion", "Riverbend",
)  # fmt: skip
NOUNS_BY_INDUSTRY: dict[str, tuple[str, ...]] = {
    "Technology": ("Software", "Systems", "Analytics", "Networks", "Labs", "Cloud"),
    "Manufacturing": ("Industries", "Manufacturing", "Machinery", "Components", "Works"),
    "Healthcare": ("Health", "Medical", "Care", "Clinics", "Health Partners"),
    "Financial Services": ("Capital", "Financial", "Investments", "Asset Management"),
    "Banking": ("Bank", "Bancorp", "Savings"),
    "Insurance": ("Insurance", "Assurance", "Mutual"),
    "Biotechnology": ("Biosciences", "Therapeutics", "Pharma", "Genomics"),
    "Government": ("County Services", "Public Works", "Agency"),
    "Education": ("University", "College", "Learning", "Academy"),
}
GENERIC_NOUNS = ("Group", "Holdings", "Partners", "Solutions", "Enterprises", "Company")
SUFFIX_BY_COUNTRY: dict[str, tuple[str, ...]] = {
    "US": ("Inc.", "LLC", "Corp.", "Co."), "CA": ("Inc.", "Ltd.", "Corp."),
    "GB": ("Ltd", "plc", "LLP"), "IE": ("Ltd", "DAC"), "DE": ("GmbH", "AG", "SE"),
    "AT": ("GmbH", "AG"), "CH": ("AG", "SA", "GmbH"), "FR": ("SA", "SAS", "SARL"),
    "NL": ("B.V.", "N.V."), "BE": ("NV", "SA", "BV"), "LU": ("S.A.", "S.à r.l."),
    "SE": ("AB",), "NO": ("AS", "ASA"), "DK": ("A/S", "ApS"), "FI": ("Oy", "Oyj"),
    "IS": ("ehf.", "hf."), "JP": ("K.K.", "Co., Ltd."), "AU": ("Pty Ltd", "Ltd"),
    "NZ": ("Ltd", "Limited"), "SG": ("Pte. Ltd.",), "IN": ("Pvt. Ltd.", "Ltd."),
    "HK": ("Limited", "Ltd."), "KR": ("Co., Ltd.", "Corp."), "MY": ("Sdn. Bhd.", "Berhad"),
    "MX": ("S.A. de C.V.",), "BR": ("Ltda.", "S.A."),
}  # fmt: skip


def _choice(rng: np.random.Generator, weights: dict[str, float], n: int) -> pl.Series:
    labels = pl.Series(list(weights))
    p = np.array(list(weights.values()), dtype=np.float64)
    return labels[pl.Series(rng.choice(len(p), size=n, p=p / p.sum()))]


def _pick_within(
    rng: np.random.Generator,
    keys: pl.Series,
    table: dict[str, tuple[str, ...]],
    default: tuple[str, ...],
) -> pl.Series:
    """For each key, a random element of ``table[key]`` (``default`` for other keys)."""
    groups = [*table.values(), default]
    flat = pl.Series([word for group in groups for word in group])
    counts = np.array([len(g) for g in groups])
    offsets = np.concatenate([[0], np.cumsum(counts)[:-1]])
    group = keys.replace_strict(
        list(table), range(len(table)), default=len(table), return_dtype=pl.Int64
    )
    g = group.to_numpy()
    picked = offsets[g] + (rng.random(len(g)) * counts[g]).astype(np.int64)
    return flat[pl.Series(picked)]


def _company_names(rng: np.random.Generator, industry: pl.Series, country: pl.Series) -> pl.Series:
    words = pl.Series(NAME_WORDS)[pl.Series(rng.integers(0, len(NAME_WORDS), len(industry)))]
    nouns = _pick_within(rng, industry.fill_null(""), NOUNS_BY_INDUSTRY, GENERIC_NOUNS)
    suffix = _pick_within(rng, country, SUFFIX_BY_COUNTRY, ("Ltd.",))
    return (
        pl.DataFrame({"w": words, "n": nouns, "s": suffix})
        .select(pl.concat_str("w", "n", "s", separator=" "))
        .to_series()
    )


def _revenue(
    rng: np.random.Generator, n: int
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Log-normal annual revenue (median 25M, heavy tail) and employees correlated with it."""
    revenue = np.clip(rng.lognormal(np.log(25e6), 1.8, n), 1e5, 6e11).round(-3)
    per_employee = rng.lognormal(np.log(250e3), 0.5, n)
    employees = np.maximum(1.0, (revenue / per_employee).round())
    revenue[rng.random(n) < 0.005] = np.nan
    employees[np.isnan(revenue) | (rng.random(n) < 0.01)] = np.nan
    return revenue, employees


STREETS = (
    "Main St",
    "Oak Ave",
    "Market St",
    "Park Blvd",
    "Industrial Way",
    "Commerce Dr",
    "Harbor Rd",
    "Station Rd",
    "High St",
    "Mill Ln",
    "Lakeview Dr",
    "Innovation Pkwy",
)


def _streets(n: int) -> pl.Series:
    """Plausible street lines, derived from the row number (no random draws, so adding
    them left every other generated value as it was)."""
    row = pl.int_range(n, eager=True)
    number = ((row * 7919) % 9899 + 1).cast(pl.String)
    name = (row % len(STREETS)).replace_strict(dict(enumerate(STREETS)), return_dtype=pl.String)
    return (number + " " + name).alias("billing_street")


def accounts_frame(rng: np.random.Generator, n: int) -> pl.DataFrame:
    """``n`` accounts without owners (``owner_id`` is null; see ``assign_owners``)."""
    places = sample_locations(rng, n)
    industry = _choice(rng, INDUSTRIES, n)
    industry = pl.select(
        pl.when(pl.lit(rng.random(n) < 0.02)).then(None).otherwise(industry)
    ).to_series()
    kind = _choice(rng, ACCOUNT_TYPES, n)
    revenue, employees = _revenue(rng, n)
    record_type = pl.select(
        pl.when(kind == "Partner")
        .then(pl.lit("Partner Account"))
        .otherwise(pl.lit("Business Account"))
    ).to_series()
    return (
        pl.DataFrame(
            {
                "id": salesforce_ids("001", random_serials(rng, n)),
                "name": _company_names(rng, industry, places["billing_country_code"]),
                "billing_street": _streets(n),
            }
        )
        .hstack(places)
        .with_columns(
            industry=industry,
            type=kind,
            record_type=record_type,
            annual_revenue=pl.Series(revenue).fill_nan(None),
            number_of_employees=pl.Series(employees).fill_nan(None),
            owner_id=pl.lit(None, pl.String),
            excluded_from_realign=pl.Series(rng.random(n) < 0.005),
        )
    )


def _opportunity_accounts(
    rng: np.random.Generator, accounts: pl.DataFrame
) -> npt.NDArray[np.int64]:
    """Row numbers of accounts with deals (customers and big accounts more often), repeated."""
    type_weight = accounts["type"].replace_strict({"Customer": 3.0, "Partner": 1.5}, default=1.0)
    size = np.log10(accounts["annual_revenue"].fill_null(1e6).to_numpy() / 1e6).clip(0, None)
    weight = type_weight.to_numpy() * (1.0 + size)
    rate = np.clip(0.05 * weight / max(float(weight.mean()) if len(weight) else 1.0, 1e-9), 0, 1)
    chosen = np.flatnonzero(rng.random(len(weight)) < rate)
    per_account = np.minimum(1 + rng.poisson(0.7, len(chosen)), 5)
    return np.repeat(chosen, per_account)


def _stages(rng: np.random.Generator, days: npt.NDArray[np.int64]) -> pl.Series:
    """Past deals mostly closed (some stale); later future deals are earlier in the funnel."""
    n = len(days)
    funnel = rng.beta(2.0, 2.0 + 3.0 * np.clip(days, 0, None) / 365.0, n)
    stage = np.minimum((funnel * len(OPEN_STAGES)).astype(np.int64), len(OPEN_STAGES) - 1)
    closed = (days < 0) & (rng.random(n) > 0.12)
    won = rng.random(n) < 0.45
    stage = np.where(closed, np.where(won, 5, 6), stage)
    return pl.Series([*OPEN_STAGES, "Closed Won", "Closed Lost"])[pl.Series(stage)]


def opportunities_frame(
    rng: np.random.Generator, accounts: pl.DataFrame, reps: pl.Series
) -> pl.DataFrame:
    """A few deals on some accounts, amounts growing with the account's revenue."""
    rows = _opportunity_accounts(rng, accounts)
    n = len(rows)
    on = accounts[pl.Series(rows)]
    days = rng.integers(-365, 366, n)
    stage = _stages(rng, days)
    revenue = on["annual_revenue"].fill_null(1e7).to_numpy()
    amount = np.maximum(
        1000.0, (25e3 * (revenue / 1e7) ** 0.45 * rng.lognormal(0, 0.7, n)).round(-2)
    )
    kind = pl.Series(DEAL_KINDS)[pl.Series(rng.integers(0, len(DEAL_KINDS), n))]
    other_rep = reps[pl.Series(rng.integers(0, len(reps), n))]
    return pl.DataFrame(
        {
            "id": salesforce_ids("006", random_serials(rng, n)),
            "account_id": on["id"],
            "name": on["name"] + " - " + kind,
            "amount": amount,
            "stage": stage,
            "probability": stage.replace_strict(STAGES, return_dtype=pl.Float64),
            "close_date": pl.Series(days + _EPOCH_DAYS, dtype=pl.Int32).cast(pl.Date),
            "is_closed": stage.is_in(["Closed Won", "Closed Lost"]),
            "is_won": stage == "Closed Won",
            "owner_id": on["owner_id"].zip_with(pl.Series(rng.random(n) < 0.9), other_rep),
            "excluded_from_territory_filter": pl.Series(rng.random(n) < 0.01),
        }
    )


__all__ = ["REFERENCE_DATE", "accounts_frame", "opportunities_frame"]
