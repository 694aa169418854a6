"""Words for people: counts with the noun in the right number, amounts and percentages with
the digits they need."""

from __future__ import annotations

import math
from collections.abc import Iterable

LARGE = 1e4
"""From here on an amount reads best as a whole number: its decimals are noise."""


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``, ``1,000 accounts``; ``many`` for irregular plurals.

    >>> plural(1, "item"), plural(0, "rule"), plural(1200, "territory", "territories")
    ('1 item', '0 rules', '1,200 territories')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def number(value: float, decimals: int = 0, *, sign: bool = False) -> str:
    """A number with its digits grouped and a fixed number of decimals (a table column).

    >>> number(286515341000.0), number(0.0691 * 100, 1), number(-65.44, 1, sign=True)
    ('286,515,341,000', '6.9', '-65.4')
    """
    return f"{value:{'+' if sign else ''},.{decimals}f}"


def amount_decimals(values: Iterable[float]) -> int:
    """The decimals a column of amounts needs: none for counts (every value whole) and large
    amounts (10,000 or more), two otherwise.

    >>> amount_decimals([357.0, 1253.0]), amount_decimals([2.8e11, 6.4e11 + 0.5])
    (0, 0)
    >>> amount_decimals([480.25, 1012.5]), amount_decimals([])
    (2, 0)
    """
    shown = [abs(v) for v in values if v is not None and math.isfinite(v)]
    if all(v.is_integer() for v in shown) or max(shown, default=0.0) >= LARGE:
        return 0
    return 2


def amount(value: float) -> str:
    """An amount in a sentence: digits grouped when large, 4 significant otherwise.

    >>> amount(34990000000.0), amount(12.345678), amount(0.5)
    ('34,990,000,000', '12.35', '0.5')
    """
    return number(value) if abs(value) >= LARGE else f"{value:.4g}"


def percent(fraction: float, *, sign: bool = False, symbol: bool = True) -> str:
    """A fraction as a percentage with the digits it needs: one decimal, more below 1 %
    (two significant digits), and no trailing zeros; ``symbol=False`` leaves out the ``%``
    (for a column whose header says it).

    >>> percent(0.05), percent(0.001), percent(0.0523, sign=True), percent(0.00012)
    ('5%', '0.1%', '+5.2%', '0.012%')
    >>> percent(0.0), percent(-0.1, sign=True), percent(1 / 3), percent(0.001, symbol=False)
    ('0%', '-10%', '33.3%', '0.1')
    """
    value = 100 * fraction
    size = abs(value)
    decimals = 1 if size >= 1 or size == 0 else min(10, 1 - math.floor(math.log10(size)))
    text = f"{value:{'+' if sign else ''}.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%" if symbol else text


__all__ = ["LARGE", "amount", "amount_decimals", "number", "percent", "plural"]
