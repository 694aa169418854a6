"""Offline maps of a carve: accounts coloured by territory, with the territories' centres.

A plain scatter on longitude (scaled by the cosine of the median latitude, so distances
look right) and latitude, drawn with Matplotlib's Agg backend: no tiles, nothing
downloaded.

The main panel frames where most accounts are; small groups of accounts far from it
(Alaska and Hawaii beside the mainland, a few accounts abroad) are drawn in inset panels
beside it, so they neither squash the main panel into a corner nor disappear. Centres
carry numbers, placed so that they do not overlap, and a key beside the map gives each
number's territory, colour and accounts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Bbox
from scipy import ndimage

from territorial.io.charts import save

matplotlib.use("Agg", force=True)

MAX_POINTS = 60_000
"""At most this many accounts of the main panel are drawn (an even sample of more), to
keep files small; every account of an inset is drawn."""

MAX_INSETS = 4
"""At most this many inset panels; smaller remote groups beyond share the last one."""

KEY_MAX = 80
"""Centres are numbered, with a key beside the map, up to this many territories."""

MAIN_SHARE = 0.95
"""The main panel starts from the largest groups of accounts that hold this share."""

GROWTH = 1.5
"""A remote group joins the main panel when that grows its area at most this much."""

PALETTE = (
    # tab10, then ten more chosen so that no two of the twenty are closer (CIELAB
    # distance) than tab10's own closest pair; all dark enough to read on white.
    *("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd"),
    *("#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"),
    *("#1a237e", "#d500f9", "#3c4d03", "#800000", "#8fb67b"),
    *("#9a6200", "#fe828c", "#00796b", "#0165fc", "#ff0789"),
)
"""Twenty distinct territory colours; beyond twenty they repeat with another marker."""

MARKERS = ("o", "^", "s", "D")


@dataclass(frozen=True)
class Area:
    """One panel of a map: the accounts it holds (row numbers) and its extent."""

    rows: np.ndarray
    longitude: tuple[float, float]
    latitude: tuple[float, float]
    label: str = ""


def map_areas(
    latitude: np.ndarray,
    longitude: np.ndarray,
    *,
    regions: Sequence[str | None] | None = None,
    max_insets: int = MAX_INSETS,
) -> tuple[Area, list[Area]]:
    """Split located accounts into the main panel and inset panels for remote groups.

    Accounts are grouped by proximity (connected cells of a grid a fifteenth of the
    accounts' robust extent wide). The largest groups holding ``MAIN_SHARE`` of the
    accounts frame the main panel; another group joins it when it lies inside the frame
    or widens its area at most ``GROWTH`` times. What is left, regrouped on a coarser
    grid, becomes insets, largest first; ``regions`` (a state or country code per
    account) name them.

    Examples
    --------
    >>> lat = np.append(np.linspace(33.7, 34.3, 40), 21.3)  # 40 around LA, 1 in Honolulu
    >>> lon = np.append(np.linspace(-118.6, -117.9, 40), -157.9)
    >>> main, insets = map_areas(lat, lon, regions=["CA"] * 40 + ["HI"])
    >>> main.rows.size, [(a.rows.tolist(), a.label) for a in insets]
    (40, [([40], 'HI')])
    """
    n = len(latitude)
    if n == 0:
        return Area(np.arange(0), (-1.0, 1.0), (-1.0, 1.0)), []
    scale = _scale(latitude)
    x, y = longitude * scale, latitude
    low, high = np.quantile(x, [0.02, 0.98]), np.quantile(y, [0.02, 0.98])
    span = max(float(low[1] - low[0]), float(high[1] - high[0]), 1e-3)
    group = _groups(x, y, float(np.clip(span / 15, 0.02, 2.0)))
    sizes = np.bincount(group)
    order = np.argsort(-sizes, kind="stable")
    count = int(np.searchsorted(np.cumsum(sizes[order]), MAIN_SHARE * n)) + 1
    main = np.isin(group, order[:count])
    box = _box(x[main], y[main])
    rest = [g for g in order[count:]]
    while rest:  # absorb groups inside the frame or close enough, nearest first
        boxes = {g: _box(x[group == g], y[group == g]) for g in rest}
        near = min(rest, key=lambda g: (_gap(box, boxes[g]), g))
        joined = _union(box, boxes[near])
        if _area(joined, span) > GROWTH * _area(box, span) and _gap(box, boxes[near]) > 0:
            break
        box = joined
        main |= group == near
        rest.remove(near)
    insets: list[Area] = []
    outside = np.flatnonzero(~main)
    if outside.size:
        coarse = _groups(x[outside], y[outside], max(span / 4, 3.0))
        clusters = sorted(
            (outside[coarse == g] for g in range(int(coarse.max()) + 1)),
            key=lambda rows: (-rows.size, int(rows[0])),
        )
        if len(clusters) > max_insets:
            clusters[max_insets - 1 :] = [np.sort(np.concatenate(clusters[max_insets - 1 :]))]
        for rows in clusters:
            label = _label(rows, latitude, longitude, regions)
            insets.append(_area_of(rows, x, y, scale, label))
    return _area_of(np.flatnonzero(main), x, y, scale, ""), insets


def _scale(latitude: np.ndarray) -> float:
    """Longitude scale: cos of the median latitude (at least 0.2 near the poles)."""
    return max(float(np.cos(np.radians(np.median(latitude)))), 0.2)


def _groups(x: np.ndarray, y: np.ndarray, cell: float) -> np.ndarray:
    """Group number per point: connected (8-neighbour) occupied cells of a grid."""
    cell = max(cell, float(np.ptp(x)) / 2000, float(np.ptp(y)) / 2000)
    gx = ((x - x.min()) / cell).astype(np.int64)
    gy = ((y - y.min()) / cell).astype(np.int64)
    grid = np.zeros((int(gy.max()) + 1, int(gx.max()) + 1), dtype=bool)
    grid[gy, gx] = True
    labels, _ = ndimage.label(grid, structure=np.ones((3, 3), dtype=bool))
    return np.asarray(labels[gy, gx] - 1, dtype=np.int64)


Box = tuple[float, float, float, float]


def _box(x: np.ndarray, y: np.ndarray) -> Box:
    return float(x.min()), float(x.max()), float(y.min()), float(y.max())


def _union(a: Box, b: Box) -> Box:
    return min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3])


def _gap(a: Box, b: Box) -> float:
    """Distance between two boxes (0 when they touch or overlap)."""
    dx = max(b[0] - a[1], a[0] - b[1], 0.0)
    dy = max(b[2] - a[3], a[2] - b[3], 0.0)
    return float(np.hypot(dx, dy))


def _area(box: Box, span: float) -> float:
    """A box's area, each side at least a tenth of the accounts' robust extent."""
    least = span / 10
    return max(box[1] - box[0], least) * max(box[3] - box[2], least)


def _area_of(rows: np.ndarray, x: np.ndarray, y: np.ndarray, scale: float, label: str) -> Area:
    """The panel showing ``rows``, with a margin of 6 % (at least 0.05°) on every side."""
    x0, x1, y0, y1 = _box(x[rows], y[rows]) if rows.size else (-1.0, 1.0, -1.0, 1.0)
    margin = max(0.06 * max(x1 - x0, y1 - y0), 0.05)
    lon = ((x0 - margin) / scale, (x1 + margin) / scale)
    return Area(rows, lon, (y0 - margin, y1 + margin), label)


def _label(
    rows: np.ndarray,
    latitude: np.ndarray,
    longitude: np.ndarray,
    regions: Sequence[str | None] | None,
) -> str:
    """The most common regions of an inset ('AK', 'GB, FR +2'), else where it lies."""
    if regions is not None:
        named = pl.Series([regions[int(r)] for r in rows], dtype=pl.String).drop_nulls()
        named = named.filter(named.str.strip_chars() != "")
        if named.len():
            counts = named.value_counts(sort=True).sort(["count", ""], descending=[True, False])
            top = counts[""].to_list()
            more = f" +{len(top) - 2}" if len(top) > 2 else ""
            return ", ".join(top[:2]) + more
    lat, lon = float(np.median(latitude[rows])), float(np.median(longitude[rows]))
    return (
        f"near {abs(lat):.0f}°{'N' if lat >= 0 else 'S'} {abs(lon):.0f}°{'E' if lon >= 0 else 'W'}"
    )


def plan_map(
    plan: pl.DataFrame,
    centres: pl.DataFrame | None = None,
    *,
    title: str = "",
    column: str = "territory",
    region: str = "region",
) -> Figure:
    """Scatter of ``plan`` (``latitude``, ``longitude``, ``column``) coloured by territory,
    with ``centres`` (``territory``, ``latitude``, ``longitude``) as numbered crosses and a
    key of numbers, colours and accounts beside it. Remote accounts go to inset panels
    (see :func:`map_areas`), named by the plan's ``region`` column when it has one.

    Examples
    --------
    >>> plan = pl.DataFrame({"latitude": [37.0, 38.0], "longitude": [-122.0, -121.0],
    ...                      "territory": ["A", "B"]})
    >>> plan_map(plan).axes[0].get_xlabel()
    'longitude'
    """
    located = plan.drop_nulls(["latitude", "longitude"])
    lat = located["latitude"].cast(pl.Float64).to_numpy()
    lon = located["longitude"].cast(pl.Float64).to_numpy()
    regions = located[region].cast(pl.String).to_list() if region in located.columns else None
    main, insets = map_areas(lat, lon, regions=regions)
    names = sorted(set(located[column].drop_nulls().cast(pl.String)) | set(_names(centres)))
    index = {n: i for i, n in enumerate(names)}
    style = np.array(
        [index.get(t, 0) for t in located[column].cast(pl.String).fill_null("")], dtype=np.int64
    )
    keyed = 0 < len(names) <= KEY_MAX
    height = max(7.0, 1.6 + 0.14 * len(names)) if keyed else 7.0  # one key line per territory
    fig = Figure(figsize=(10.5, height) if keyed or insets else (8.0, 6.0), dpi=110)
    FigureCanvasAgg(fig)
    ax, key_ax, inset_axes = _layout(fig, keyed, len(insets), len(names))
    scale = _scale(lat) if lat.size else 1.0
    shown = main.rows
    if shown.size > MAX_POINTS:
        shown = shown[:: shown.size // MAX_POINTS + 1]
    _scatter(ax, lat[shown], lon[shown], style[shown], scale, main)
    for axis, area in zip(inset_axes, insets, strict=True):
        _scatter(axis, lat[area.rows], lon[area.rows], style[area.rows], scale, area)
        axis.set_title(f"{area.label}: {area.rows.size:,} accounts", fontsize=7, loc="left")
    total = plan.height
    subtitle = f"{len(names)} territories, {total:,} accounts"
    if insets:
        away = sum(a.rows.size for a in insets)
        subtitle += f"; {away:,} outside the main area, in the panels at right"
    if plan.height > located.height:
        subtitle += f"; {plan.height - located.height:,} without a location"
    ax.set_title(f"{title}\n{subtitle}" if title else subtitle, fontsize=9)
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    if centres is not None and centres.height:
        _centres(ax, inset_axes, insets, centres, index if keyed else None)
    if key_ax is not None:
        counts = dict(zip(*np.unique(style, return_counts=True), strict=True))
        _key(key_ax, names, {i: int(c) for i, c in counts.items()}, numbered=centres is not None)
    return fig


def _layout(
    fig: Figure, keyed: bool, insets: int, entries: int
) -> tuple[Axes, Axes | None, list[Axes]]:
    """The main axes, and the key and insets in a column at its right."""
    if not keyed and not insets:
        fig.subplots_adjust(left=0.1, right=0.97, bottom=0.09, top=0.9)
        return fig.add_subplot(), None, []
    grid = fig.add_gridspec(1, 2, width_ratios=(2.6, 1.0), left=0.07, right=0.98, wspace=0.12)
    grid.update(bottom=0.08, top=0.9)
    ax = fig.add_subplot(grid[0, 0])
    rows = ([max(entries, 2) * 0.2] if keyed else []) + [1.3] * insets
    column = grid[0, 1].subgridspec(len(rows), 1, height_ratios=rows, hspace=0.35)
    key_ax = fig.add_subplot(column[0, 0]) if keyed else None
    inset_axes = [fig.add_subplot(column[i + int(keyed), 0]) for i in range(insets)]
    if key_ax is not None:
        key_ax.set_axis_off()
    for axis in inset_axes:
        axis.tick_params(labelsize=6, length=2)
        axis.xaxis.set_major_locator(MaxNLocator(3))
        axis.yaxis.set_major_locator(MaxNLocator(3))
    return ax, key_ax, inset_axes


def _scatter(
    ax: Axes, lat: np.ndarray, lon: np.ndarray, style: np.ndarray, scale: float, area: Area
) -> None:
    """Accounts in the territories' colours (and markers beyond twenty), framed to ``area``."""
    colours = np.array(PALETTE)[style % len(PALETTE)]
    shapes = (style // len(PALETTE)) % len(MARKERS)
    for shape in np.unique(shapes):
        pick = shapes == shape
        size = 3 if shape == 0 else 7
        ax.scatter(lon[pick], lat[pick], s=size, c=colours[pick], linewidths=0,
                   marker=MARKERS[shape])  # fmt: skip
    ax.set_xlim(*area.longitude)
    ax.set_ylim(*area.latitude)
    ax.set_aspect(1.0 / scale, adjustable="box")


def _centres(
    ax: Axes,
    inset_axes: list[Axes],
    insets: list[Area],
    centres: pl.DataFrame,
    index: dict[str, int] | None,
) -> None:
    """Black crosses at the centres, numbered without overlaps when ``index`` is given."""
    rows = list(centres.select("territory", "latitude", "longitude").iter_rows())
    for axis, area in [(ax, None), *zip(inset_axes, insets, strict=True)]:
        inside = [
            (str(t), float(la), float(lo))
            for t, la, lo in rows
            if la is not None
            and lo is not None
            and (area is None or _within(area, float(la), float(lo)))
        ]
        if area is None:  # centres outside every inset stay on the main panel
            inside = [c for c in inside if not any(_within(a, c[1], c[2]) for a in insets)]
            _extend(axis, [c[1] for c in inside], [c[2] for c in inside])
        if not inside:
            continue
        axis.scatter([c[2] for c in inside], [c[1] for c in inside], marker="x", c="black",
                     s=28 if area is None else 18, linewidths=1.2, zorder=3)  # fmt: skip
        if index is not None:
            numbers = [str(index[t] + 1) for t, _, _ in inside]
            place_labels(axis, [(c[2], c[1]) for c in inside], numbers)


def _within(area: Area, lat: float, lon: float) -> bool:
    return (
        area.latitude[0] <= lat <= area.latitude[1]
        and area.longitude[0] <= lon <= area.longitude[1]
    )


def _extend(ax: Axes, lat: list[float], lon: list[float]) -> None:
    """Widen the main panel to hold every centre that belongs on it."""
    if not lat:
        return
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    ax.set_xlim(min(x0, min(lon) - 0.02 * (x1 - x0)), max(x1, max(lon) + 0.02 * (x1 - x0)))
    ax.set_ylim(min(y0, min(lat) - 0.02 * (y1 - y0)), max(y1, max(lat) + 0.02 * (y1 - y0)))


_DIRECTIONS = ((1, 1), (1, -1), (-1, 1), (-1, -1), (1, 0), (-1, 0), (0, 1), (0, -1))
_RINGS = (7.0, 14.0, 24.0, 36.0, 52.0, 72.0)  # points from the centre


def place_labels(ax: Axes, points: Sequence[tuple[float, float]], texts: Sequence[str]) -> None:
    """Annotate ``points`` (x, y in data units) with ``texts`` so that no two labels
    overlap each other or another point's marker, inside the axes where it can.

    Each label tries offsets on rings of growing radius in eight directions and takes
    the first free one; a label set apart from its point gets a thin leader line.
    Deterministic: the same points give the same picture.
    """
    fig = ax.get_figure()
    assert isinstance(fig, Figure)
    canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()  # type: ignore[no-untyped-call]
    ax.apply_aspect()
    px = fig.dpi / 72.0
    frame = ax.get_window_extent(renderer)
    anchors = ax.transData.transform(np.asarray(points, dtype=float).reshape(-1, 2))
    taken = [Bbox.from_bounds(a[0] - 4, a[1] - 4, 8, 8) for a in anchors]  # the markers
    pad = 2.0 * px
    for i, ((x, y), text) in enumerate(zip(anchors, texts, strict=True)):
        probe = ax.text(0, 0, text, fontsize=7, fontweight="bold")
        extent = probe.get_window_extent(renderer)
        probe.remove()
        w, h = extent.width / 2 + pad, extent.height / 2 + pad
        best: tuple[int, float, float, float, Bbox] | None = None
        for ring in _RINGS:
            for dx, dy in _DIRECTIONS:
                norm = np.hypot(dx, dy)
                ox = dx / norm * ring * px + np.sign(dx) * w
                oy = dy / norm * ring * px + np.sign(dy) * h
                box = Bbox.from_extents(x + ox - w, y + oy - h, x + ox + w, y + oy + h)
                others = [b for j, b in enumerate(taken) if j != i]
                clashes = sum(box.overlaps(b) for b in others) + 2 * int(not _inside(box, frame))
                if best is None or clashes < best[0]:
                    best = (clashes, ring, ox, oy, box)
                if clashes == 0:
                    break
            if best is not None and best[0] == 0:
                break
        assert best is not None
        _, ring, ox, oy, box = best
        far = ring > _RINGS[0]
        ax.annotate(
            text,
            (points[i][0], points[i][1]),
            xytext=(ox / px, oy / px),
            textcoords="offset points",
            ha="center",
            va="center",
            fontsize=7,
            fontweight="bold",
            bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "#555555", "lw": 0.5},
            arrowprops={"arrowstyle": "-", "lw": 0.5, "color": "#333333"} if far else None,
            zorder=4,
        )
        taken.append(box)


def _inside(box: Bbox, frame: Bbox) -> bool:
    return bool(
        box.x0 >= frame.x0 and box.x1 <= frame.x1 and box.y0 >= frame.y0 and box.y1 <= frame.y1
    )


def _key(ax: Axes, names: list[str], counts: dict[int, int], *, numbered: bool) -> None:
    """The key: number, colour (and marker) and accounts of each territory."""
    handles = [
        Line2D(
            [],
            [],
            linestyle="",
            marker=MARKERS[(i // len(PALETTE)) % len(MARKERS)],
            markersize=6,
            color=PALETTE[i % len(PALETTE)],
            label=(f"{i + 1}  " if numbered else "") + f"{name} ({counts.get(i, 0):,})",
        )
        for i, name in enumerate(names)
    ]
    ax.legend(
        handles=handles,
        loc="upper left",
        frameon=False,
        fontsize=6.5 if len(names) > 20 else 7.5,
        title="territory (accounts)",
        title_fontsize=7.5,
        alignment="left",
        borderaxespad=0.0,
        handletextpad=0.3,
        columnspacing=0.8,
    )


def _names(centres: pl.DataFrame | None) -> list[str]:
    return [] if centres is None else [str(t) for t in centres["territory"].to_list()]


def save_map(
    plan: pl.DataFrame, path: Path | str, centres: pl.DataFrame | None = None, *, title: str = ""
) -> Path:
    """Draw :func:`plan_map` into ``path`` (``.png`` or ``.svg``)."""
    return save(plan_map(plan, centres, title=title), path)


__all__ = [
    "KEY_MAX",
    "MAX_INSETS",
    "MAX_POINTS",
    "PALETTE",
    "Area",
    "map_areas",
    "place_labels",
    "plan_map",
    "save_map",
]
