"""Offline maps of a carve: accounts coloured by territory, with the territories' centres.

A plain scatter on longitude (scaled by the cosine of the mean latitude, so distances look
right) and latitude, drawn with Matplotlib's Agg backend: no tiles, nothing downloaded.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np
import polars as pl
from matplotlib.figure import Figure

from territorial.io.charts import save

matplotlib.use("Agg", force=True)

MAX_POINTS = 60_000
"""At most this many accounts are drawn (an even sample of more), to keep files small."""


def plan_map(
    plan: pl.DataFrame,
    centres: pl.DataFrame | None = None,
    *,
    title: str = "",
    column: str = "territory",
) -> Figure:
    """Scatter of ``plan`` (``latitude``, ``longitude``, ``column``) coloured by territory,
    with ``centres`` (``territory``, ``latitude``, ``longitude``) as labelled crosses.

    Examples
    --------
    >>> plan = pl.DataFrame({"latitude": [37.0, 38.0], "longitude": [-122.0, -121.0],
    ...                      "territory": ["A", "B"]})
    >>> plan_map(plan).axes[0].get_xlabel()
    'longitude'
    """
    shown = plan.drop_nulls(["latitude", "longitude"])
    if shown.height > MAX_POINTS:
        shown = shown.gather_every(shown.height // MAX_POINTS + 1)
    names = sorted(set(shown[column].drop_nulls().to_list()) | set(_names(centres)))
    index = {n: i for i, n in enumerate(names)}
    palette = _palette(len(names))
    colours = [palette[index.get(t, 0) % len(palette)] for t in shown[column].fill_null("")]
    lat0 = float(np.nanmean(shown["latitude"].to_numpy())) if shown.height else 0.0
    fig = Figure(figsize=(8.0, 6.0), dpi=110)
    ax = fig.subplots()
    ax.scatter(shown["longitude"], shown["latitude"], s=3, c=colours, linewidths=0)
    if centres is not None and centres.height:
        ax.scatter(centres["longitude"], centres["latitude"], marker="x", c="black", s=30)
        if centres.height <= 40:
            for t, lat, lon in centres.select("territory", "latitude", "longitude").iter_rows():
                ax.annotate(
                    str(t), (lon, lat), fontsize=6, xytext=(3, 3), textcoords="offset points"
                )
    ax.set_aspect(1.0 / max(np.cos(np.radians(lat0)), 0.2))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    ax.set_title(title or f"{len(names)} territories, {plan.height:,} accounts", fontsize=9)
    fig.tight_layout()
    return fig


def _palette(count: int) -> list[tuple[float, float, float, float]]:
    """Distinct colours: tab10 for up to ten territories, else tab20 dark shades first."""
    if count <= 10:
        return [matplotlib.colormaps["tab10"](i) for i in range(10)]
    tab20 = matplotlib.colormaps["tab20"]
    return [tab20(i) for i in (*range(0, 20, 2), *range(1, 20, 2))]


def _names(centres: pl.DataFrame | None) -> list[str]:
    return [] if centres is None else [str(t) for t in centres["territory"].to_list()]


def save_map(
    plan: pl.DataFrame, path: Path | str, centres: pl.DataFrame | None = None, *, title: str = ""
) -> Path:
    """Draw :func:`plan_map` into ``path`` (``.png`` or ``.svg``)."""
    return save(plan_map(plan, centres, title=title), path)


__all__ = ["MAX_POINTS", "plan_map", "save_map"]
