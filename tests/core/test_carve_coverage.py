"""Carved coverage of US ZIP codes without accounts (``fill_coverage``)."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from territorial.core.carve.coverage import fill_coverage, open_areas, us_zip_table
from territorial.core.carve.units import compact_prefixes

# Two ZIP3 areas on a line of longitude, 0.1 degree (11 km) apart per step.
ZIPS = pl.DataFrame(
    {
        "zip_code": ["94101", "94102", "94103", "94104", "94111", "94112", "94121", "94301"],
        "lat": [37.0, 37.1, 37.2, 37.3, 37.45, 37.9, None, 37.0],
        "long": [-122.0] * 8,
    }
)


def _carved(rows: list[tuple[str, str, int]], **places: tuple[float, float]) -> pl.DataFrame:
    """Carved ``(country, prefix, territory)`` rows; ``places`` locates a prefix's accounts."""
    return pl.DataFrame(
        {
            "country": [c for c, _p, _t in rows],
            "prefix": [p for _c, p, _t in rows],
            "territory": [t for _c, _p, t in rows],
            "latitude": [places.get(f"z{p}", (None, None))[0] for _c, p, _t in rows],
            "longitude": [places.get(f"z{p}", (None, None))[1] for _c, p, _t in rows],
        },
        schema_overrides={"latitude": pl.Float64, "longitude": pl.Float64},
    )


def test_empty_zip5_goes_to_the_nearest_carved_zip5_of_its_area() -> None:
    carved = _carved([("US", "94101", 0), ("US", "94104", 1)])
    filled = fill_coverage(carved, zips=ZIPS)
    # 94102 is nearer 94101, 94103 nearer 94104; the empty ZIP4 9411 goes whole to the
    # territory nearest to most of its ZIP5s (1: 94111 and 94112 are both nearer 94104).
    # 94121 has no place and 943 no carved ZIP5: neither gets a territory.
    assert filled.rows() == [
        ("US", "94102", 0),
        ("US", "94103", 1),
        ("US", "94111", 1),
        ("US", "94112", 1),
    ]
    assert filled.schema == pl.Schema(
        {"country": pl.String, "prefix": pl.String, "territory": pl.Int64}
    )


def test_a_zip4_that_went_one_way_keeps_its_codes() -> None:
    """94104 is nearer 94111 (territory 1), but its ZIP4 went wholly to 0: the ZIP4 prefix
    already covered it, and the fill leaves it there."""
    carved = _carved([("US", "94101", 0), ("US", "94103", 0), ("US", "94111", 1)])
    filled = fill_coverage(carved, zips=ZIPS)
    assert filled.filter(pl.col("prefix") == "94104")["territory"].to_list() == [0]
    rules = compact_prefixes(pl.concat([carved.select("country", "prefix", "territory"), filled]))
    assert rules.rows() == [("US", "9410", 0), ("US", "9411", 1)]


def test_ties_go_to_the_lowest_zip5() -> None:
    carved = _carved([("US", "94103", 1), ("US", "94101", 0)])
    assert fill_coverage(carved, zips=ZIPS).row(0) == ("US", "94102", 0)
    # Carved ZIP5s at one place count as the lowest of them.
    twins = ZIPS.with_columns(
        lat=pl.when(pl.col("zip_code") == "94104").then(37.0).otherwise("lat")
    )
    carved = _carved([("US", "94104", 1), ("US", "94101", 0)])
    assert fill_coverage(carved, zips=twins).row(0) == ("US", "94102", 0)


def test_other_countries_units_and_unlocated_codes() -> None:
    # A 3-character unit covers its ZIP5s already; other countries have no table.
    carved = _carved([("US", "943", 0), ("CA", "94101", 1), ("DE", "94103", 2)])
    assert fill_coverage(carved, zips=ZIPS).is_empty()
    # A carved ZIP5 the table does not locate sits where its accounts are.
    carved = _carved([("US", "94105", 0), ("US", "94101", 1)], z94105=(37.25, -122.0))
    filled = fill_coverage(carved, zips=ZIPS)
    assert dict(filled.select("prefix", "territory").iter_rows()) == {
        "94102": 1, "94103": 0, "94104": 0, "94111": 0, "94112": 0,
    }  # fmt: skip
    # One without any place still holds its ZIP4 when the ZIP4 went one way.
    carved = _carved([("US", "94105", 0), ("US", "94111", 1)])
    filled = fill_coverage(carved, zips=ZIPS)
    assert dict(filled.select("prefix", "territory").iter_rows()) == {
        "94101": 0, "94102": 0, "94103": 0, "94104": 0, "94112": 1,
    }  # fmt: skip


def test_the_zip_table_is_read_once() -> None:
    table = us_zip_table()
    assert table is us_zip_table()
    assert table.height > 40_000 and table["zip_code"].is_sorted()


def _coverage(rules: pl.DataFrame, codes: list[str]) -> dict[str, list[int]]:
    """For each code, the territories whose prefixes cover it."""
    found: dict[str, list[int]] = {c: [] for c in codes}
    for _country, prefix, territory in rules.iter_rows():
        for code in codes:
            if code.startswith(prefix):
                found[code].append(territory)
    return found


@settings(max_examples=40, deadline=None)
@given(
    picks=st.lists(
        st.tuples(st.integers(0, 41), st.integers(0, 2)),
        min_size=1,
        max_size=12,
        unique_by=lambda p: p[0],
    ),
    seed=st.integers(0, 1000),
)
def test_fill_covers_every_located_code_and_changes_none_covered_before(
    picks: list[tuple[int, int]], seed: int
) -> None:
    """Over 36 ZIP5s in 2 ZIP3s (and 6 carved ZIP5s the table does not know): after
    filling, each ZIP5 of the table in a ZIP3 with carved ones is covered by exactly one
    compacted rule; a ZIP5 the rules covered before keeps its territory; and the order of
    the carved rows does not matter."""
    codes = [f"{area}{n:02d}" for area in ("941", "942") for n in range(18)]
    lat = [37.0 + (i * 7919 % 97) / 100 for i in range(42)]
    long = [-122.0 + (i * 104729 % 89) / 100 for i in range(42)]
    zips = pl.DataFrame({"zip_code": codes, "lat": lat[:36], "long": long[:36]})
    unknown = [f"{area}{n}" for area in ("941", "942") for n in (90, 91, 95)]
    every = codes + unknown
    places = {f"z{code}": (lat[i], long[i]) for i, code in enumerate(every) if i >= 36}
    carved = _carved([("US", every[i], t) for i, t in picks], **places)
    before = compact_prefixes(carved.select("country", "prefix", "territory"))
    filled = fill_coverage(carved, zips=zips)
    after = compact_prefixes(pl.concat([carved.select("country", "prefix", "territory"), filled]))
    areas = {every[i][:3] for i, _t in picks}
    old, new = _coverage(before, codes), _coverage(after, codes)
    for code in codes:
        assert len(new[code]) == (1 if code[:3] in areas else 0)
        assert not old[code] or old[code] == new[code]
    shuffled = fill_coverage(carved.sample(fraction=1.0, shuffle=True, seed=seed), zips=zips)
    assert shuffled.equals(filled)


def test_empty_zip3_of_a_carved_state_goes_whole_to_the_nearest_territory() -> None:
    """A ZIP3 without carved ZIP5s in a carved state is one prefix of the territory nearest
    to most of its ZIP5s; a held ZIP3 and a ZIP3 of another state stay unclaimed."""
    zips = pl.DataFrame(
        {
            "zip_code": ["94101", "94501", "95001", "95002", "95003", "95101", "97001"],
            "lat": [37.0, 38.0, 37.1, 37.2, 37.9, 37.5, 37.05],
            "long": [-122.0] * 7,
            "state": ["CA", "CA", "CA", "CA", "CA", "CA", "OR"],
        }
    )
    carved = _carved([("US", "94101", 0), ("US", "945", 1)])
    filled = fill_coverage(carved, zips=zips, held=pl.Series(["951"]))
    # 95001 and 95002 are nearer 94101 (0), 95003 nearer 94501 (1): 950 goes whole to 0.
    assert filled.rows() == [("US", "95001", 0), ("US", "95002", 0), ("US", "95003", 0)]
    rules = compact_prefixes(pl.concat([carved.select("country", "prefix", "territory"), filled]))
    assert ("US", "950", 0) in rules.rows()
    assert open_areas(carved, zips=zips).rows() == [("950", "CA"), ("951", "CA")]
