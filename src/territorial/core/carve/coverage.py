"""Carved coverage of US postal codes that hold no account yet.

A carved territory's postal rule lists the 5-character postal codes (ZIP5) where it holds
most of the carved accounts, and a 3- or 4-character prefix (ZIP3, ZIP4) where all of them
went to one territory. A ZIP5 without an account at carve time, under a prefix split between
territories, matches no carved rule, and a new account there would land nowhere.
:func:`fill_coverage` gives every such US ZIP5 (from the offline ``zipcodes`` table,
:func:`us_zip_table`) the territory of the nearest carved ZIP5 around it, so every known
ZIP5 of a ZIP3 holding carved accounts has a territory. A ZIP3 area without carved accounts
in a state that holds some (by the table's state of the carved ZIP5s) goes whole to the
nearest carved territory, unless the caller says it is ``held``: it holds accounts of
another part of the hierarchy (another region's territory), which a carve must not claim.
:func:`open_areas` lists the ZIP3 areas of the carved states without carved accounts.
Other countries have no table and are left as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import numpy as np
import polars as pl
import zipcodes
from scipy.spatial import cKDTree

from territorial.core.carve.geo import EARTH_RADIUS_KM, to_xyz
from territorial.core.carve.units import postal_code

US = "US"
NEIGHBOURS = 4
"""Nearest carved ZIP5s looked at per empty ZIP5, to break ties in distance stably."""
_AREA_GAP_KM = 10.0 * EARTH_RADIUS_KM
"""Distance per number of a ZIP's area (its ZIP3 or ZIP4) on a fourth axis: more than any
distance on Earth, so a ZIP's nearest neighbours are those of its own area."""
_TIE_KM = 1e-6


@cache
def us_zip_table() -> pl.DataFrame:
    """Every US ZIP code the ``zipcodes`` package knows (any type, active or not), sorted,
    with ``lat`` and ``long`` in degrees (null where the package has no location, mostly
    military ZIP codes). Read once per process.

    >>> table = us_zip_table()
    >>> table.filter(pl.col("zip_code") == "94105").select("state", "lat").rows()
    [('CA', 37.7864)]
    """
    list_all: Callable[[], list[dict[str, Any]]] = zipcodes.list_all
    rows = list_all()
    keys = ("zip_code", "zip_code_type", "active", "city", "state", "county", "lat", "long")
    raw = pl.DataFrame({key: [row[key] for row in rows] for key in keys})
    lat, long = (pl.col(c).cast(pl.Float64, strict=False) for c in ("lat", "long"))
    known = lat.is_not_null() & long.is_not_null() & (lat != 0) & (long != 0)
    return raw.with_columns(
        pl.when(known).then(lat).alias("lat"), pl.when(known).then(long).alias("long")
    ).sort("zip_code")


def locate_by_zip(
    accounts: pl.DataFrame, *, zips: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, int]:
    """``accounts`` with the coordinates of US accounts that have none taken from their ZIP
    code's location in the table, and how many were placed so.

    >>> zips = pl.DataFrame({"zip_code": ["94105"], "lat": [37.79], "long": [-122.39]})
    >>> rows = pl.DataFrame({"billing_country_code": ["US", "US", "CA"],
    ...     "billing_postal_code": ["94105-1234", "99999", "94105"],
    ...     "latitude": [None, None, None], "longitude": [None, None, None]},
    ...     schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64})
    >>> placed, count = locate_by_zip(rows, zips=zips)
    >>> count, placed["latitude"].to_list()
    (1, [37.79, None, None])
    """
    missing = pl.col("latitude").is_null() | pl.col("longitude").is_null()
    us = pl.col("billing_country_code").fill_null("").str.strip_chars().str.to_uppercase() == US
    if accounts.is_empty() or not accounts.select((missing & us).any()).item():
        return accounts, 0
    table = (zips if zips is not None else us_zip_table()).select(
        zip5="zip_code", zip_lat="lat", zip_long="long"
    )
    found = accounts.with_columns(
        zip5=pl.when(missing & us).then(postal_code().str.slice(0, 5))
    ).join(table, on="zip5", how="left")
    take = missing & pl.col("zip_lat").is_not_null() & pl.col("zip_long").is_not_null()
    count = int(found.select(take.sum()).item())
    placed = found.with_columns(
        latitude=pl.when(take).then("zip_lat").otherwise("latitude"),
        longitude=pl.when(take).then("zip_long").otherwise("longitude"),
    ).drop("zip5", "zip_lat", "zip_long")
    return placed, count


def fill_coverage(
    carved: pl.DataFrame,
    *,
    zips: pl.DataFrame | None = None,
    held: pl.Series | None = None,
) -> pl.DataFrame:
    """``(country, prefix, territory)`` rows giving a territory to every known US ZIP5 that
    holds no carved accounts, in the ZIP3 areas that hold some, and in the ZIP3 areas of
    the carved states that hold none, except the ``held`` ones (ZIP3s).

    ``carved`` holds the carved ``(country, prefix, territory)`` rows, with ``latitude`` and
    ``longitude`` (degrees, may be null): where the accounts of each are, used for a carved
    ZIP5 that ``zips`` (``zip_code``, ``lat``, ``long``; by default :func:`us_zip_table`)
    does not locate. Distances are between ZIP locations.

    * A ZIP5 whose ZIP3 or ZIP4 holds carved ZIP5s that all went to one territory goes to
      that territory: the shared prefix covered it already, and still does.
    * Otherwise, a ZIP5 whose ZIP4 holds carved ZIP5s goes to the territory of the nearest
      of them.
    * A ZIP4 without carved ZIP5s, in a ZIP3 with some, goes whole to one territory: the
      one whose carved ZIP5s of that ZIP3 are nearest to most of its ZIP5s (ties: the
      nearer one, then the lower territory), so it compacts to one 4-character prefix.
    * A ZIP3 without carved ZIP5s (:func:`open_areas`, needs a ``state`` column in
      ``zips``), unless ``held``, goes whole to one territory: the one whose carved ZIP5s
      (anywhere) are nearest to most of its ZIP5s in the carved states (same ties), so it
      compacts to one 3-character prefix.

    Equally near carved ZIP5s at distinct places go to the lowest ZIP5, and carved ZIP5s at
    one place count as the lowest of them. ZIP5s under a carved 3- or 4-character unit
    already have a territory; ZIP5s without a location get none.

    >>> zips = pl.DataFrame({"zip_code": ["94101", "94102", "94103", "94111", "94112", "94301"],
    ...     "lat": [37.0, 37.05, 37.2, 37.3, 37.6, 37.0], "long": [-122.0] * 6})
    >>> carved = pl.DataFrame({"country": ["US", "US"], "prefix": ["94101", "94103"],
    ...     "territory": [0, 1], "latitude": [None, None], "longitude": [None, None]})
    >>> fill_coverage(carved, zips=zips).rows()
    [('US', '94102', 0), ('US', '94111', 1), ('US', '94112', 1)]
    """
    us = carved.filter(pl.col("country") == US)
    given = zips if zips is not None else us_zip_table()
    table = given.select(
        pl.col("zip_code").alias("prefix"),
        pl.col("lat").cast(pl.Float64),
        pl.col("long").cast(pl.Float64),
        state=pl.col("state") if "state" in given.columns else pl.lit(None, pl.String),
    )
    five = us.filter(pl.col("prefix").str.contains(r"^[0-9]{5}$"))
    located = _located(five, table)
    candidates = _uncovered(table, us)
    found = [_new_areas(_sources(located, us, table), candidates, us, table, held)]
    if not five.is_empty():
        one_way = _one_way(five, candidates)
        rest = candidates.join(one_way, on="prefix", how="anti")
        in_zip4 = _nearest(located, rest, 4)
        in_zip3 = _nearest(located, rest.join(in_zip4, on="prefix", how="anti"), 3)
        found += [one_way, in_zip4.select("prefix", "territory"), _whole(in_zip3, 4)]
    return (
        pl.concat(found)
        .sort("prefix")
        .select(
            pl.lit(US).alias("country"),
            "prefix",
            pl.col("territory").cast(carved.schema["territory"]),
        )
    )


def open_areas(carved: pl.DataFrame, *, zips: pl.DataFrame | None = None) -> pl.DataFrame:
    """``zip3, state`` of the ZIP3 areas without carved US rows whose state (the state of
    most of their ZIP5s) holds carved ones (the table's ``state`` of the carved ZIP5s, or
    of the ZIP5s under a carved 3- or 4-character unit): the areas :func:`fill_coverage`
    claims unless held. An area reaching a few ZIP5s into a carved state (Idaho's 834 has
    one in Wyoming) is its own state's.

    >>> zips = pl.DataFrame({"zip_code": ["94101", "95001", "97001", "97002", "97003"],
    ...     "lat": [37.0, 36.9, 45.0, 45.1, 45.2], "long": [-122.0, -122.0, -122.5, -122.6,
    ...     -122.7], "state": ["CA", "CA", "OR", "CA", "OR"]})
    >>> carved = pl.DataFrame({"country": ["US"], "prefix": ["94101"], "territory": [0]})
    >>> open_areas(carved, zips=zips).rows()
    [('950', 'CA')]
    """
    given = zips if zips is not None else us_zip_table()
    if "state" not in given.columns:
        return pl.DataFrame(schema={"zip3": pl.String, "state": pl.String})
    table = given.select(pl.col("zip_code").alias("prefix"), "state")
    us = carved.filter(pl.col("country") == US)
    states = _under(us, table).select("state").drop_nulls().unique()
    taken = us.select(zip3=pl.col("prefix").str.slice(0, 3)).unique()
    return (
        table.drop_nulls("state")
        .group_by(zip3=pl.col("prefix").str.slice(0, 3), state="state")
        .agg(zips=pl.len())
        .sort(["zip3", "zips", "state"], descending=[False, True, False])
        .unique("zip3", keep="first", maintain_order=True)
        .join(states, on="state", how="semi")
        .join(taken, on="zip3", how="anti")
        .select("zip3", "state")
        .sort("zip3", "state")
    )


def _under(us: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The table's rows under each carved US row (its ZIP5, or the ZIP5s of its 3- or
    4-character unit), with the carved row's ``territory`` (rows without one are left out)."""
    parts = []
    for size in (3, 4, 5):
        carved = us.filter(pl.col("prefix").str.len_chars() == size).select(
            head="prefix", territory="territory"
        )
        parts.append(
            table.with_columns(head=pl.col("prefix").str.slice(0, size))
            .join(carved, on="head")
            .drop("head")
        )
    return pl.concat(parts)


def _sources(located: pl.DataFrame, us: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Where each territory is: its located carved ZIP5s and the located ZIP5s of its
    carved 3- or 4-character units (``prefix, territory, lat, long``)."""
    units = us.filter(pl.col("prefix").str.len_chars() < 5)
    inside = _under(units, table).filter(pl.col("lat").is_not_null() & pl.col("long").is_not_null())
    return pl.concat(
        [
            located.select("prefix", pl.col("territory").cast(pl.Int64), "lat", "long"),
            inside.select("prefix", pl.col("territory").cast(pl.Int64), "lat", "long"),
        ]
    ).sort("prefix", "territory")


def _new_areas(
    sources: pl.DataFrame,
    candidates: pl.DataFrame,
    us: pl.DataFrame,
    table: pl.DataFrame,
    held: pl.Series | None,
) -> pl.DataFrame:
    """``prefix, territory`` of the candidates in the open, unheld ZIP3 areas
    (:func:`open_areas`), each area whole to the territory nearest to most of its ZIP5s in
    the carved states."""
    areas = open_areas(us, zips=table.rename({"prefix": "zip_code"}))
    if held is not None:
        areas = areas.filter(~pl.col("zip3").is_in(held.implode()))
    targets = candidates.with_columns(zip3=pl.col("prefix").str.slice(0, 3)).join(
        areas, on=["zip3", "state"], how="semi"
    )
    if sources.is_empty():
        return targets.select("prefix", territory=pl.lit(None, pl.Int64)).clear()
    return _whole(_nearest(sources, targets.drop("zip3"), 0), 3)


def _located(five: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """The carved ZIP5s with a place (the table's, else their accounts'), by ZIP5."""
    return (
        five.join(table, on="prefix", how="left")
        .select(
            "prefix",
            "territory",
            lat=pl.coalesce("lat", pl.col("latitude").cast(pl.Float64)),
            long=pl.coalesce("long", pl.col("longitude").cast(pl.Float64)),
        )
        .filter(pl.col("lat").is_not_null() & pl.col("long").is_not_null())
        .sort("prefix", "territory")
    )


def _uncovered(table: pl.DataFrame, us: pl.DataFrame) -> pl.DataFrame:
    """The table's located ZIP5s that are neither carved nor under a carved 3- or
    4-character unit."""
    candidates = table.filter(pl.col("lat").is_not_null() & pl.col("long").is_not_null())
    for size in (3, 4, 5):
        carved = us.filter(pl.col("prefix").str.len_chars() == size).select(head="prefix")
        candidates = candidates.join(
            carved, left_on=pl.col("prefix").str.slice(0, size), right_on="head", how="anti"
        )
    return candidates


def _one_way(five: pl.DataFrame, candidates: pl.DataFrame) -> pl.DataFrame:
    """``prefix, territory`` of the candidates whose ZIP3, else ZIP4, holds carved ZIP5s of
    one territory only: that territory."""
    found = []
    rest = candidates
    for size in (3, 4):
        head = pl.col("prefix").str.slice(0, size).alias("head")
        uniform = (
            five.group_by(head)
            .agg(
                pl.col("territory").first().cast(pl.Int64),
                pl.col("territory").n_unique().alias("count"),
            )
            .filter(pl.col("count") == 1)
        )
        hit = rest.with_columns(head).join(uniform, on="head").select("prefix", "territory")
        found.append(hit)
        rest = rest.join(hit, on="prefix", how="anti")
    return pl.concat(found)


def _nearest(located: pl.DataFrame, candidates: pl.DataFrame, size: int) -> pl.DataFrame:
    """``prefix, territory, distance`` (km) of each candidate whose area (first ``size``
    characters; all of them for 0) holds carved ZIP5s: the territory of the nearest of
    them."""
    area = (pl.col("prefix").str.slice(0, size) if size else pl.lit("0")).alias("area")
    sources = located.with_columns(area).unique(
        ["area", "lat", "long"], keep="first", maintain_order=True
    )
    targets = candidates.with_columns(area).join(sources, on="area", how="semi")
    if targets.is_empty():
        return pl.DataFrame(
            schema={"prefix": pl.String, "territory": pl.Int64, "distance": pl.Float64}
        )
    count = min(NEIGHBOURS, sources.height)
    distance, index = cKDTree(_points(sources)).query(_points(targets), count)
    distance = distance.reshape(targets.height, count)
    index = index.reshape(targets.height, count)
    tied = distance <= distance[:, :1] + _TIE_KM
    best = np.where(tied, index, sources.height).min(axis=1)
    return targets.select(
        "prefix",
        territory=sources["territory"].cast(pl.Int64).gather(best),
        distance=pl.Series(distance[:, 0]),
    )


def _whole(nearest: pl.DataFrame, size: int) -> pl.DataFrame:
    """The ZIP5s of each area (first ``size`` characters) all given the territory nearest
    to most of them (ties: the nearer one, then the lower territory)."""
    area = pl.col("prefix").str.slice(0, size).alias("area")
    votes = (
        nearest.group_by(area, "territory")
        .agg(pl.len().alias("n"), pl.col("distance").min())
        .sort(["area", "n", "distance", "territory"], descending=[False, True, False, False])
        .group_by("area", maintain_order=True)
        .first()
    )
    chosen = votes.select("area", chosen="territory")
    return nearest.with_columns(area).join(chosen, on="area").select("prefix", territory="chosen")


def _points(frame: pl.DataFrame) -> np.ndarray:
    """Each ZIP's place in km on the Earth's sphere, and its area far apart on a 4th axis."""
    xyz = to_xyz(frame["lat"].to_numpy(), frame["long"].to_numpy())
    area = frame["area"].cast(pl.Int64).to_numpy().astype(np.float64)
    return np.column_stack([xyz, area * _AREA_GAP_KM])


__all__ = ["fill_coverage", "locate_by_zip", "open_areas", "us_zip_table"]
