"""What a reader of a carve's map and balance chart can see: every account, on a panel
that frames it, labels that can be read, a legend clear of the bars."""

from __future__ import annotations

import itertools

import matplotlib.colors as mc
import numpy as np
import polars as pl
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PathCollection
from matplotlib.figure import Figure
from matplotlib.text import Annotation

from territorial.io.charts import balance_figure
from territorial.io.maps import MARKERS, PALETTE, map_areas, plan_map


def _west(seed: int = 0) -> pl.DataFrame:
    """Accounts in LA (four small territories), the Bay Area, Seattle and Phoenix, and a
    few in Hawaii and Alaska, as the demo's NA_West_Commercial has."""
    rng = np.random.default_rng(seed)
    places = [  # (lat, lon, spread, accounts, territory, region)
        (34.05, -118.25, 0.05, 300, "LA_1", "CA"),
        (34.10, -118.15, 0.05, 300, "LA_2", "CA"),
        (34.00, -118.35, 0.05, 300, "LA_3", "CA"),
        (33.95, -118.20, 0.05, 300, "LA_4", "CA"),
        (37.70, -122.20, 0.3, 500, "Bay", "CA"),
        (47.60, -122.30, 0.3, 400, "Seattle", "WA"),
        (33.45, -112.05, 0.3, 400, "Phoenix", "AZ"),
        (21.30, -157.85, 0.2, 20, "Bay", "HI"),
        (61.20, -149.90, 0.3, 15, "Seattle", "AK"),
    ]
    parts = [
        pl.DataFrame(
            {
                "latitude": lat + rng.normal(0, s, n),
                "longitude": lon + rng.normal(0, s, n),
                "territory": [t] * n,
                "region": [r] * n,
            }
        )
        for lat, lon, s, n, t, r in places
    ]
    return pl.concat(parts)


def _centres(plan: pl.DataFrame) -> pl.DataFrame:
    return plan.group_by("territory").agg(pl.col("latitude", "longitude").mean()).sort("territory")


def _points(fig: Figure, index: int) -> np.ndarray:
    """The accounts drawn on one panel (not the centres' crosses)."""
    offsets = [
        c.get_offsets()
        for c in fig.axes[index].collections
        if isinstance(c, PathCollection) and c.get_sizes()[0] < 10
    ]
    return np.concatenate(offsets) if offsets else np.zeros((0, 2))


def test_remote_accounts_get_insets_and_the_main_panel_frames_the_mainland() -> None:
    plan = _west()
    fig = plan_map(plan, _centres(plan), title="West")
    main, _key, *insets = fig.axes
    x0, x1 = main.get_xlim()
    y0, y1 = main.get_ylim()
    # Hawaii and Alaska are off the main panel, which spans the mainland accounts only.
    assert x0 > -130 and x1 < -108 and y0 > 31 and y1 < 50
    titles = sorted(ax.get_title(loc="left") for ax in insets)
    assert titles == ["AK: 15 accounts", "HI: 20 accounts"]
    hawaii = insets[[ax.get_title(loc="left") for ax in insets].index("HI: 20 accounts")]
    hx0, hx1 = hawaii.get_xlim()
    hy0, hy1 = hawaii.get_ylim()
    assert hx0 < -157.85 < hx1 and hy0 < 21.3 < hy1
    # Nothing is hidden: every account is drawn on exactly one panel.
    drawn = sum(len(_points(fig, i)) for i in range(len(fig.axes)) if i != 1)
    assert drawn == plan.height
    assert "35 outside the main area" in main.get_title()


def test_one_compact_area_needs_no_inset() -> None:
    plan = _west().filter(pl.col("region").is_in(["CA", "AZ"]))
    main, insets = map_areas(plan["latitude"].to_numpy(), plan["longitude"].to_numpy())
    assert insets == [] and main.rows.size == plan.height


def test_many_remote_places_share_at_most_four_insets() -> None:
    lat = np.concatenate([np.full(1000, 40.0) + np.linspace(0, 5, 1000), [10, -30, 60, 0, 50]])
    lon = np.concatenate([np.full(1000, -100.0) + np.linspace(0, 5, 1000), [150, 20, 90, -20, 0]])
    main, insets = map_areas(lat, lon)
    assert len(insets) == 4
    assert main.rows.size + sum(a.rows.size for a in insets) == lat.size
    assert insets[-1].rows.size == 2  # the two smallest share the last panel


def test_centre_labels_do_not_overlap_and_the_key_names_each_number() -> None:
    plan = _west()
    fig = plan_map(plan, _centres(plan))
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    main = fig.axes[0]
    labels = [t for t in main.texts if isinstance(t, Annotation)]
    assert sorted(t.get_text() for t in labels) == [str(i) for i in range(1, 8)]
    boxes = [t.get_bbox_patch().get_window_extent(renderer) for t in labels]  # type: ignore[union-attr]
    for a, b in itertools.combinations(boxes, 2):
        assert not a.overlaps(b)
    frame = main.get_window_extent(renderer)
    assert all(frame.x0 <= b.x0 and b.x1 <= frame.x1 for b in boxes)
    key = [t.get_text() for t in fig.axes[1].get_legend().get_texts()]  # type: ignore[union-attr]
    assert key[:4] == ["1  Bay (520)", "2  LA_1 (300)", "3  LA_2 (300)", "4  LA_3 (300)"]


def test_twenty_territories_have_distinct_colours_and_more_get_markers() -> None:
    lab = [_lab(c) for c in PALETTE]
    closest = min(float(np.linalg.norm(a - b)) for a, b in itertools.combinations(lab, 2))
    assert len(PALETTE) == 20 and closest >= 25  # CIELAB ΔE: clearly different
    n = 40  # the most that get a key
    plan = pl.DataFrame(
        {
            "latitude": np.repeat(np.linspace(30, 45, n), 3),
            "longitude": np.tile([-100.0, -99.9, -99.8], n) + np.repeat(np.arange(n) * 0.3, 3),
            "territory": np.repeat([f"T{i:02d}" for i in range(n)], 3),
        }
    )
    fig = plan_map(plan)
    handles = fig.axes[1].get_legend().legend_handles  # type: ignore[union-attr]
    styles = {(mc.to_hex(h.get_color()), h.get_marker()) for h in handles}  # type: ignore[union-attr]
    assert len(styles) == n and {m for _, m in styles} == set(MARKERS[:2])


def test_the_key_of_many_territories_fits_in_the_picture() -> None:
    """With 45 territories (60 with centres) every key line is drawn inside the picture."""
    for n in (45, 60):
        plan = pl.DataFrame(
            {
                "latitude": np.repeat(np.linspace(30, 45, n), 3),
                "longitude": np.tile([-100.0, -99.9, -99.8], n) + np.repeat(np.arange(n) * 0.3, 3),
                "territory": np.repeat([f"NA_East_Commercial_{i:02d}" for i in range(n)], 3),
            }
        )
        fig = plan_map(plan, _centres(plan) if n == 60 else None)
        renderer = FigureCanvasAgg(fig).get_renderer()
        fig.draw(renderer)
        legend = fig.axes[1].get_legend()
        assert legend is not None and len(legend.get_texts()) == n
        box, page = legend.get_window_extent(renderer), fig.bbox
        assert page.x0 <= box.x0 and box.x1 <= page.x1 and page.y0 <= box.y0 and box.y1 <= page.y1


def _lab(colour: str) -> np.ndarray:
    rgb = np.array(mc.to_rgb(colour))
    lin = np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)
    m = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]])
    xyz = m @ lin / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 0.008856, np.cbrt(xyz), 7.787 * xyz + 16 / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def test_balance_chart_legend_is_clear_of_the_bars() -> None:
    names = [f"NA_West_Commercial_{i:02d}" for i in range(1, 9)]
    fig = balance_figure(names, [28.0, 27.0, 26.9, 29.4, 29.1, 29.3, 28.2, 26.8], band=0.05)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent(renderer)  # type: ignore[union-attr]
    for bar in ax.patches:
        assert not legend.overlaps(bar.get_window_extent(renderer))
    assert not legend.overlaps(ax.title.get_window_extent(renderer))


@pytest.mark.parametrize("units", [3, 49])
def test_balance_chart_starts_and_ends_with_a_bar(units: int) -> None:
    fig = balance_figure([f"Rep {i}" for i in range(units)], [10.0] * units)
    renderer = FigureCanvasAgg(fig).get_renderer()
    fig.draw(renderer)
    ax = fig.axes[0]
    plot = ax.get_window_extent(renderer)
    bars = [bar.get_window_extent(renderer) for bar in ax.patches[:units]]
    width = bars[0].width
    # No empty stretch before the first bar or after the last: at most a quarter bar.
    assert bars[0].x0 - plot.x0 <= width / 4 + 1
    assert plot.x1 - bars[-1].x1 <= width / 4 + 1
