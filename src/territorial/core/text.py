"""Words for people: counts with the noun in the right number, percentages with the digits
they need."""

from __future__ import annotations

import math


def plural(n: int, word: str, many: str | None = None) -> str:
    """``1 item``, ``2 items``, ``1,000 accounts``; ``many`` for irregular plurals.

    >>> plural(1, "item"), plural(0, "rule"), plural(1200, "territory", "territories")
    ('1 item', '0 rules', '1,200 territories')
    """
    return f"{n:,} {word if n == 1 else (many or word + 's')}"


def percent(fraction: float, *, sign: bool = False) -> str:
    """A fraction as a percentage with the digits it needs: one decimal, more below 1 %
    (two significant digits), and no trailing zeros.

    >>> percent(0.05), percent(0.001), percent(0.0523, sign=True), percent(0.00012)
    ('5%', '0.1%', '+5.2%', '0.012%')
    >>> percent(0.0), percent(-0.1, sign=True), percent(1 / 3)
    ('0%', '-10%', '33.3%')
    """
    value = 100 * fraction
    size = abs(value)
    decimals = 1 if size >= 1 or size == 0 else min(10, 1 - math.floor(math.log10(size)))
    text = f"{value:{'+' if sign else ''}.{decimals}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return f"{text}%"


__all__ = ["percent", "plural"]
