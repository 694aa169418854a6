"""Charts rendered offline with Matplotlib's Agg backend: PNG or SVG files, or SVG text
that a web page or an HTML packet can inline.

Nothing is downloaded: Matplotlib ships its fonts; figures are built as plain ``Figure``
objects (no ``pyplot`` state) and the backend is forced to Agg, so no display is needed.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import matplotlib.ticker
import polars as pl
from matplotlib.figure import Figure

from territorial.errors import ValidationError

matplotlib.use("Agg", force=True)

BAND = 0.10
"""The target band drawn around the mean: ±10 %."""

_STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # real text in SVG, not paths
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
}
_BAR, _OUTSIDE, _GAIN, _LOSS = "#4c78a8", "#e45756", "#54a24b", "#e45756"


def _style() -> Any:
    return matplotlib.rc_context(_STYLE)  # type: ignore[arg-type]


def balance_figure(
    units: Sequence[str],
    values: Sequence[float],
    *,
    title: str = "",
    ylabel: str = "",
    band: float = BAND,
) -> Figure:
    """Bars per unit with the mean and the target band (mean ± ``band``); bars outside the
    band are red. The value axis reads 250k, 1.2M, 30B; the legend sits above the plot, at
    the right of the title, clear of the bars.

    Examples
    --------
    >>> fig = balance_figure(["A", "B"], [10.0, 12.0], title="accounts")
    >>> [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    ['target ±10%', 'mean 11']
    >>> [round(float(x), 1) for x in fig.axes[0].get_xlim()]  # no gap before the first bar
    [-0.6, 1.6]
    """
    mean = sum(values) / len(values) if values else 0.0
    low, high = mean * (1 - band), mean * (1 + band)
    with _style():
        fig = Figure(figsize=(max(6.0, 0.35 * len(units) + 2), 4.2), dpi=110)
        ax = fig.subplots()
        colors = [_BAR if low <= v <= high else _OUTSIDE for v in values]
        ax.bar(range(len(units)), values, color=colors)
        ax.axhspan(low, high, color="#72b7b2", alpha=0.25, label=f"target ±{band:.0%}")
        ax.axhline(mean, color="#333333", linewidth=1, label=f"mean {_short(mean)}")
        ax.set_xticks(range(len(units)), list(units), rotation=60, ha="right")
        # Half a bar gap at each end: the default 5 % margin grows with the number of bars.
        ax.set_xlim(-0.6, len(units) - 0.4)
        ax.set_title(title, loc="left")
        ax.set_ylabel(ylabel)
        ax.legend(
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            ncols=2,
            frameon=False,
            borderaxespad=0.2,
            fontsize=8,
        )
        ax.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(_short))
        fig.tight_layout()
    return fig


def lorenz_figure(lorenz: pl.DataFrame, *, title: str = "", gini: float | None = None) -> Figure:
    """The Lorenz curve (``population_share``, ``value_share``) against equality."""
    with _style():
        fig = Figure(figsize=(4.6, 4.4), dpi=110)
        ax = fig.subplots()
        ax.plot([0, 1], [0, 1], color="#999999", linestyle="--", linewidth=1, label="equality")
        ax.plot(lorenz["population_share"], lorenz["value_share"], color=_BAR, marker=".")
        ax.fill_between(
            lorenz["population_share"],
            lorenz["value_share"],
            lorenz["population_share"],
            color=_BAR,
            alpha=0.12,
        )
        label = title + (f" (Gini {gini:.3f})" if gini is not None else "")
        ax.set_title(label, loc="left")
        ax.set_xlabel("share of units (smallest first)")
        ax.set_ylabel("share of the total")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.legend(loc="upper left", frameon=False)
        fig.tight_layout()
    return fig


def gains_losses_figure(
    units: Sequence[str], gained: Sequence[float], lost: Sequence[float], *, title: str = ""
) -> Figure:
    """Horizontal bars per unit: gains to the right (green), losses to the left (red)."""
    with _style():
        fig = Figure(figsize=(6.4, max(1.6, 0.3 * len(units) + 1.0)), dpi=110)
        ax = fig.subplots()
        rows = range(len(units))
        ax.barh(rows, list(gained), color=_GAIN, label="gained")
        ax.barh(rows, [-v for v in lost], color=_LOSS, label="lost")
        ax.axvline(0, color="#333333", linewidth=0.8)
        ax.set_yticks(rows, list(units))
        ax.invert_yaxis()
        ax.set_title(title, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
        fig.tight_layout()
    return fig


def _short(value: float, _pos: object = None) -> str:
    """A number as people read it on an axis: three significant digits and a suffix.

    >>> [_short(v) for v in (0, 0.25, 950, 1200, 2.5e6, 30.99e9, 1.2e12, 4.56e15)]
    ['0', '0.25', '950', '1.2k', '2.5M', '31B', '1.2T', '4,560T']
    """
    for size, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return _digits(value / size) + suffix
    return _digits(value)


def _digits(value: float) -> str:
    """Three significant digits, never in exponent form."""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{float(f'{value:.3g}'):g}"


def svg_text(fig: Figure) -> str:
    """The figure as SVG text (no XML prolog), ready to inline in HTML."""
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    text = buffer.getvalue()
    return text[text.index("<svg") :]


def image_format(path: Path | str) -> str:
    """``png`` or ``svg`` from the file's extension; anything else is a ``ValidationError``
    (check it before long work that ends in drawing)."""
    suffix = Path(path).suffix.lower()
    if suffix not in (".png", ".svg"):
        raise ValidationError(
            f"Cannot draw a chart as {suffix or '(no extension)'!r} ({path}).",
            hint="Name the chart file .png or .svg.",
        )
    return suffix[1:]


def save(fig: Figure, path: Path | str) -> Path:
    """Write the figure to ``path``: ``.png`` or ``.svg`` by extension."""
    path = Path(path)
    fmt = image_format(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format=fmt)
    return path


__all__ = [
    "BAND",
    "balance_figure",
    "gains_losses_figure",
    "image_format",
    "lorenz_figure",
    "save",
    "svg_text",
]
